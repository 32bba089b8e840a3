#!/usr/bin/env bash
# Instructions of the whole server per stored event, counted by callgrind
# over a window of load (after a warm-up), and the share of them spent in
# the payload codec (store::EncodePayload, inclusive). Independent of what
# else runs on the machine, unlike wall-clock figures.
#
#   bench/callgrind_server.sh BINARY [TRANSACTIONS_PER_EVENT] [DURATION]
#
# TRANSACTIONS_PER_EVENT (default 0) is passed to the load generator
# (--transactions-per-event); the row then also gives the transactions
# acknowledged per second. Prints one Markdown table row: binary,
# transactions per event, events stored in the window, transactions/s,
# instructions per stored event, codec instructions per stored event, the
# codec's share.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:?usage: callgrind_server.sh BINARY [TRANSACTIONS_PER_EVENT] [DURATION]}
tpe=${2:-0}
duration=${3:-15}
loadgen=${LOADGEN:-build/bench/crashctl-loadgen}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
data=$(mktemp -d /tmp/crashctl-bench-cg-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$data"' EXIT
port=$(free_port)
CRASHCTL_SERVER_MAX_CONNECTIONS=64 CRASHCTL_LOG_LEVEL=warn valgrind --tool=callgrind \
  --instr-atstart=no --callgrind-out-file="$data/callgrind.out" \
  "$binary" serve --listen "127.0.0.1:$port" --data "$data" 2>"$data/log" &
server=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
dsn=$(CRASHCTL_SERVER_BASE_URL="http://127.0.0.1:$port" "$binary" project create --name bench --data "$data" | head -1)
key=$(echo "$dsn" | sed -E 's#DSN: http://([0-9a-f]+)@.*#\1#')
project=$(echo "$dsn" | sed -E 's#.*/([0-9]+)$#\1#')
url="http://127.0.0.1:$port/api/$project/envelope/?sentry_key=$key"
"$loadgen" --url "$url" --connections 16 --duration 5 --transactions-per-event "$tpe" >/dev/null || true
before=$(sqlite3 "$data/crashctl.db" 'SELECT count(*) FROM events;')
callgrind_control -i on "$server" >/dev/null
row=$("$loadgen" --url "$url" --connections 16 --duration "$duration" --transactions-per-event "$tpe" --label x || true)
callgrind_control -i off "$server" >/dev/null
after=$(sqlite3 "$data/crashctl.db" 'SELECT count(*) FROM events;')
kill "$server"; wait "$server" || true
callgrind_annotate --inclusive=yes --auto=no "$data/callgrind.out" >"$data/annotate" 2>/dev/null
total=$(awk '/PROGRAM TOTALS/ && !t {gsub(",", "", $1); print $1; t = 1}' "$data/annotate")
codec=$(awk '/crashctl::store::EncodePayload/ && !c {gsub(",", "", $1); print $1; c = 1}' "$data/annotate")
events=$((after - before))
echo "| $binary | $tpe | $events | $([ "$tpe" = 0 ] && echo - || echo "$row" | awk -F'|' '{print $6 + 0}') | $((total / events)) | $((${codec:-0} / events)) | $(python3 -c "print(f'{100 * ${codec:-0} / $total:.0f}%')") |"
