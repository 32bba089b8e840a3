#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each on a temporary copy of its seed
# corpus (the repo is never written to). Crash/leak/timeout inputs are kept in
# $FUZZ_BUILD/fuzz-artifacts/<fuzzer>/ for reproduction:
#   $FUZZ_BUILD/tests/fuzz/<fuzzer>_fuzzer <artifact>
# Usage: tests/fuzz/run.sh SECONDS [fuzzer...]
#   (env: FUZZ_BUILD=build-fuzz, FUZZ_JOBS=<fuzzers at once, default nproc>)
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
jobs="${FUZZ_JOBS:-$(nproc)}"

# Runs one fuzzer; its verdict goes to $work/<name>.result.
run_one() {
  local name="$1" bin corpus artifacts
  bin="$build/tests/fuzz/${name}_fuzzer"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin not built" >&2
    echo failed >"$work/$name.result"
    return
  fi
  corpus="$work/$name"
  artifacts="$build/fuzz-artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  cp -r "$repo/tests/fuzz/corpus/$name/." "$corpus/"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb bounds
  # memory; one process per fuzzer.
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$corpus" >"$work/$name.log" 2>&1; then
    echo "fuzz: $name: ok ($(ls "$corpus" | wc -l) corpus files," \
      "$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" |
         grep -o '[0-9]*$') runs in ${seconds}s)"
    echo ok >"$work/$name.result"
  else
    echo "fuzz: $name: FAILED; log tail:" >&2
    tail -n 40 "$work/$name.log" >&2
    echo failed >"$work/$name.result"
  fi
}

# FUZZ_JOBS fuzzers at a time (default: one per core), so that the smoke
# run of 11 fuzzers takes about 11 x SECONDS / cores.
running=0
for name in "${fuzzers[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_one "$name" &
  running=$((running + 1))
done
wait
failed=()
for name in "${fuzzers[@]}"; do
  [ "$(cat "$work/$name.result" 2>/dev/null)" = ok ] || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures: ${failed[*]} (inputs in $build/fuzz-artifacts/)" >&2
  exit 1
fi
