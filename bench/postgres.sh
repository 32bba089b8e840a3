#!/usr/bin/env bash
# The postgres driver beside SQLite, and one against two replicas
# (docs/scaling.md, bench/RESULTS.md "PostgreSQL driver and replicas"):
# `make bench-postgres`, and part of `make bench` when PostgreSQL is
# installed. Writes bench/POSTGRES.md (make bench copies it into RESULTS.md).
#
# A private PostgreSQL server (initdb into a temporary directory, as the
# user "postgres" when run as root; fsync and synchronous_commit on; on
# 127.0.0.1 and a unix socket) on the same cores as the servers and the load
# generator. Each run: a fresh database (or data directory), N `crashctl
# serve`, a project over REST, a 3 s warm-up, then one load generator per
# replica at once (Sentry envelopes, ~5 KB, 500 Zipf groups, closed loop,
# CONNECTIONS split evenly) for DURATION s; then the stored rows are checked
# (events = sum of group counts, one group per fingerprint). The runs go
# sqlite, postgres 1, postgres 2, then once more in the reverse order
# (ROUNDS=2), so that neither driver always runs first on a warm machine.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-2}
# Transactions per event in the load (0: errors only).
TX_PER_EVENT=${TX_PER_EVENT:-0}
# SQL run in each PostgreSQL run's database once the servers have made the
# schema, before the warm-up (paired runs of a schema change, e.g.
# PG_SQL="ALTER TABLE events DISABLE TRIGGER events_group_feedback").
PG_SQL=${PG_SQL:-}
OUT=${OUT:-bench/POSTGRES.md}
crashctl="$BUILD/cmd/crashctl"
loadgen="$BUILD/bench/crashctl-loadgen"

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "bench/postgres.sh: PostgreSQL is not installed (postgresql); skipped" >&2
  exit 0
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 400); do curl -sf "$1" >/dev/null && return 0; sleep 0.05; done; return 1; }

