#!/bin/bash
# The SDK as a library of other projects: installs it into a temporary
# prefix, checks what was installed (files, SONAME, exported symbols, the .pc),
# builds the example consumer project sdk/examples/consumer/ three ways
# (find_package of the installed CMake package, shared and static; pkg-config
# against the prefix; add_subdirectory of a copy of sdk/ alone), runs each
# against the real crashctl server on a free loopback port and finds its
# event through the REST API.
#
# install_test.sh SOURCE_DIR BUILD_DIR WORK_DIR CRASHCTL CMAKE CXX LAUNCHER SANITIZED
#   BUILD_DIR  the outer build; its `cmake --install --component sdk` is
#              tested when SANITIZED is 0
#   CXX        the C++ compiler of the outer build (the nested builds use it)
#   LAUNCHER   the outer build's compiler launcher (ccache) or ""
#   SANITIZED  1 when the outer build is instrumented (ASan/UBSan/TSan): its
#              SDK libraries need the sanitizer runtime, which a consumer
#              built plainly lacks, so the prefix is then made by a plain
#              build of sdk/ on its own (`cmake -S sdk`), which installs the
#              same files. The consumers are always built plainly: they
#              inherit nothing of the outer build's flags.
set -euo pipefail
src=$1 build=$2 work=$3 crashctl=$4 cmake=$5 cxx=$6 launcher=$7 sanitized=$8

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# Nested builds: plain Release (no sanitizer, no -Werror), the outer
# compiler and launcher, two jobs.
nested=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx")
if [ -n "$launcher" ]; then
  nested+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")
fi
# ccache hits across runs: paths below $work are hashed relative to it.
export CCACHE_BASEDIR=$work CCACHE_NOHASHDIR=1
# (ASAN_OPTIONS and UBSAN_OPTIONS stay: they are for the server under test.)
unset CFLAGS CXXFLAGS LDFLAGS
unset CRASHCTL_DSN

step "install the SDK into $prefix"
if [ "$sanitized" = 0 ]; then
  "$cmake" --install "$build" --component sdk --prefix "$prefix" >"$work/install.log"
else
  "$cmake" -S "$src/sdk" -B "$work/sdk-build" "${nested[@]}" >"$work/sdk-configure.log" ||
    { cat "$work/sdk-configure.log"; fail "configure of sdk/ on its own"; }
  "$cmake" --build "$work/sdk-build" -j2 >"$work/sdk-build.log" 2>&1 ||
    { cat "$work/sdk-build.log"; fail "build of sdk/ on its own"; }
  "$cmake" --install "$work/sdk-build" --component sdk --prefix "$prefix" >"$work/install.log"
fi
cat "$work/install.log"

step "installed files"
lib=$prefix/lib
for f in include/crashctl/sdk.h lib/libcrashctl_sdk.a lib/libcrashctl_sdk.so \
         lib/pkgconfig/crashctl_sdk.pc \
         lib/cmake/crashctl_sdk/crashctl_sdkConfig.cmake \
         lib/cmake/crashctl_sdk/crashctl_sdkConfigVersion.cmake \
         lib/cmake/crashctl_sdk/crashctl_sdk-shared-targets.cmake \
         lib/cmake/crashctl_sdk/crashctl_sdk-static-targets.cmake; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
# Nothing of the server, nor private headers.
extra=$(cd "$prefix" && find . -type f -o -type l | grep -v -e '^./include/crashctl/sdk.h$' \
  -e '^./lib/libcrashctl_sdk\.' -e '^./lib/cmake/crashctl_sdk/' \
  -e '^./lib/pkgconfig/crashctl_sdk.pc$' || true)
[ -z "$extra" ] || fail "component sdk installs more: $extra"

