#!/usr/bin/env python3
"""The dashboards' and rules' queries with two crashctl replicas, scraped by
the real Prometheus (docs/scaling.md "Metrics with replicas").

Replicas share one database, so the gauges read from it (groups by status,
monitors, storage size, a group's lifetime count) are the same on each, and
the queries must take them once (`max without (instance, pod)`), while the
per-replica counters must add up. Two `crashctl serve` on one SQLite file
are refused (the ingest lock), so the two replicas here serve two copies of
one database, made while the first was stopped: the same rows, as replicas
of one database see them.

  1. A seeds events (4 groups, one resolved) and a monitor, and stops; its
     data directory is copied for B; both start; Prometheus scrapes both.
  2. Every dashboard and rule expression that reads a database-derived
     series returns the same series and values over both replicas as over A
     alone (selectors restricted to A's instance), and no series carries an
     `instance` label; the naive `sum` is twice the REST count (both
     replicas were scraped: the check can fail).
  3. Events sent to A and to B: the events panel's `sum(...)` counts both.
Exit status: 0 pass, 1 fail, 77 skip (a program is missing).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import monitoring_e2e_test as e2e  # noqa: E402  (helpers: processes, HTTP, expressions)

SKIP = 77
# Series whose value is read from the database (the same on every replica).
DATABASE_SERIES = ("crashctl_groups_active", "crashctl_monitors", "crashctl_monitor_incident_open",
                   "crashctl_storage_size_bytes", "crashctl_group_events_total",
                   "crashctl_pods_crashlooping")
# Their values may differ by the replicas' own writes since the copy (the
# WAL, a checkpoint): the series must agree, not the values.
SIZE_SERIES = ("crashctl_storage_size_bytes",)


def vector(prom_port, expr):
    """{frozen label set: value} of an instant query; raises on a query error."""
    status, body = e2e.http("GET", f"http://127.0.0.1:{prom_port}/api/v1/query?" +
                            urllib.parse.urlencode({"query": expr}))
    if status != 200:
        raise RuntimeError(f"query failed ({status}): {expr}: {body}")
    data = json.loads(body)["data"]
    if data["resultType"] == "scalar":
        return {(): float(data["result"][1])}
    return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in data["result"]}


def only_instance(expr, instance):
    """`expr` with every database-series selector restricted to `instance`."""
    names = "|".join(DATABASE_SERIES)

    def repl(m):
        name, brace = m.group(1), m.group(2)
        matcher = f'instance="{instance}"'
        return f"{name}{{{matcher}," if brace else f"{name}{{{matcher}}}"
    return re.sub(rf"\b({names})\b(\{{)?", repl, expr)


def serve(args, work, name, data_dir, port):
    proc = e2e.Process(name, [args.crashctl, "serve", "--listen", f"127.0.0.1:{port}", "--data", data_dir],
                       work, env={"CRASHCTL_SERVER_BASE_URL": f"http://127.0.0.1:{port}"})
    e2e.wait_until(f"{name} ready", lambda: e2e.ready(proc, f"http://127.0.0.1:{port}/readyz"), 20)
    return proc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--crashctl", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--prometheus", default="/usr/bin/prometheus")
    args = parser.parse_args()
    args.source_dir = os.path.abspath(args.source_dir)
    for prog in (args.crashctl, args.prometheus):
        if not os.access(prog, os.X_OK):
            e2e.log(f"SKIP: {prog} is not available")
            return SKIP
    prom_exprs, _ = e2e.dashboard_expressions(args.source_dir)
    exprs = [(where, expr) for where, expr in prom_exprs]
    exprs += [(where, expr) for where, expr, _ in e2e.rule_expressions(args.source_dir)]
    exprs = [(where, e2e.substitute(expr)) for where, expr in exprs
             if any(name in expr for name in DATABASE_SERIES)]
    if len(exprs) < 8:
        e2e.log(f"FAIL: only {len(exprs)} expressions read database series")
        return 1

    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    work = tempfile.mkdtemp(prefix="crashctl-replicas-promql-")
    procs, failures = [], []
    try:
        port_a, port_b, prom_port = e2e.free_ports(3)
        dir_a, dir_b = os.path.join(work, "a"), os.path.join(work, "b")
        os.makedirs(dir_a)
        out = subprocess.run([args.crashctl, "project", "create", "--name", "replicas", "--data", dir_a],
                             capture_output=True, text=True, timeout=20)
        m = re.search(r"^DSN: https?://([0-9a-f]{32})@[^/]+/(\d+)", out.stdout, re.M)
        if out.returncode != 0 or not m:
            raise RuntimeError(f"project create failed: {out.returncode} {out.stdout} {out.stderr}")
        key, project_id = m.group(1), m.group(2)

        # 1. A seeds, stops; B gets a copy of its data directory.
        a = serve(args, work, "crashctl-a", dir_a, port_a)
        procs.append(a)
        base_a = f"http://127.0.0.1:{port_a}"
        seed = e2e.Seeder(base_a, key, project_id)
        seed.event("OrderError", "order 1 failed", "checkout")
        seed.event("OrderError", "order 1 failed", "checkout")
        seed.event("SlowQuery", "query took 5s", "api", level="warning")
        seed.event("Panic", "nil map", "api", level="fatal")
        seed.event("BurstError", "burst 1", "spiky")
        seed.check_in("replicas-nightly", "ok")
        groups = json.loads(e2e.wait_until(
            "4 groups", lambda: (lambda r: r[1] if r[0] == 200 and len(json.loads(r[1])["items"]) == 4 else None)(
                e2e.http("GET", f"{base_a}/api/v1/groups?project={project_id}")), 10))["items"]
        resolved = groups[0]["id"]
        status, body = e2e.http("PATCH", f"{base_a}/api/v1/groups/{resolved}", '{"status": "resolved"}',
                                {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"resolve failed: {status} {body}")
        a.stop()
        procs.remove(a)
        shutil.copytree(dir_a, dir_b)
        a = serve(args, work, "crashctl-a", dir_a, port_a)
        b = serve(args, work, "crashctl-b", dir_b, port_b)
        procs += [a, b]

        prom_dir = os.path.join(work, "prometheus")
        os.makedirs(prom_dir)
        with open(os.path.join(prom_dir, "prometheus.yml"), "w") as f:
            json.dump({
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "900ms"},
                "scrape_configs": [{"job_name": "crashctl", "static_configs": [
                    {"targets": [f"127.0.0.1:{port_a}", f"127.0.0.1:{port_b}"]}]}],
            }, f)  # JSON is YAML
        prom = e2e.Process("prometheus", [args.prometheus, f"--config.file={prom_dir}/prometheus.yml",
                                          f"--storage.tsdb.path={prom_dir}/data",
                                          f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
                           work)
        procs.append(prom)
        e2e.wait_until("prometheus ready", lambda: e2e.ready(prom, f"http://127.0.0.1:{prom_port}/-/ready"), 20)
        # (crashctl_group_events_total appears only for groups with events
        # since the start, which differ per replica: its queries compare
        # empty results here.)
        for series in ("crashctl_groups_active", "crashctl_monitors", "crashctl_storage_size_bytes"):
            e2e.wait_until(f"{series} from both replicas", lambda: len(
                vector(prom_port, f"count by (instance) ({series})")) == 2, 30)

        # 2. Database series are taken once.
        instance_a = f"127.0.0.1:{port_a}"
        for where, expr in exprs:
            both = vector(prom_port, expr)
            alone = vector(prom_port, only_instance(expr, instance_a))
            if any(dict(labels).get("instance") for labels in both):
                failures.append(f"{where}: a series per replica: {expr} -> {both}")
            elif set(both) != set(alone):
                failures.append(f"{where}: series differ from one replica's: {expr} -> {both} vs {alone}")
            elif not any(s in expr for s in SIZE_SERIES) and both != alone:
                failures.append(f"{where}: values differ from one replica's: {expr} -> {both} vs {alone}")
            else:
                e2e.log(f"ok {where}: {both}")
        unresolved = 'crashctl_groups_active{status="unresolved"}'
        naive = vector(prom_port, f"sum({unresolved})")
        right = vector(prom_port, f"sum(max without (instance, pod) ({unresolved}))")
        if naive.get((), 0) != 6 or right.get((), 0) != 3:
            failures.append(f"unresolved groups: sum {naive}, max-then-sum {right}; want 6 and 3 "
                            f"(3 unresolved groups on each of 2 replicas)")

        # 3. Per-replica counters add up.
        for base, n in ((base_a, 2), (f"http://127.0.0.1:{port_b}", 3)):
            replica = e2e.Seeder(base, key, project_id)
            for _ in range(n):
                replica.event("OrderError", "order 1 failed", "checkout")
        events = f'sum(crashctl_events_total{{project="{project_id}", service="checkout"}})'
        try:
            e2e.wait_until("5 events summed over the replicas",
                           lambda: vector(prom_port, events).get(()) == 5, 20)
        except TimeoutError:
            failures.append(f"{events} -> {vector(prom_port, events)}, want 5")
    finally:
        for p in reversed(procs):
            p.stop()
        if failures or "KEEP" in os.environ:
            for p in procs:
                e2e.log(f"--- {p.name} log tail:\n{p.tail(15)}")
        shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        e2e.log(f"FAIL: {f}")
    if failures:
        return 1
    e2e.log(f"PASS: {len(exprs)} expressions over two replicas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