work=$(mktemp -d /tmp/crashctl-bench-pg-XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$work"
  as_pg=(runuser -u postgres --)
fi
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # runuser does not pass SIGINT on: the postmaster (its child) gets it too.
  if [ -n "${pg:-}" ]; then
    pkill -INT -P "$pg" 2>/dev/null || true
    kill -INT "$pg" 2>/dev/null || true
    wait "$pg" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"${as_pg[@]}" "$bindir/initdb" -D "$work/data" -U crashctl --auth=trust \
  --no-sync -E UTF8 --no-locale >"$work/initdb.log"
pg_port=$(free_port)
"${as_pg[@]}" "$bindir/postgres" -D "$work/data" -c listen_addresses=127.0.0.1 \
  -c port="$pg_port" -c unix_socket_directories="$work" -c max_connections=60 \
  >"$work/pg.log" 2>&1 &
pg=$!
for _ in $(seq 1 600); do
  "$bindir/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break
  sleep 0.1
done
"$bindir/pg_isready" -q -h 127.0.0.1 -p "$pg_port" || { cat "$work/pg.log" >&2; exit 1; }
psql_db() { "$bindir/psql" -X -q -At -h 127.0.0.1 -p "$pg_port" -U crashctl -d "$1" -c "$2"; }

run_number=0
# run DRIVER REPLICAS: appends the per-replica rows to $work/rows and the
# check of the stored rows to $work/checks.
run() {
  local driver=$1 n=$2
  run_number=$((run_number + 1))
  local db="bench_$run_number" base env=() ports=() servers=()
  base="$work/run$run_number"
  mkdir -p "$base"
  if [ "$driver" = postgres ]; then
    psql_db postgres "CREATE DATABASE $db"
    env=(CRASHCTL_STORAGE_DRIVER=postgres
      "CRASHCTL_STORAGE_POSTGRES_DSN=host=127.0.0.1 port=$pg_port user=crashctl dbname=$db")
  fi
  local i
  for i in $(seq 1 "$n"); do
    local port
    port=$(free_port)
    mkdir -p "$base/data$i"
    env "${env[@]}" CRASHCTL_LOG_LEVEL=warn "$crashctl" serve \
      --listen "127.0.0.1:$port" --data "$base/data$i" 2>"$base/log$i" &
    servers+=($!)
    pids+=($!)
    ports+=("$port")
    wait_http "http://127.0.0.1:$port/healthz" || { cat "$base/log$i" >&2; exit 1; }
  done
  local project key id
  project=$(curl -sf -X POST -H 'Content-Type: application/json' \
    -d '{"name":"bench"}' "http://127.0.0.1:${ports[0]}/api/v1/projects")
  key=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])' <<<"$project")
  id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$project")
  if [ "$driver" = postgres ] && [ -n "$PG_SQL" ]; then psql_db "$db" "$PG_SQL"; fi
  local per=$((CONNECTIONS / n)) tx_args=()
  if [ "$TX_PER_EVENT" != 0 ]; then tx_args=(--transactions-per-event "$TX_PER_EVENT"); fi
  # Warm-up (and, for several replicas, every key cache has the project).
  local loads=()
  for i in $(seq 0 $((n - 1))); do
    "$loadgen" --url "http://127.0.0.1:${ports[$i]}/api/$id/envelope/?sentry_key=$key" \
      --connections $((16 / n)) --duration 3 >/dev/null &
    loads+=($!)
  done
  for j in "${loads[@]}"; do wait "$j" || true; done
  loads=()
  for i in $(seq 0 $((n - 1))); do
    "$loadgen" --label "$driver, $n replica(s), replica $((i + 1))" \
      --url "http://127.0.0.1:${ports[$i]}/api/$id/envelope/?sentry_key=$key" \
      --connections "$per" --duration "$DURATION" --server-pid "${servers[$i]}" \
      "${tx_args[@]}" >"$base/row$i" &
    loads+=($!)
  done
  for j in "${loads[@]}"; do wait "$j"; done
  cat "$base"/row* >>"$work/rows"
  for s in "${servers[@]}"; do kill "$s"; wait "$s" || true; done
  local check
  if [ "$driver" = postgres ]; then
    check=$(psql_db "$db" "SELECT (SELECT count(*) FROM events) || ' events, ' ||
      (SELECT coalesce(sum(count), 0) FROM groups) || ' counted, ' ||
      (SELECT count(*) FROM transactions) || ' transactions, ' ||
      (SELECT count(*) FROM (SELECT 1 FROM groups GROUP BY project_id,
       fingerprint HAVING count(*) > 1) d) || ' duplicated groups'")
  else
    check=$(sqlite3 "$base/data1/crashctl.db" "SELECT (SELECT count(*) FROM events) || ' events, ' ||
      (SELECT coalesce(sum(count), 0) FROM groups) || ' counted, ' ||
      (SELECT count(*) FROM transactions) || ' transactions, 0 duplicated groups'")
  fi
  echo "$driver, $n replica(s): $check" >>"$work/checks"
  rm -rf "$base"
}

touch "$work/rows" "$work/checks"
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then order="sqlite:1 postgres:1 postgres:2"; else order="postgres:2 postgres:1 sqlite:1"; fi
  for spec in $order; do
    sleep 5
    run "${spec%%:*}" "${spec##*:}"
  done
done

pg_version=$("$bindir/postgres" --version)
build_type=$(grep CMAKE_BUILD_TYPE: "$BUILD/CMakeCache.txt" | cut -d= -f2)
{
  echo "## PostgreSQL driver and replicas (\`make bench-postgres\`)"
  echo
  echo "Written by bench/postgres.sh on $(date -u +%Y-%m-%dT%H:%MZ), main at $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo
  echo "- Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- $pg_version on the same cores (initdb --no-sync; fsync, synchronous_commit on; max_connections 60), 127.0.0.1"
  echo "- Command: \`make bench-postgres\` (DURATION=$DURATION CONNECTIONS=$CONNECTIONS ROUNDS=$ROUNDS TX_PER_EVENT=$TX_PER_EVENT); build ${build_type:-RelWithLines (the default)}"
  if [ -n "$PG_SQL" ]; then echo "- PG_SQL in each PostgreSQL database before the load: \`$PG_SQL\`"; fi
  echo "- One row per replica; with 2 replicas the events/s of a run add up (each got CONNECTIONS/2)."
  echo
  if [ "$TX_PER_EVENT" != 0 ]; then
    echo "| run | connections | rate | acked events/s | acked transactions/s | p50 ms | p99 ms | server CPU % | server peak RSS MB | failures |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
  else
    echo "| run | connections | rate | acked events/s | p50 ms | p99 ms | server CPU % | server peak RSS MB | failures |"
    echo "|---|---|---|---|---|---|---|---|---|"
  fi
  cat "$work/rows"
  echo
  echo "After each run (stored rows; events = sum of group counts, one group per fingerprint):"
  echo
  sed 's/^/- /' "$work/checks"
} >"$OUT"
cat "$OUT"
