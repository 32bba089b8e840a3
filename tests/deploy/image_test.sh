#!/usr/bin/env bash
# The OCI image (deploy/container/): builds it from this build's binary, checks
# its configuration and size, then mounts it and runs its crashctl chrooted as
# the image's user, with the image's environment, a read-only root, /data and
# /tmp as the only writable places (as the Kubernetes manifests run it): every
# library resolves, `version`, `project create`, and `serve` on a loopback
# port answers /healthz and /readyz and stores a Sentry event.
#
#   image_test.sh SOURCE_DIR CRASHCTL_BINARY WORK_DIR BASE_TARBALL
#
# Containers cannot be started on every machine (crun needs a cgroup setup
# some do not have), so the test does what a runtime does by hand: mount
# namespace, bind mounts, chroot. Exit 77 (CTest SKIP_RETURN_CODE) without
# root, podman, unshare or curl, or when no base image can be made
# (mmdebstrap missing). CRASHCTL_TEST_IMAGE_BASE names an existing base
# image to use instead of the mmdebstrap one.
set -euo pipefail

source_dir="$1"
binary="$2"
work="$3"
base_tarball="$4"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step_start=$(date +%s)
step() {
  local now
  now=$(date +%s)
  echo "--- [$((now - step_start)) s] $*"
}

[ "$(id -u)" -eq 0 ] || skip "needs root (podman image mount, chroot)"
for tool in podman unshare chroot curl python3 mount; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
[ -x "$binary" ] || fail "no binary at $binary"
podman info >/dev/null 2>&1 || skip "podman does not work on this machine"
unshare --mount --propagation private true 2>/dev/null ||
  skip "no mount namespaces here (unshare --mount failed)"

base="${CRASHCTL_TEST_IMAGE_BASE:-localhost/crashctl-base:bookworm}"
if ! podman image exists "$base"; then
  [ -z "${CRASHCTL_TEST_IMAGE_BASE:-}" ] || fail "no image $base"
  if [ ! -s "$base_tarball" ] && ! command -v mmdebstrap >/dev/null 2>&1; then
    skip "no base image $base and mmdebstrap is not installed to make one"
  fi
  step "making the base image $base"
  bash "$source_dir/deploy/container/base.sh" --tarball "$base_tarball" --tag "$base"
fi

tag="localhost/crashctl-ctest:$$"
rm -rf "$work"
mkdir -p "$work"
mnt=""
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  if [ -n "$mnt" ]; then
    # Anything still chrooted into the image (only this test's processes).
    for proc in /proc/[0-9]*; do
      [ "$(readlink "$proc/root" 2>/dev/null)" = "$mnt" ] && kill -KILL "${proc#/proc/}" 2>/dev/null
    done
    podman image unmount "$tag" >/dev/null 2>&1 || true
  fi
  podman rmi "$tag" >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "building $tag from $binary"
bash "$source_dir/deploy/container/build.sh" --binary "$binary" --tag "$tag" \
  --base "$base" --context "$work/context" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "image build failed"; }
grep -q '^crashctl ' "$work/build.log" ||
  fail "the build stage's chroot check did not print the version"

step "configuration"
version="$("$binary" version | awk '{print $2}')"
podman image inspect "$tag" --format '{{json .Config}}' >"$work/config.json"
python3 - "$work/config.json" "$version" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
version = sys.argv[2]
errors = []
def want(cond, what):
    if not cond:
        errors.append(what)
want(c.get("User") == "65532:65532", f"User {c.get('User')!r}, want 65532:65532")
want(c.get("Entrypoint") == ["/usr/bin/crashctl"], f"Entrypoint {c.get('Entrypoint')}")
want(c.get("Cmd") == ["serve"], f"Cmd {c.get('Cmd')}")
want("9190/tcp" in (c.get("ExposedPorts") or {}), "port 9190/tcp not exposed")
want("/data" in (c.get("Volumes") or {}), "no VOLUME /data")
want("CRASHCTL_STORAGE_PATH=/data" in (c.get("Env") or []), "no CRASHCTL_STORAGE_PATH=/data")
labels = c.get("Labels") or {}
for key in ("title", "description", "version", "source", "licenses", "revision"):
    value = labels.get("org.opencontainers.image." + key, "")
    want(value != "", f"label org.opencontainers.image.{key} missing")
want(labels.get("org.opencontainers.image.version") == version,
     f"version label {labels.get('org.opencontainers.image.version')!r}, want {version!r}")
if errors:
    print("\n".join("FAIL: " + e for e in errors), file=sys.stderr)
    sys.exit(1)
EOF

step "size"
sizes="$(bash "$source_dir/deploy/container/size.sh" "$tag")"
echo "$sizes"
compressed="$(sed -n 's/^compressed_bytes=\([0-9]*\).*/\1/p' <<<"$sizes")"
[ -n "$compressed" ] || fail "no size from size.sh"
((compressed < 30000000)) || fail "image is $compressed bytes compressed, budget 30000000"

step "mounting the image"
mnt="$(podman image mount "$tag")"
[ -d "$mnt/usr" ] || fail "podman image mount gave $mnt"
user="$(podman image inspect "$tag" --format '{{.Config.User}}')"
mapfile -t image_env < <(podman image inspect "$tag" --format '{{range .Config.Env}}{{println .}}{{end}}' | sed '/^$/d')

# Layout: the binary and its libraries, no shell, no package manager, no
# unversioned libssl.so (the -dev symlink Debian's civetweb would dlopen for
# TLS), the CA bundle, the user, a data directory the user owns.
[ -x "$mnt/usr/bin/crashctl" ] || fail "no /usr/bin/crashctl"
for absent in bin/sh usr/bin/sh usr/bin/apt-get usr/bin/dpkg; do
  [ ! -e "$mnt/$absent" ] || fail "/$absent is in the image"
