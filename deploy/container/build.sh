#!/usr/bin/env bash
# Builds the crashctl OCI image from an already built binary (`make image`).
#
#   deploy/container/build.sh [--binary build/cmd/crashctl] [--tag crashctl:VERSION]
#                             [--base IMAGE] [--context DIR] [--engine podman|docker]
#
# Nothing is compiled here. The binary is copied (stripped of its debug
# sections) into a build context together with exactly the shared libraries
# the dynamic loader resolves for it on this machine (`ldd`), the loader
# itself, and the Debian package metadata and copyright files of the packages
# those libraries come from, and the non-root user (65532) in /etc/passwd.
# deploy/container/Containerfile then adds CA certificates from the base
# image, gives /data to that user, and checks in a chroot that the binary
# starts with only what the image holds.
#
# Environment: CONTAINER_ENGINE (default podman, else docker), IMAGE_BASE,
# IMAGE_TAG, IMAGE_BUILD_FLAGS (flags for `build`; with podman the default
# is `--isolation chroot --layers=false`: no OCI runtime needed, and no
# intermediate images left behind),
# IMAGE_SOURCE (org.opencontainers.image.source), IMAGE_LICENSES
# (org.opencontainers.image.licenses, an SPDX expression).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

binary="$repo/build/cmd/crashctl"
tag="${IMAGE_TAG:-}"
base="${IMAGE_BASE:-docker.io/library/debian:bookworm-slim}"
context=""
engine="${CONTAINER_ENGINE:-}"

usage() {
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
while (($#)); do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    --context) context="$2"; shift 2 ;;
    --engine) engine="$2"; shift 2 ;;
    -h | --help) usage ;;
    *) echo "build.sh: unknown argument $1" >&2; usage ;;
  esac
done

die() { echo "build.sh: $*" >&2; exit 1; }

[ -x "$binary" ] || die "no binary at $binary (run make build first)"
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
if [ -z "$engine" ]; then
  if command -v podman >/dev/null 2>&1; then engine=podman
  elif command -v docker >/dev/null 2>&1; then engine=docker
  else die "neither podman nor docker is installed"
  fi
fi
command -v "$engine" >/dev/null 2>&1 || die "$engine is not installed"
command -v ldd >/dev/null 2>&1 || die "ldd is not installed (libc-bin)"

version="$("$binary" version | awk '{print $2}')"
[ -n "$version" ] || die "$binary version printed no version"
[ -n "$tag" ] || tag="crashctl:$version"
revision="unknown"
if git -C "$repo" rev-parse HEAD >/dev/null 2>&1; then
  revision="$(git -C "$repo" rev-parse HEAD)"
  # Tracked files changed since the commit: the image is not that commit.
  git -C "$repo" diff --quiet HEAD -- 2>/dev/null || revision="$revision-dirty"
fi
source_url="${IMAGE_SOURCE:-$(git -C "$repo" remote get-url origin 2>/dev/null || true)}"
source_url="${source_url:-unknown}"
licenses="${IMAGE_LICENSES:-NOASSERTION}"

[ -n "$context" ] || context="$(dirname "$(dirname "$binary")")/image-context"
rm -rf "$context"
rootfs="$context/rootfs"
mkdir -p "$rootfs/usr/bin"

# The usr-merged layout of the build machine (/lib -> usr/lib, ...), so that
# the paths ldd prints exist in the image as they do here.
for link in bin sbin lib lib64; do
  if [ -L "/$link" ]; then
    target="$(readlink "/$link")"
    mkdir -p "$rootfs/${target#/}"
    ln -s "$target" "$rootfs/$link"
  fi
done

# Copies host file $1 into the rootfs: the real file at its canonical path,
# and a symlink at the path it was named by when that differs.
copy_file() {
  local named="$1" real dir
  real="$(readlink -f "$named")"
  [ -f "$real" ] || die "cannot resolve $named"
  mkdir -p "$rootfs$(dirname "$real")"
  cp -L --preserve=mode "$real" "$rootfs$real"
  dir="$(readlink -f "$(dirname "$named")")"
  if [ "$dir/$(basename "$named")" != "$real" ]; then
    mkdir -p "$rootfs$dir"
    # Relative, as Debian's own links are: right inside the image and when
    # the image is inspected from outside (podman image mount).
    ln -sfnr "$rootfs$real" "$rootfs$dir/$(basename "$named")"
  fi
  echo "$real" >>"$context/files.txt"
}

