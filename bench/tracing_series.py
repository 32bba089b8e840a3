#!/usr/bin/env python3
"""Fills one project of a running crashctl with transactions of distinct
label sets until its series budget (tracing.max_series) is full, then times
/metrics scrapes.

  tracing_series.py PORT DATA_DIR CRASHCTL_BINARY [TRANSACTIONS] [SCRAPES]

TRANSACTIONS (default 30,000) are sent over /store/, 16 at once: 100 route
names x 8 methods x 17 span statuses x services, each a new label set until
the budget folds the rest. Prints one line: the transaction and span
histogram series (`_count` lines) in the exposition, its size, and the first,
median and max scrape time in ms.
"""
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid

port, data, binary = int(sys.argv[1]), sys.argv[2], sys.argv[3]
total = int(sys.argv[4]) if len(sys.argv) > 4 else 30000
scrapes = int(sys.argv[5]) if len(sys.argv) > 5 else 20
env = dict(os.environ, CRASHCTL_SERVER_BASE_URL=f"http://127.0.0.1:{port}")
out = subprocess.run([binary, "project", "create", "--name", "series", "--data", data],
                     capture_output=True, text=True, env=env, timeout=30, check=True).stdout
dsn = out.splitlines()[0]
pid, key = dsn.rsplit("/", 1)[1], dsn.split("//")[1].split("@")[0]

methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]
statuses = ["ok", "cancelled", "unknown", "invalid_argument", "deadline_exceeded",
            "not_found", "already_exists", "permission_denied", "resource_exhausted",
            "failed_precondition", "aborted", "out_of_range", "unimplemented",
            "internal_error", "unavailable", "data_loss", "unauthenticated"]


def body(i):
    now = time.time()
    route = i % 100
    method = methods[(i // 100) % len(methods)]
    status = statuses[(i // 800) % len(statuses)]
    service = f"svc-{i // 13600}"
    return json.dumps({
        "type": "transaction", "event_id": uuid.uuid4().hex,
        "transaction": f"/api/route{route}/{{id}}", "transaction_info": {"source": "route"},
        "start_timestamp": now - 0.05, "timestamp": now, "request": {"method": method},
        "tags": {"service": service},
        "contexts": {"trace": {"trace_id": uuid.uuid4().hex, "span_id": uuid.uuid4().hex[:16],
                               "op": "http.server", "status": status}},
        "spans": [{"span_id": uuid.uuid4().hex[:16], "op": f"db.op{i % 60}",
                   "start_timestamp": now - 0.04, "timestamp": now - 0.01}],
    })


def post(indexes):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in indexes:
        conn.request("POST", f"/api/{pid}/store/?sentry_key={key}", body(i),
                     {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"transaction {i}: HTTP {response.status}")


threads = [threading.Thread(target=post, args=(range(t, total, 16),)) for t in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
times, series, size = [], 0, 0
for _ in range(scrapes):
    start = time.monotonic()
    conn.request("GET", "/metrics")
    text = conn.getresponse().read()
    times.append((time.monotonic() - start) * 1000)
    size = len(text)
    series = sum(1 for line in text.split(b"\n")
                 if line.startswith(b"crashctl_transaction_duration_seconds_count{")
                 or line.startswith(b"crashctl_span_duration_seconds_count{"))
print(f"{series} transaction+span histogram series, /metrics {size / 1e6:.1f} MB: "
      f"first scrape {times[0]:.1f} ms, median of {scrapes} {statistics.median(times):.1f} ms, "
      f"max {max(times):.1f} ms")
