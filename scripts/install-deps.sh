#!/usr/bin/env bash
# Installs what crashctl needs to build and test, from Debian packages and the
# npm registry only. Idempotent: a machine that has everything is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config git ca-certificates curl
  prometheus-cpp-dev libcivetweb-dev rapidjson-dev libyaml-cpp-dev
  libsqlite3-dev sqlite3 libspdlog-dev libfmt-dev libcurl4-openssl-dev
  zlib1g-dev libssl-dev
  # stored payloads are zstd frames; libdeflate is measured by bench/codec_bench
  libzstd-dev libdeflate-dev libgtest-dev libgmock-dev libbenchmark-dev
  libunwind-dev libdw-dev libiberty-dev libhowardhinnant-date-dev tzdata
  prometheus prometheus-alertmanager
  python3 python3-yaml
  # tests/tracing runs the real sentry-python SDK (1.9) to capture transactions.
  python3-sentry-sdk
  clang libclang-rt-14-dev clang-format wrk
  # the linker of every build (CMakeLists.txt: CRASHCTL_USE_LLD)
  lld
  # tests/crashreport and tests/supervisor build and run crashing Go and Rust
  # programs (a JDK is optional there: committed samples cover the JVM format).
  golang-go rustc
  # make image, make deb and their tests (tests/deploy/): systemd for
  # systemd-analyze, dpkg-dev for dpkg-shlibdeps.
  podman mmdebstrap lintian dpkg-dev systemd
  # store/postgres links libpq; its tests (tests/store/postgres/) start a
  # private PostgreSQL server (initdb, postgres) as the `postgres` user.
  postgresql libpq-dev
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# kubectl proves the fake API server speaks the real protocol; Debian ships it
# in kubernetes-client. Any kubectl already on PATH will do.
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
# Node.js and npm run the real Sentry SDK and the TypeScript checks; a machine
# may already have them from elsewhere.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Test clients pinned by tests/package-lock.json (@sentry/node, typescript,
# @grafana/schema).
if [ -f tests/package.json ]; then
  if [ ! -d tests/node_modules ] || [ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]; then
    (cd tests && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