# Shared libraries and the loader, as this machine's loader resolves them
# for this binary. Any "not found" stops the build. Libraries a program only
# dlopen()s are not seen here; crashctl needs none (glibc 2.34+ has the
# files and dns NSS modules built in; TLS is libcurl's linked OpenSSL, and
# civetweb loads its TLS library only for a TLS port, which crashctl never
# opens).
ldd_out="$(env -u LD_LIBRARY_PATH -u LD_PRELOAD ldd "$binary")"
if grep -q "not found" <<<"$ldd_out"; then
  die "unresolved libraries: $(grep 'not found' <<<"$ldd_out" | tr -s ' \t' ' ')"
fi
: >"$context/files.txt"
while read -r lib; do
  copy_file "$lib"
done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$ldd_out" | sort -u)

# The binary without its line tables (about 7 MB); the build id stays, so a
# crash address can be symbolised with the unstripped build/cmd/crashctl.
strip --strip-debug -o "$rootfs/usr/bin/crashctl" "$binary" 2>/dev/null ||
  cp "$binary" "$rootfs/usr/bin/crashctl"
chmod 0755 "$rootfs/usr/bin/crashctl"

# Which Debian packages the libraries come from: their dpkg status stanzas
# (distroless layout, /var/lib/dpkg/status.d/, read by image scanners) and
# their copyright files (the licences of what the image redistributes).
if command -v dpkg-query >/dev/null 2>&1; then
  mkdir -p "$rootfs/var/lib/dpkg/status.d"
  packages="$(while read -r f; do
    dpkg-query -S "$f" 2>/dev/null || dpkg-query -S "${f#/usr}" 2>/dev/null || true
  done <"$context/files.txt" | cut -d: -f1 | sort -u)"
  for pkg in $packages; do
    dpkg-query -s "$pkg" >"$rootfs/var/lib/dpkg/status.d/${pkg%%:*}"
    name="${pkg%%:*}"
    if [ -f "/usr/share/doc/$name/copyright" ]; then
      install -D -m 0644 "/usr/share/doc/$name/copyright" \
        "$rootfs/usr/share/doc/$name/copyright"
    fi
  done
  echo "$packages" >"$context/packages.txt"
fi
mkdir -p "$rootfs/etc"
if [ -f /etc/os-release ]; then
  install -D -m 0644 "$(readlink -f /etc/os-release)" "$rootfs/usr/lib/os-release"
  ln -s ../usr/lib/os-release "$rootfs/etc/os-release"
fi
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
crashctl:x:65532:65532:crashctl:/data:/usr/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
crashctl:x:65532:
EOF
# /etc/hosts before DNS (glibc's default without this file is the reverse).
cat >"$rootfs/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF
# Mount points an OCI runtime fills in; /tmp for a writable scratch space
# (Kubernetes: an emptyDir); /data is the volume.
mkdir -p "$rootfs/dev" "$rootfs/proc" "$rootfs/sys" "$rootfs/tmp" "$rootfs/data"

build_flags=()
if [ -n "${IMAGE_BUILD_FLAGS:-}" ]; then
  read -r -a build_flags <<<"$IMAGE_BUILD_FLAGS"
elif [ "$engine" = podman ]; then
  build_flags=(--isolation chroot --layers=false)
fi

echo "build.sh: $engine build $tag from $binary (base $base, revision $revision)" >&2
"$engine" build "${build_flags[@]}" \
  -f "$here/Containerfile" \
  --build-arg "BASE=$base" \
  --build-arg "VERSION=$version" \
  --build-arg "REVISION=$revision" \
  --build-arg "SOURCE=$source_url" \
  --build-arg "LICENSES=$licenses" \
  -t "$tag" \
  "$context"
