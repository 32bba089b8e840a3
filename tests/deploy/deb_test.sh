#!/usr/bin/env bash
# The Debian package (cmake/packaging.cmake): packages this build with
# cpack, then checks
#   1. dpkg-deb --info/--contents: name, version, Depends (no -dev package,
#      a package for every library the binary links, adduser), the
#      conffile, the maintainer scripts, the files and their modes;
#   2. the extracted binary runs (`crashctl version`);
#   3. lintian: no error (warnings printed);
#   4. systemd-analyze verify on the unit, and its offline security score;
#   5. as root, with a Debian bookworm root (the image test's mmdebstrap
#      tarball, made here if missing): apt installs the package from its
#      Depends alone, postinst makes the crashctl user, /var/lib/crashctl
#      and the enablement symlink; as that user with the packaged
#      configuration `project create` writes /var/lib/crashctl and `serve`
#      answers /healthz; a reinstall keeps a changed conffile and the data;
#      apt purges it without a trace.
#
#   deb_test.sh SOURCE_DIR BUILD_DIR WORK_DIR BASE_TARBALL CPACK
#
# Exit 77 (CTest SKIP_RETURN_CODE) when dpkg-deb or dpkg-shlibdeps is
# missing. Steps 3-5 are skipped (and say so) without lintian,
# systemd-analyze, or root and mmdebstrap/the tarball. Step 5 fetches the
# package's dependencies from deb.debian.org (about 6 MB).
set -euo pipefail

source_dir="$1"
build_dir="$2"
work="$3"
base_tarball="$4"
cpack="$5"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
t0=$(date +%s)
step() { echo "--- [$(($(date +%s) - t0)) s] $*"; }

for tool in dpkg-deb dpkg-shlibdeps dpkg-query readelf python3; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
[ -x "$build_dir/cmd/crashctl" ] || fail "no $build_dir/cmd/crashctl"

