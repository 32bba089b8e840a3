#!/usr/bin/env bash
# Runs every benchmark and writes bench/RESULTS.md: micro benchmarks, then
# the load generator against crashctl and against a bare civetweb server
# (the ceiling), on loopback, on this machine. `make bench` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
# The paced run's p99 moves by several ms from one run to the next on a
# shared 2-core machine: it is repeated, each run its own row.
PACED_RUNS=${PACED_RUNS:-3}
OUT=bench/RESULTS.md

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 200); do curl -sf "$1" >/dev/null && return 0; sleep 0.05; done; return 1; }

data=$(mktemp -d /tmp/crashctl-bench-XXXXXX)
port=$(free_port)
CRASHCTL_LOG_LEVEL=warn "$BUILD/cmd/crashctl" serve --listen "127.0.0.1:$port" --data "$data" &
server=$!
bare_port=$(free_port)
"$BUILD/bench/bare-server" "$bare_port" &
bare=$!
trap 'kill $server $bare 2>/dev/null || true; rm -rf "$data"' EXIT
wait_http "http://127.0.0.1:$port/healthz"
wait_http "http://127.0.0.1:$bare_port/"
sleep 2
idle_rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")

dsn=$(CRASHCTL_SERVER_BASE_URL="http://127.0.0.1:$port" "$BUILD/cmd/crashctl" project create --name bench --data "$data" | head -1)
key=$(echo "$dsn" | sed -E 's#DSN: http://([0-9a-f]+)@.*#\1#')
project=$(echo "$dsn" | sed -E 's#.*/([0-9]+)$#\1#')
url="http://127.0.0.1:$port/api/$project/envelope/?sentry_key=$key"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
micro=$("$BUILD/bench/crashctl-micro-bench" --benchmark_min_time=0.5 2>/dev/null | grep -E '^BM_')
loadgen="$BUILD/bench/crashctl-loadgen"
rows=$("$loadgen" --header --label "crashctl, closed loop" --url "$url" --connections "$CONNECTIONS" --duration "$DURATION" --server-pid "$server")
for run in $(seq 1 "$PACED_RUNS"); do
  rows+=$'\n'$("$loadgen" --label "crashctl, paced ($run of $PACED_RUNS)" --url "$url" --connections "$CONNECTIONS" --duration "$DURATION" --rate 5000 --server-pid "$server")
done
rows+=$'\n'$("$loadgen" --label "bare civetweb (ceiling)" --url "http://127.0.0.1:$bare_port/" --connections "$CONNECTIONS" --duration "$DURATION" --server-pid "$bare")
stored=$(sqlite3 "$data/crashctl.db" 'SELECT count(*) FROM events;')
metrics_ms=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/metrics")
# The real server with 10,000 series (adds 20 projects and 10,000 events).
metrics_10k=$(python3 bench/metrics_series.py "$port" "$data" "$BUILD/cmd/crashctl" 20)

