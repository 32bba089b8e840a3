#!/usr/bin/env python3
"""Fills a running crashctl with 10,000 crashctl_events_total series
(20 projects x 5 levels x 100 services) and times /metrics scrapes.

  metrics_series.py PORT DATA_DIR CRASHCTL_BINARY [SCRAPES]

Prints one line: first, median and max scrape time in ms and the series count.
"""
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time

port, data, binary = int(sys.argv[1]), sys.argv[2], sys.argv[3]
scrapes = int(sys.argv[4]) if len(sys.argv) > 4 else 20
env = dict(os.environ, CRASHCTL_SERVER_BASE_URL=f"http://127.0.0.1:{port}")
projects = []
for p in range(20):
    out = subprocess.run([binary, "project", "create", "--name", f"series{p}", "--data", data],
                         capture_output=True, text=True, env=env, timeout=30, check=True).stdout
    dsn = out.splitlines()[0]
    projects.append((dsn.rsplit("/", 1)[1], dsn.split("//")[1].split("@")[0]))
jobs = [(pid, key, level, s) for pid, key in projects
        for level in ("fatal", "error", "warning", "info", "debug") for s in range(100)]


def post(chunk):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for pid, key, level, s in chunk:
        body = json.dumps({"level": level, "message": "series", "tags": {"service": f"svc-{s}"}})
        conn.request("POST", f"/api/{pid}/store/?sentry_key={key}", body,
                     {"Content-Type": "application/json"})
        conn.getresponse().read()


threads = [threading.Thread(target=post, args=(jobs[i::16],)) for i in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
times, series = [], 0
for _ in range(scrapes):
    start = time.monotonic()
    conn.request("GET", "/metrics")
    body = conn.getresponse().read()
    times.append((time.monotonic() - start) * 1000)
    series = sum(1 for line in body.split(b"\n") if line.startswith(b"crashctl_events_total{"))
print(f"{series} crashctl_events_total series: first scrape {times[0]:.1f} ms, "
      f"median of {scrapes} {statistics.median(times):.1f} ms, max {max(times):.1f} ms")