rm -rf "$work"
mkdir -p "$work/out"
chroot_dir="$work/chroot"
check_pid=""
# Ends every process chrooted into $1 (only this test's own have that root).
kill_rooted_in() {
  local proc
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$1" ] && kill -KILL "${proc#/proc/}" 2>/dev/null
  done
  return 0
}
cleanup() {
  # The root's mounts live in the private mount namespace of its
  # processes: end them, then remove the files.
  if [ -d "$chroot_dir" ]; then
    kill_rooted_in "$(readlink -f "$chroot_dir")"
    if [ -n "$check_pid" ]; then wait "$check_pid" 2>/dev/null || true; fi
    rm -rf "$chroot_dir"
  fi
}
trap cleanup EXIT

step "cpack -G DEB"
(cd "$build_dir" && "$cpack" -G DEB -B "$work/out") >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack failed"; }
deb="$(ls "$work/out"/crashctl_*.deb)"
version="$("$build_dir/cmd/crashctl" version | awk '{print $2}')"
arch="$(dpkg --print-architecture)"
[ "$(basename "$deb")" = "crashctl_${version}-1_${arch}.deb" ] ||
  fail "package file $(basename "$deb"), want crashctl_${version}-1_${arch}.deb"
echo "$deb: $(stat -c %s "$deb") bytes"

step "dpkg-deb --info"
field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = crashctl ] || fail "Package: $(field Package)"
[ "$(field Version)" = "${version}-1" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
description="$(field Description)"
[ "$(wc -l <<<"$description")" -ge 3 ] || fail "Description has no long part: $description"
depends="$(field Depends)"
echo "Depends: $depends"
# One package name per line, versions and alternatives dropped.
dep_names="$(tr ',|' '\n\n' <<<"$depends" | sed 's/(.*)//; s/[[:space:]]//g' | sed '/^$/d')"
if grep -- '-dev$' <<<"$dep_names"; then fail "Depends names -dev packages"; fi
grep -qx adduser <<<"$dep_names" || fail "Depends lacks adduser (postinst)"
dpkg-deb --info "$deb" >"$work/info.txt"
for script in postinst prerm postrm conffiles md5sums; do
  grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\*? +$script( |$)" "$work/info.txt" ||
    fail "no $script in the control archive"
done
mkdir "$work/control"
dpkg-deb --control "$deb" "$work/control"
[ "$(cat "$work/control/conffiles")" = "/etc/crashctl/crashctl.yaml" ] ||
  fail "conffiles: $(cat "$work/control/conffiles")"
for script in postinst prerm postrm; do
  [ "$(stat -c %a "$work/control/$script")" = 755 ] || fail "$script is not 0755"
  sh -n "$work/control/$script" || fail "$script: shell syntax error"
done

step "dpkg-deb --contents"
dpkg-deb --contents "$deb" >"$work/contents.txt"
# mode owner path, one line per file that must be there.
while read -r mode path; do
  grep -qE "^$mode root/root +[0-9]+ [0-9-]+ [0-9:]+ \./$path\$" "$work/contents.txt" ||
    { cat "$work/contents.txt"; fail "no ./$path with mode $mode owned by root"; }
done <<'EOF'
-rwxr-xr-x usr/bin/crashctl
-rw-r--r-- etc/crashctl/crashctl.yaml
-rw-r--r-- lib/systemd/system/crashctl.service
-rw-r--r-- usr/share/doc/crashctl/copyright
-rw-r--r-- usr/share/doc/crashctl/changelog.Debian.gz
-rw-r--r-- usr/share/man/man1/crashctl.1.gz
EOF
# Nothing but crashctl's own files (no SDK headers, no other component).
if grep -vE '\./(usr/bin/crashctl|etc/crashctl/|lib/systemd/system/|usr/share/(doc|man|lintian)/|(etc|lib|usr|usr/bin|usr/share|lib/systemd)/$)' \
  "$work/contents.txt"; then
  fail "unexpected files in the package (above)"
fi

step "extracted binary"
dpkg-deb -x "$deb" "$work/root"
out="$("$work/root/usr/bin/crashctl" version)"
[ "$out" = "crashctl $version" ] || fail "version printed \"$out\""
# Every library the binary links comes from a package named in Depends.
ldd_out="$(ldd "$work/root/usr/bin/crashctl")"
libs=()
paths=()
while read -r lib; do
  path="$(awk -v l="$lib" '$1 == l && $2 == "=>" {print $3; exit}
    $1 ~ /^\// {n = split($1, part, "/"); if (part[n] == l) {print $1; exit}}' <<<"$ldd_out")"
  [ -n "$path" ] && [ "$path" != "not" ] || fail "cannot resolve $lib"
  libs+=("$lib")
  # dpkg knows a file by the path its package installed it at: on a
  # usr-merged system /lib/... where ldd may say /usr/lib/... or /lib64/...
  real="$(readlink -f "$path")"
  paths+=("$path" "$real" "${real#/usr}")
done < <(readelf -d "$work/root/usr/bin/crashctl" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
declare -A owner=()
while IFS= read -r line; do
  owner["${line#*: }"]="${line%%: *}"
done < <(dpkg-query -S "${paths[@]}" 2>/dev/null || true)
i=0
for lib in "${libs[@]}"; do
  pkg=""
  for candidate in "${paths[@]:i:3}"; do
    [ -n "$pkg" ] || pkg="${owner[$candidate]:-}"
  done
  i=$((i + 3))
  pkg="${pkg%%:*}"
  [ -n "$pkg" ] || fail "$lib belongs to no package"
  # Named in Depends itself or through a virtual package it provides
  # (libspdlog1.10 provides libspdlog1.10-fmt9).
  provides="$(dpkg-query -W -f '${Provides}' "$pkg" | tr ',' '\n' | sed 's/(.*)//; s/[[:space:]]//g')"
  grep -qxF -f <(printf '%s\n' "$pkg" $provides) <<<"$dep_names" ||
    fail "$lib comes from $pkg, which Depends lacks"
  echo "$lib: $pkg"
done

if command -v lintian >/dev/null 2>&1; then
  step "lintian"
  status=0
  lintian --fail-on error --info "$deb" >"$work/lintian.txt" 2>&1 || status=$?
  grep -v 'running with root privileges' "$work/lintian.txt" || true
  ((status == 0)) || fail "lintian reported errors"
else
  step "lintian: not installed, skipped"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
  step "systemd-analyze verify"
  # verify wants ExecStart's program to exist: point it at the extracted
  # one (the unit is otherwise unchanged).
  mkdir -p "$work/unit"
  sed "s|^ExecStart=/usr/bin/crashctl |ExecStart=$work/root/usr/bin/crashctl |" \
    "$work/root/lib/systemd/system/crashctl.service" >"$work/unit/crashctl.service"
  grep -q "^ExecStart=$work/root/usr/bin/crashctl serve --config /etc/crashctl/crashctl.yaml$" \
    "$work/unit/crashctl.service" || fail "unexpected ExecStart"
  systemd-analyze verify --man=no "$work/unit/crashctl.service" ||
    fail "systemd-analyze verify failed"
  for key in "User=crashctl" "StateDirectory=crashctl" "NoNewPrivileges=yes" \
    "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" "Restart=on-failure"; do
    grep -qx "$key" "$work/unit/crashctl.service" || fail "the unit lacks $key"
  done
  if grep -q '^ExecReload=' "$work/unit/crashctl.service"; then
    fail "ExecReload= set, but crashctl does not reload its configuration"
  fi
  # Exposure 0 (locked down) to 10; the unit scores 1.5 with systemd 252.
  systemd-analyze security --offline=yes --threshold=25 --no-pager \
    "$work/unit/crashctl.service" >"$work/security.txt" 2>&1 ||
    { cat "$work/security.txt"; fail "security exposure above 2.5"; }
  tail -1 "$work/security.txt"
else
  step "systemd-analyze: not installed, skipped"
fi

if [ "$(id -u)" -ne 0 ]; then
  step "install into a Debian root: needs root, skipped"
  exit 0
fi
for tool in unshare chroot curl tar; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    step "install into a Debian root: $tool is not installed, skipped"
    exit 0
  fi
done
if ! unshare --mount --propagation private true 2>/dev/null; then
  step "install into a Debian root: no mount namespaces here, skipped"
  exit 0
fi
if [ ! -s "$base_tarball" ]; then
  if ! command -v mmdebstrap >/dev/null 2>&1; then
    step "install into a Debian root: no $base_tarball and no mmdebstrap, skipped"
    exit 0
  fi
  step "making $base_tarball (or waiting for the image test making it)"
fi
# Makes it if missing (waits when the image test is making it).
bash "$source_dir/deploy/container/base.sh" --tarball "$base_tarball" --tarball-only

step "install into a Debian root ($base_tarball)"
mkdir -p "$chroot_dir"
tar -xf "$base_tarball" -C "$chroot_dir"
cp "$deb" "$chroot_dir/tmp/crashctl.deb"
cp -L /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
cat >"$chroot_dir/tmp/check.sh" <<'EOF'
#!/bin/sh
# Runs inside the root (chroot), as root.
set -eu
fail() { echo "FAIL: $*" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
apt-get -qq update
before="$(dpkg-query -W | wc -l)"
apt-get -y -qq -o Dpkg::Use-Pty=0 install --no-install-recommends /tmp/crashctl.deb >/tmp/apt.log 2>&1 ||
  { cat /tmp/apt.log; fail "apt install failed"; }
echo "apt installed crashctl and $(($(dpkg-query -W | wc -l) - before - 1)) packages it depends on"
if dpkg-query -W -f '${Package} ${Status}\n' | grep -E -- '-dev(:[a-z0-9]+)? install ok installed'; then
  fail "installing crashctl installed -dev packages"
fi
crashctl version
entry="$(getent passwd crashctl)" || fail "no crashctl user"
echo "user: $entry"
uid="$(echo "$entry" | cut -d: -f3)"
[ "$uid" -lt 1000 ] || fail "crashctl is not a system user (uid $uid)"
[ "$(echo "$entry" | cut -d: -f6)" = /var/lib/crashctl ] || fail "home is not /var/lib/crashctl"
[ "$(echo "$entry" | cut -d: -f7)" = /usr/sbin/nologin ] || fail "login shell is not nologin"
getent group crashctl >/dev/null || fail "no crashctl group"
[ "$(stat -c '%U:%G %a' /var/lib/crashctl)" = "crashctl:crashctl 750" ] ||
  fail "/var/lib/crashctl is $(stat -c '%U:%G %a' /var/lib/crashctl)"
[ -L /etc/systemd/system/multi-user.target.wants/crashctl.service ] ||
  fail "postinst did not enable crashctl.service"
dpkg-query -W -f '${Conffiles}\n' crashctl | grep -q '/etc/crashctl/crashctl.yaml' ||
  fail "dpkg does not list the conffile"

# The packaged configuration, as the unit runs it (the listen address
# overridden: the root shares this machine's network).
as_crashctl() { setpriv --reuid=crashctl --regid=crashctl --init-groups "$@"; }
as_crashctl crashctl project create --name deb-test \
  --config /etc/crashctl/crashctl.yaml >/tmp/project.txt || fail "project create failed"
[ -s /var/lib/crashctl/crashctl.db ] || fail "no /var/lib/crashctl/crashctl.db"
# A simple command, not the function: setpriv execs crashctl, so $! is the
# server (runuser would fork and stand between the signal and it).
: >/tmp/serve.log
setpriv --reuid=crashctl --regid=crashctl --init-groups \
  crashctl serve --config /etc/crashctl/crashctl.yaml \
  --listen 127.0.0.1:0 >/tmp/serve.log 2>&1 &
pid=$!
port=""
i=0
while [ $i -lt 100 ] && [ -z "$port" ]; do
  port="$(sed -n 's/.* serving on .* (port \([0-9]*\)).*/\1/p' /tmp/serve.log)"
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || { cat /tmp/serve.log; fail "serve exited"; }
  sleep 0.1
  i=$((i + 1))
done
[ -n "$port" ] || { cat /tmp/serve.log; fail "serve did not start"; }
grep -q 'data /var/lib/crashctl/crashctl.db' /tmp/serve.log ||
  { cat /tmp/serve.log; fail "serve does not use /var/lib/crashctl"; }
# The caller checks /healthz from outside, then sends SIGTERM.
echo $pid >/tmp/serve.pid
echo "$port" >/tmp/port
status=0
wait $pid || status=$?
[ $status -eq 0 ] || { cat /tmp/serve.log; fail "serve exited with $status"; }
cat /tmp/serve.log

# Reinstalling (postinst configure with the old version: the user exists,
# the unit is restarted rather than started) keeps a local change to the
# conffile, and the database.
echo "# local change" >>/etc/crashctl/crashctl.yaml
dpkg -i /tmp/crashctl.deb >/tmp/reinstall.log 2>&1 || { cat /tmp/reinstall.log; fail "reinstall failed"; }
grep -q '^# local change$' /etc/crashctl/crashctl.yaml || fail "reinstalling replaced the changed conffile"
[ -s /var/lib/crashctl/crashctl.db ] || fail "reinstalling lost the database"
[ "$(getent passwd crashctl)" = "$entry" ] || fail "reinstalling changed the user"

apt-get -y -qq -o Dpkg::Use-Pty=0 purge crashctl >/tmp/purge.log 2>&1 ||
  { cat /tmp/purge.log; fail "apt purge failed"; }
! getent passwd crashctl >/dev/null || fail "purge left the crashctl user"
! getent group crashctl >/dev/null || fail "purge left the crashctl group"
[ ! -e /var/lib/crashctl ] || fail "purge left /var/lib/crashctl"
[ ! -e /etc/crashctl ] || fail "purge left /etc/crashctl"
[ ! -e /etc/systemd/system/multi-user.target.wants/crashctl.service ] ||
  fail "purge left the enablement symlink"
echo "purged"
EOF
chmod 0755 "$chroot_dir/tmp/check.sh"

unshare --mount --propagation private /bin/sh -ec '
  root="$1"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs tmpfs "$root/run"
  exec chroot "$root" /tmp/check.sh
' sh "$chroot_dir" >"$work/chroot.log" 2>&1 &
check_pid=$!
port=""
for _ in $(seq 1 1200); do
  [ -s "$chroot_dir/tmp/port" ] && port="$(cat "$chroot_dir/tmp/port")" && break
  kill -0 "$check_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -n "$port" ]; then
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/healthz" || true)"
  kill -TERM "$(cat "$chroot_dir/tmp/serve.pid")" 2>/dev/null || true
fi
status=0
wait "$check_pid" || status=$?
cat "$work/chroot.log"
((status == 0)) || fail "the check in the Debian root failed"
[ -n "$port" ] || fail "serve never reported its port"
[ "$code" = 200 ] || fail "/healthz of the packaged server answered $code"

step "done"
