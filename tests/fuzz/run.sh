#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each on a temporary copy of its seed
# corpus (the repo is never written to). Crash/leak/timeout inputs are kept in
# $FUZZ_BUILD/fuzz-artifacts/<fuzzer>/ for reproduction:
#   $FUZZ_BUILD/tests/fuzz/<fuzzer>_fuzzer <artifact>
# Usage: tests/fuzz/run.sh SECONDS [fuzzer...]   (env: FUZZ_BUILD=build-fuzz)
set -u
seconds="${1:?usage: run.sh SECONDS [fuzzer...]}"
shift
repo="$(cd "$(dirname "$0")/../.." && pwd)"
build="${FUZZ_BUILD:-build-fuzz}"
case "$build" in /*) ;; *) build="$repo/$build" ;; esac
fuzzers=("$@")
[ ${#fuzzers[@]} -eq 0 ] && fuzzers=(envelope event grouping config watch cron crashreport http_framing tracing releases search payload_codec)

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$repo/tests/fuzz/ubsan.supp}"

work="$(mktemp -d "${TMPDIR:-/tmp}/crashctl-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
failed=()
for name in "${fuzzers[@]}"; do
  bin="$build/tests/fuzz/${name}_fuzzer"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin not built" >&2
    failed+=("$name")
    continue
  fi
  corpus="$work/$name"
  artifacts="$build/fuzz-artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  cp -r "$repo/tests/fuzz/corpus/$name/." "$corpus/"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb bounds
  # memory; one process per fuzzer so the machine stays shared.
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$corpus" >"$work/$name.log" 2>&1; then
    echo "fuzz: $name: ok ($(ls "$corpus" | wc -l) corpus files," \
      "$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" |
         grep -o '[0-9]*$') runs in ${seconds}s)"
  else
    echo "fuzz: $name: FAILED; log tail:" >&2
    tail -n 40 "$work/$name.log" >&2
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures: ${failed[*]} (inputs in $build/fuzz-artifacts/)" >&2
  exit 1
fi