done
if find "$mnt" -name 'libssl.so' -o -name 'libcrypto.so' | grep -q .; then
  fail "an unversioned libssl.so/libcrypto.so is in the image"
fi
[ -s "$mnt/etc/ssl/certs/ca-certificates.crt" ] || fail "no CA bundle"
grep -q "^crashctl:x:${user%%:*}:${user##*:}:" "$mnt/etc/passwd" ||
  fail "/etc/passwd has no crashctl user $user"
[ "$(stat -c %u:%g "$mnt/data")" = "$user" ] || fail "/data is not owned by $user"
[ -s "$mnt/var/lib/dpkg/status.d/libcivetweb1" ] || fail "no dpkg status for libcivetweb1"
[ -s "$mnt/usr/share/doc/libcurl4/copyright" ] || fail "no copyright file for libcurl4"

# Runs "$@" inside the image root: a private mount namespace with a
# read-only root, /data a bind mount of $work/data (the volume), tmpfs on
# /tmp (the emptyDir) and /dev (null, zero, full, random, urandom), /proc;
# as the image's user with exactly the image's environment.
mkdir -p "$work/data"
chown "$user" "$work/data"
# image_argv CMD... sets argv to the command line that runs CMD so.
image_argv() {
  argv=(unshare --mount --propagation private /bin/sh -ec '
    mnt="$1"; data="$2"; shift 2
    mount --bind "$data" "$mnt/data"
    mount -t tmpfs -o mode=1777,size=64m tmpfs "$mnt/tmp"
    mount -t tmpfs -o mode=0755,size=1m tmpfs "$mnt/dev"
    for d in null zero full random urandom; do
      : >"$mnt/dev/$d"
      mount --bind "/dev/$d" "$mnt/dev/$d"
    done
    mount -t proc proc "$mnt/proc"
    exec "$@"
  ' sh "$mnt" "$work/data"
    /usr/bin/env -i "${image_env[@]}" "${extra_env[@]}"
    /usr/sbin/chroot --userspec="$user" "$mnt" "$@")
}
in_image() {
  image_argv "$@"
  "${argv[@]}"
}
extra_env=()

step "libraries (the image's own loader, in the image root)"
in_image /usr/lib64/ld-linux-x86-64.so.2 --list /usr/bin/crashctl >"$work/ldd.txt" 2>&1 ||
  { cat "$work/ldd.txt"; fail "the loader could not list the libraries"; }
if grep -q "not found" "$work/ldd.txt"; then
  cat "$work/ldd.txt"
  fail "unresolved libraries in the image"
fi
echo "$(grep -c '=>' "$work/ldd.txt") libraries resolved"

step "crashctl version"
out="$(in_image /usr/bin/crashctl version)"
[ "$out" = "crashctl $version" ] || fail "version printed \"$out\""

step "crashctl project create (data in /data from CRASHCTL_STORAGE_PATH)"
in_image /usr/bin/crashctl project create --name image-test >"$work/project.txt" ||
  fail "project create failed"
key="$(sed -n 's|^DSN: http://\([0-9a-f]*\)@.*|\1|p' "$work/project.txt")"
project_id="$(sed -n 's|^DSN: http://.*/\([0-9]*\)$|\1|p' "$work/project.txt")"
[ -n "$key" ] && [ -n "$project_id" ] || { cat "$work/project.txt"; fail "no DSN printed"; }
[ -s "$work/data/crashctl.db" ] || fail "no crashctl.db in the data volume"

step "crashctl serve (image default command, loopback port)"
token="image-test-token"
extra_env=("CRASHCTL_AUTH_ADMIN_TOKEN=$token")
# Every program in the chain execs the next: $! is crashctl's process.
: >"$work/serve.log"
image_argv /usr/bin/crashctl serve --listen 127.0.0.1:0
"${argv[@]}" >"$work/serve.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's/.* serving on .* (port \([0-9]*\)).*/\1/p' "$work/serve.log")"
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; fail "serve exited"; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/serve.log"; fail "serve did not start within 10 s"; }
url="http://127.0.0.1:$port"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/healthz")" = 200 ] ||
  fail "/healthz did not answer 200"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/readyz")" = 200 ] ||
  fail "/readyz did not answer 200"
event_id="0123456789abcdef0123456789abcdef"
event='{"event_id":"'$event_id'","platform":"python","level":"error","exception":{"values":[{"type":"ImageTestError","value":"from the image test","stacktrace":{"frames":[{"module":"image.test","function":"run","lineno":1,"in_app":true}]}}]}}'
answer="$(curl -s --max-time 10 -H 'Content-Type: application/json' \
  --data "$event" "$url/api/v1/events?key=$key")"
[ "$answer" = '{"id":"'$event_id'"}' ] || fail "event not acknowledged: $answer"
groups="$(curl -s --max-time 10 -H "Authorization: Bearer $token" \
  "$url/api/v1/groups?project=$project_id")"
grep -q '"ImageTestError' <<<"$groups" || fail "the event's group is not listed: $groups"

kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" -eq 0 ] || { cat "$work/serve.log"; fail "serve exited with $status after SIGTERM"; }
# Start-up and shutdown say nothing alarming: no warning, error or critical
# line (an admin token is set, so not even the open-REST warning), and no
# word about TLS libraries.
if grep -Ei ' (warning|error|critical) |ssl|crypto' "$work/serve.log"; then
  fail "serve logged the lines above"
fi
cat "$work/serve.log"

step "done"
