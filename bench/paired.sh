#!/usr/bin/env bash
# Paired A/B runs of two crashctl binaries under the same load, alternating
# which runs first (on this shared machine the first of a pair tends to do
# better), with a rest before each run. Prints one Markdown table with a row
# per run: events/s, latency, server CPU per event.
#
#   bench/paired.sh OLD_BINARY NEW_BINARY [PAIRS] [DURATION] [RATE]
#
# RATE 0 (default) is the closed loop; e.g. 5000 paces the load. Uses the
# load generator of this tree (build/bench/crashctl-loadgen); LOADGEN_ARGS
# adds arguments to its measured runs (e.g. "--session-item").
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: paired.sh OLD NEW [PAIRS] [DURATION] [RATE]}
new=${2:?usage: paired.sh OLD NEW [PAIRS] [DURATION] [RATE]}
pairs=${3:-3}
duration=${4:-10}
rate=${5:-0}
rest=${REST:-15}
connections=${CONNECTIONS:-64}
loadgen=${LOADGEN:-build/bench/crashctl-loadgen}
read -r -a loadgen_args <<<"${LOADGEN_ARGS:-}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# One run: a fresh server on a fresh database, a 3 s warm-up, then the load.
run() {
  local label=$1 binary=$2
  local data port server dsn key project url cpu_before cpu_after stored
  data=$(mktemp -d /tmp/crashctl-paired-XXXXXX)
  port=$(free_port)
  CRASHCTL_LOG_LEVEL=warn "$binary" serve --listen "127.0.0.1:$port" --data "$data" 2>"$data/log" &
  server=$!
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
  dsn=$(CRASHCTL_SERVER_BASE_URL="http://127.0.0.1:$port" "$binary" project create --name bench --data "$data" | head -1)
  key=$(echo "$dsn" | sed -E 's#DSN: http://([0-9a-f]+)@.*#\1#')
  project=$(echo "$dsn" | sed -E 's#.*/([0-9]+)$#\1#')
  url="http://127.0.0.1:$port/api/$project/envelope/?sentry_key=$key"
  "$loadgen" --url "$url" --connections 16 --duration 3 >/dev/null || true
  before=$(sqlite3 "$data/crashctl.db" 'SELECT count(*) FROM events;')
  cpu_before=$(awk '{print $14 + $15}' "/proc/$server/stat")
  row=$("$loadgen" --label "$label" --url "$url" --connections "$connections" \
    --duration "$duration" --rate "$rate" --server-pid "$server" \
    "${loadgen_args[@]}")
  cpu_after=$(awk '{print $14 + $15}' "/proc/$server/stat")
  kill "$server"; wait "$server" || true
  after=$(sqlite3 "$data/crashctl.db" 'SELECT count(*) FROM events;')
  rm -rf "$data"
  local ticks per_event
  ticks=$(getconf CLK_TCK)
  per_event=$(python3 -c "print(round(($cpu_after - $cpu_before) * 1e6 / $ticks / max(1, $after - $before)))")
  echo "$row $per_event |"
}

echo "| run | connections | rate | acked events/s | p50 ms | p99 ms | server CPU % | server peak RSS MB | failures | server CPU µs/event |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for i in $(seq 1 "$pairs"); do
  if [ $((i % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
  for which in $order; do
    sleep "$rest"
    if [ "$which" = old ]; then run "old (pair $i)" "$old"; else run "new (pair $i)" "$new"; fi
  done
done