version=$(sed -n 's/^Version: //p' "$lib/pkgconfig/crashctl_sdk.pc")
major=${version%%.*}
soname=$(objdump -p "$lib/libcrashctl_sdk.so" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libcrashctl_sdk.so.$major" ] || fail "SONAME '$soname', wanted libcrashctl_sdk.so.$major"
[ -f "$lib/libcrashctl_sdk.so.$version" ] || fail "no libcrashctl_sdk.so.$version"
[ "$(readlink "$lib/libcrashctl_sdk.so.$major")" = "libcrashctl_sdk.so.$version" ] ||
  fail "libcrashctl_sdk.so.$major does not point to libcrashctl_sdk.so.$version"
echo "SONAME $soname, version $version"

# The shared library exports the API of crashctl/sdk.h and nothing else of
# crashctl's (weak instantiations of libstdc++ templates aside), nor its
# static dependencies' (libiberty's demangler).
exported=$(nm -D --defined-only "$lib/libcrashctl_sdk.so" | awk '{ print $3 }')
ours=$(echo "$exported" | grep -v '^_ZN\?St\|^_ZNKSt\|^_ZNSt\|^_ZTISt\|^_ZTSSt\|^_ZS\|^_ZGVZNSt\|^_ZZNSt' || true)
api=$(echo "$ours" | c++filt | sed 's/(.*//; s/\[abi:cxx11\]//' | LC_ALL=C sort -u)
want="crashctl::sdk::AddBreadcrumb
crashctl::sdk::CaptureException
crashctl::sdk::CaptureMessage
crashctl::sdk::CurrentSpan
crashctl::sdk::DroppedEvents
crashctl::sdk::Flush
crashctl::sdk::Init
crashctl::sdk::LevelName
crashctl::sdk::RemoveTag
crashctl::sdk::SetTag
crashctl::sdk::SetUser
crashctl::sdk::Shutdown
crashctl::sdk::Span::Finish
crashctl::sdk::Span::IsSampled
crashctl::sdk::Span::SetData
crashctl::sdk::Span::SetDescription
crashctl::sdk::Span::SetHttpStatus
crashctl::sdk::Span::SetStatus
crashctl::sdk::Span::SetTag
crashctl::sdk::Span::SpanId
crashctl::sdk::Span::StartChild
crashctl::sdk::Span::TraceHeaders
crashctl::sdk::Span::TraceId
crashctl::sdk::SpanScope::SpanScope
crashctl::sdk::SpanScope::~SpanScope
crashctl::sdk::StartTransaction
crashctl::sdk::Transaction::SetName
crashctl::sdk::Transaction::SetRequest"
if [ "$api" != "$want" ]; then
  echo "exported:"; echo "$ours" | c++filt
  fail "libcrashctl_sdk.so exports other symbols than the API"
fi
echo "exports: $(echo "$api" | wc -l) API functions, $(echo "$exported" | wc -l) symbols in all"

export PKG_CONFIG_PATH=$lib/pkgconfig
pkg-config --validate crashctl_sdk || fail "pkg-config --validate crashctl_sdk"
[ "$(pkg-config --modversion crashctl_sdk)" = "$version" ] || fail "pkg-config version"
pkg-config --static --libs crashctl_sdk | grep -q -- '-liberty' ||
  fail "pkg-config --static --libs lacks libiberty"
pkg-config --static --libs crashctl_sdk | grep -q -- '-lcurl' ||
  fail "pkg-config --static --libs lacks libcurl (Requires.private)"
unset PKG_CONFIG_PATH

step "build the consumer three ways"
consumer_src=$src/sdk/examples/consumer
# add_subdirectory of the sdk/ folder, as a project that copied it in (with
# the tracing/context/ folder beside it, whose sources the SDK compiles in).
mkdir -p "$work/copy/tracing"
cp -r "$src/sdk" "$work/copy/sdk"
cp -r "$src/tracing/context" "$work/copy/tracing/context"
build_consumer() {  # VIA ENV-ASSIGNMENT CMAKE-ARGS...
  local via=$1 envset=$2; shift 2
  local dir=$work/consumer-$via
  if ! env "$envset" "$cmake" -S "$consumer_src" -B "$dir" "${nested[@]}" \
       -DCRASHCTL_SDK_VIA="$via" "$@" >"$dir.log" 2>&1 ||
     ! "$cmake" --build "$dir" -j2 >>"$dir.log" 2>&1; then
    cat "$dir.log"
    fail "consumer via $via did not build"
  fi
  echo "built consumer via $via"
}
build_consumer find_package CMAKE_PREFIX_PATH="$prefix"
build_consumer pkg-config PKG_CONFIG_PATH="$lib/pkgconfig"
build_consumer add_subdirectory CRASHCTL_UNUSED=1 \
  -DCRASHCTL_SDK_SOURCE_DIR="$work/copy/sdk"

# Which library each links: the shared one from the prefix, or none (static).
needs_shared() { readelf -d "$1" | grep -q 'NEEDED.*\[libcrashctl_sdk\.so\.'"$major"'\]'; }
needs_shared "$work/consumer-find_package/consumer" ||
  fail "find_package consumer does not link libcrashctl_sdk.so.$major"
needs_shared "$work/consumer-pkg-config/consumer" ||
  fail "pkg-config consumer does not link libcrashctl_sdk.so.$major"
! needs_shared "$work/consumer-find_package/consumer_static" ||
  fail "consumer_static links the shared library"
! needs_shared "$work/consumer-add_subdirectory/consumer" ||
  fail "add_subdirectory consumer links a shared library"

step "run each against crashctl serve"
data=$work/data
mkdir -p "$data"
# The log exists before the server starts: the redirection of a background
# command happens in its child, so the first read below could come first
# (and fail the script under set -e).
: >"$work/serve.log"
"$crashctl" serve --listen 127.0.0.1:0 --data "$data" >"$work/serve.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 600); do
  port=$(sed -n 's/.* serving on .* (port \([0-9]*\)).*/\1/p' "$work/serve.log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; fail "serve exited"; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/serve.log"; fail "serve did not report its port"; }
base=http://127.0.0.1:$port
for _ in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/healthz" || true)" = 200 ] && break
  sleep 0.1