# CALLGRIND=1: instructions per stored event, counted by callgrind over a
# 15 s window of load (after a warm-up). Unlike wall-clock figures this does
# not depend on what else runs on the machine.
instructions=""
if [ "${CALLGRIND:-0}" = 1 ] && command -v valgrind >/dev/null; then
  cg_data=$(mktemp -d /tmp/crashctl-bench-cg-XXXXXX)
  cg_port=$(free_port)
  CRASHCTL_SERVER_MAX_CONNECTIONS=64 CRASHCTL_LOG_LEVEL=warn valgrind --tool=callgrind \
    --instr-atstart=no --callgrind-out-file="$cg_data/callgrind.out" \
    "$BUILD/cmd/crashctl" serve --listen "127.0.0.1:$cg_port" --data "$cg_data" 2>"$cg_data/log" &
  cg_server=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$cg_port/healthz" >/dev/null && break; sleep 0.2; done
  cg_dsn=$(CRASHCTL_SERVER_BASE_URL="http://127.0.0.1:$cg_port" "$BUILD/cmd/crashctl" project create --name bench --data "$cg_data" | head -1)
  cg_key=$(echo "$cg_dsn" | sed -E 's#DSN: http://([0-9a-f]+)@.*#\1#')
  cg_project=$(echo "$cg_dsn" | sed -E 's#.*/([0-9]+)$#\1#')
  cg_url="http://127.0.0.1:$cg_port/api/$cg_project/envelope/?sentry_key=$cg_key"
  "$loadgen" --url "$cg_url" --connections 16 --duration 5 >/dev/null || true
  before=$(sqlite3 "$cg_data/crashctl.db" 'SELECT count(*) FROM events;')
  callgrind_control -i on "$cg_server" >/dev/null
  "$loadgen" --url "$cg_url" --connections 16 --duration 15 >/dev/null || true
  callgrind_control -i off "$cg_server" >/dev/null
  after=$(sqlite3 "$cg_data/crashctl.db" 'SELECT count(*) FROM events;')
  kill "$cg_server"; wait "$cg_server" || true
  total=$(callgrind_annotate "$cg_data/callgrind.out" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  if [ -n "$total" ] && [ "$after" -gt "$before" ]; then
    instructions="Instructions per stored event (callgrind, whole server, 16 connections): $((total / (after - before))) over $((after - before)) events."
  fi
  rm -rf "$cg_data"
fi

# The postgres driver beside SQLite, one and two replicas (bench/postgres.sh:
# skipped, keeping the last bench/POSTGRES.md, without PostgreSQL).
BUILD="$BUILD" DURATION="$DURATION" CONNECTIONS="$CONNECTIONS" bash bench/postgres.sh >/dev/null

{
  echo "# Benchmark results"
  echo
  echo "Written by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%dT%H:%MZ)."
  echo
  echo "- Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "- Command: \`make bench\` (DURATION=$DURATION CONNECTIONS=$CONNECTIONS PACED_RUNS=$PACED_RUNS CALLGRIND=${CALLGRIND:-0}); load generator and server share the machine."
  echo "- Build: $(grep CMAKE_BUILD_TYPE: "$BUILD/CMakeCache.txt" | cut -d= -f2)"
  echo "- Load average when the runs started: $load_before (other processes share the 2 cores; wall-clock figures are only as good as that)"
  echo
  echo "## Load (Sentry envelopes, ~5 KB, 30 frames, 500 groups, Zipf)"
  echo
  echo "$rows"
  echo
  echo "Events stored after the runs: $stored. Idle RSS after start: $((idle_rss_kb / 1024)) MB."
  echo "One \`/metrics\` scrape of the loaded server: ${metrics_ms}s."
  echo "\`/metrics\` of the running server with $metrics_10k."
  if [ -n "$instructions" ]; then echo; echo "$instructions"; fi
  echo
  echo "## Micro benchmarks"
  echo
  echo '```'
  echo "$micro"
  echo '```'
} > "$OUT.new"
if [ -f bench/IMAGE.md ]; then { echo; cat bench/IMAGE.md; } >> "$OUT.new"; fi
# Tracing overhead (`make bench-trace`, bench/trace_overhead.py) is measured
# on its own; its last result is kept in RESULTS.md.
if [ -f bench/TRACING.md ]; then { echo; cat bench/TRACING.md; } >> "$OUT.new"; fi
# The HTTP edge (bench/slow_clients.py, bench/paired.sh), measured on its
# own; its last result is kept in RESULTS.md.
if [ -f bench/EDGE.md ]; then { echo; cat bench/EDGE.md; } >> "$OUT.new"; fi
# The payload codec's comparison (bench/codec_bench.cc,
# bench/codec_instructions.sh), measured on its own; its last result is kept
# in RESULTS.md.
if [ -f bench/CODEC.md ]; then { echo; cat bench/CODEC.md; } >> "$OUT.new"; fi
if [ -f bench/POSTGRES.md ]; then { echo; cat bench/POSTGRES.md; } >> "$OUT.new"; fi
if [ -f bench/FINDINGS.md ]; then { echo; cat bench/FINDINGS.md; } >> "$OUT.new"; fi
mv "$OUT.new" "$OUT"
cat "$OUT"
