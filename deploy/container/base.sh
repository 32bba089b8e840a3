#!/usr/bin/env bash
# Makes a local Debian bookworm base image for deploy/container/Containerfile
# on a machine that cannot pull from a registry but can install Debian
# packages (mmdebstrap), and imports it into podman:
#
#   deploy/container/base.sh [--tarball build/image-base/bookworm.tar]
#                            [--tag localhost/crashctl-base:bookworm]
#                            [--refresh] [--tarball-only]
#   make image IMAGE_BASE=localhost/crashctl-base:bookworm
#
# The base is Debian's minbase variant (what debian:bookworm-slim is made
# from) plus ca-certificates, without documentation (copyright files kept),
# manual pages and locales; the image takes only its CA bundle, and its
# shell runs the build stage. The tarball (about 135 MB) is kept and reused;
# an image already imported under the tag is reused too. --refresh makes both
# again (newer CA certificates, security updates). --tarball-only makes the
# tarball if missing and does not touch podman (tests/deploy/deb_test.sh
# installs the .deb into an unpacked copy). Needs root (mmdebstrap's root
# mode, podman import) and deb.debian.org.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tarball="$repo/build/image-base/bookworm.tar"
tag="localhost/crashctl-base:bookworm"
refresh=0
tarball_only=0
while (($#)); do
  case "$1" in
    --tarball) tarball="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --refresh) refresh=1; shift ;;
    --tarball-only) tarball_only=1; shift ;;
    *) echo "base.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
die() { echo "base.sh: $*" >&2; exit 1; }

if ((tarball_only == 0)); then
  command -v podman >/dev/null 2>&1 || die "podman is not installed"
  if ((refresh == 0)) && podman image exists "$tag"; then
    echo "base.sh: $tag already present" >&2
    exit 0
  fi
fi

mkdir -p "$(dirname "$tarball")"
# One maker at a time (the image and the package tests may both want it).
exec 9>"$tarball.lock"
flock 9
if ((refresh == 1)) || [ ! -s "$tarball" ]; then
  command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is not installed"
  echo "base.sh: mmdebstrap bookworm -> $tarball" >&2
  rm -f "$tarball.tmp"
  mmdebstrap --quiet --format=tar --variant=minbase --include=ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    bookworm "$tarball.tmp" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"
  mv "$tarball.tmp" "$tarball"
fi
if ((tarball_only == 0)); then
  echo "base.sh: podman import $tarball $tag" >&2
  podman import --quiet "$tarball" "$tag" >/dev/null
fi