done
dsn=$(CRASHCTL_SERVER_BASE_URL=$base "$crashctl" project create --name consumer --data "$data" |
      sed -n 's/^DSN: //p')
[ -n "$dsn" ] || fail "project create printed no DSN"
echo "server on port $port, DSN $dsn"

run_consumer() {  # VIA BINARY
  local via=$1 bin=$2 message="consumer event via $1 $$"
  local id
  id=$(env -u LD_LIBRARY_PATH CRASHCTL_DSN="$dsn" CRASHCTL_SPOOL_DIR="$work/spool-$via" \
       "$bin" "$message" "$via") || fail "consumer via $via exited with $?"
  [[ "$id" =~ ^[0-9a-f]{32}$ ]] || fail "consumer via $via printed '$id', not an event id"
  local body="" code=""
  for _ in $(seq 1 200); do
    body=$(curl -s --max-time 5 -w '\n%{http_code}' "$base/api/v1/events/$id" || true)
    code=${body##*$'\n'}
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  [ "$code" = 200 ] || fail "event $id of consumer via $via: GET answered $code"
  grep -q "$message" <<<"$body" || { echo "$body"; fail "event $id lacks its message"; }
  grep -q '"via"' <<<"$body" || { echo "$body"; fail "event $id lacks its tag"; }
  echo "consumer via $via: event $id stored"
}
run_consumer find_package "$work/consumer-find_package/consumer"
run_consumer find_package-static "$work/consumer-find_package/consumer_static"
run_consumer pkg-config "$work/consumer-pkg-config/consumer"
run_consumer add_subdirectory "$work/consumer-add_subdirectory/consumer"
echo "PASS"
