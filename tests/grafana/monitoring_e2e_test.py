#!/usr/bin/env python3
"""End-to-end test of crashctl's monitoring files against the real programs.

Starts, on free 127.0.0.1 ports with temporary directories:
  fake-apiserver (scenario "all": OOMKill, crash loop, eviction, init failure,
  restarts, start failure), crashctl serve (Kubernetes watch on, pushing alerts to the
  Alertmanager), prometheus-alertmanager, and Prometheus (scrape and rule
  evaluation every second, alertmanager/rules/crashctl.rules.yml loaded).
Seeds events, a regression, rejected requests, an envelope session and
transactions (routes fast, slow and failing, a URL-named one, one past the
span limit; alertmanager/rules/examples/service-thresholds.yml loaded too),
release health (envelopes with `session` items: a healthy and a crashing
release, every terminal status, two environments), an SDK client report,
and cron check-ins (envelope `check_in` items with a monitor config, the
HTTP check-in form; one monitor fails), then:
  1. every PromQL expression of grafana/dashboards/*.json (targets and
     label_values() variables, template variables substituted) and of the
     rule files must return data; the REST URLs of the Infinity panels
     ($trace_id: the seeded trace with an error) must answer rows at their
     root_selector;
  2. an OOMKill added to the fake cluster must reach Alertmanager (seen by
     `amtool alert query`) through both paths: crashctl's pusher
     (CrashctlPodCrash, in under 2 s) and the CrashctlPodOOMKilled rule
     evaluated by Prometheus;
  3. the crashctl.services rules see the slow route and the failing service,
     and the per-service override keeps the slow reports route quiet;
  4. the crashctl.releases rules see the crashing release only; the
     crashctl.monitors rules see the failing monitor, and the silent one
     under a test override of its silence threshold; the failing monitor's
     CrashctlMonitorFailed reaches Alertmanager through crashctl's pusher;
     GET /api/v1/releases counts the seeded sessions;
  5. with the fake API server stopped, the watch-down expressions return
     data; with crashctl stopped, the absent expression does.
CrashctlMonitorMissed needs a scheduled run to pass without a check-in
(minutes at least): its expression must be a valid query only.
Everything polls with deadlines; the whole run is bounded (< 90 s).
Exit status: 0 pass, 1 fail, 77 skip (a program is missing).
"""
import argparse
import copy
import datetime
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import yaml

DEADLINE = time.monotonic() + 85  # hard bound for the whole run
SKIP = 77


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_ports(n):
    """n distinct loopback ports that were free a moment ago. The sockets stay
    bound until all n are chosen, so the kernel cannot hand out one twice."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def ready(proc, url):
    """True once `url` answers 200; raises when `proc` exited (say, because its
    port was taken), so a dead process fails at once and with its reason."""
    if not proc.running():
        raise RuntimeError(f"{proc.name} exited with {proc.proc.returncode}: {proc.tail(5)}")
    return http("GET", url)[0] == 200


def http(method, url, body=None, headers=None, timeout=3):
    """Returns (status, body text); status 0 when there was no answer."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def wait_until(what, fn, timeout):
    """Polls fn() every 100 ms until it returns a truthy value."""
    end = min(time.monotonic() + timeout, DEADLINE)
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() >= end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Process:
    """A child process with its output in a log file; killed on stop()."""

    def __init__(self, name, argv, workdir, env=None):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log = open(self.log_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=full_env, start_new_session=True)

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""


# --------------------------------------------------------------------------
# Expressions

VARIABLE_VALUES = {
    "__rate_interval": "30s",
    "__interval": "5s",
    "__range": "10m",
    "__range_s": "600",
}


def substitute(expr):
    """Replaces Grafana variables: built-ins by durations, template variables
    (project, service, namespace) by their All value ".*"."""
    def repl(m):
        name = m.group(1) or m.group(2)
        name = name.split(":")[0]
        return VARIABLE_VALUES.get(name, ".*")
    return re.sub(r"\$\{([A-Za-z0-9_:]+)\}|\$([A-Za-z_][A-Za-z0-9_]*)", repl, expr)


def walk_panels(panels):
    for p in panels or []:
        yield p
        yield from walk_panels(p.get("panels"))


def dashboard_expressions(source_dir):
    """(where, expr) for every Prometheus target and label_values variable;
    (where, url, root_selector, column selectors) for every Infinity target."""
    prom, infinity = [], []
    for path in sorted(glob.glob(os.path.join(source_dir, "grafana/dashboards/*.json"))):
        with open(path) as f:
            dash = json.load(f)
        name = os.path.basename(path)
        for var in dash.get("templating", {}).get("list", []):
            if var.get("type") != "query":
                continue
            q = var.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)\s*", q or "")
            if not m:
                raise ValueError(f"{name}: variable {var['name']}: unsupported query {q!r}")
            prom.append((f"{name} variable ${var['name']}",
                         f"count by ({m.group(2)}) ({m.group(1)})"))
        for panel in walk_panels(dash.get("panels")):
            for t in panel.get("targets", []) or []:
                ds = (t.get("datasource") or panel.get("datasource") or {}).get("type")
                where = f"{name} panel {panel.get('title')!r} {t.get('refId')}"
                if ds == "prometheus" and t.get("expr"):
                    prom.append((where, t["expr"]))
                elif ds == "yesoreyeram-infinity-datasource":
                    infinity.append((where, t["url"], t.get("root_selector") or "items",
                                     [c["selector"] for c in t.get("columns", [])]))
    return prom, infinity


def rule_expressions(source_dir):
    out = []
    for path in sorted(glob.glob(os.path.join(source_dir, "alertmanager/rules/*.yml"))):
        with open(path) as f:
            doc = yaml.safe_load(f)
        for group in doc["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                out.append((f"{os.path.basename(path)} {name}", rule["expr"], name))
    return out


# Expressions that can only return data once something is down.
WATCH_DOWN_ALERTS = {"CrashctlKubernetesWatchDown", "CrashctlKubernetesEventsWatchDown"}
CRASHCTL_DOWN_ALERTS = {"CrashctlAbsent"}
# Expressions that need more time than the run has (a missed cron run:
# checkin_margin is at least a minute): valid queries, no data required.
SLOW_ALERTS = {"CrashctlMonitorMissed"}
# Sessions (release health): a healthy and a crashing release (with the
# events' releases 8 in all, under sessions.max_releases = 10, so none is
# folded into "other"), and cron monitors: one checks in ok (envelope and
# HTTP), one fails.
HEALTHY_RELEASE, CRASHING_RELEASE = "mobile@1.0.0", "mobile@1.1.0"
MONITOR_OK, MONITOR_FAILING = "e2e-nightly", "e2e-import"
# Dashboard series that exist only after a watch failed.
WATCH_DOWN_SERIES = ("crashctl_kube_watch_restarts_total",)


# --------------------------------------------------------------------------
# Seeding

def sentry_event(exc_type, value, service, level="error", release="1.0.0", function="handle",
                 trace=None):
    event = {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "level": level,
        "platform": "python",
        "release": f"{service}@{release}",
        "environment": "production",
        "server_name": f"{service}-pod",
        "tags": {"service": service},
        "exception": {"values": [{
            "type": exc_type, "value": value,
            "stacktrace": {"frames": [
                {"function": "main", "filename": "app/main.py", "lineno": 3, "in_app": True},
                {"function": function, "filename": f"app/{service}.py", "lineno": 42, "in_app": True},
            ]},
        }]},
    }
    if trace:  # (trace_id, span_id): captured during that request
        event["contexts"] = {"trace": {"trace_id": trace[0], "span_id": trace[1]}}
    return json.dumps(event)


def iso_now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Seeder:
    def __init__(self, base, key, project_id):
        self.base, self.key, self.project_id = base, key, project_id

    def event(self, *args, **kwargs):
        status, body = http("POST", f"{self.base}/api/v1/events?key={self.key}",
                            sentry_event(*args, **kwargs),
                            {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"event rejected: {status} {body}")

    def malformed(self, n):
        for _ in range(n):
            http("POST", f"{self.base}/api/v1/events?key={self.key}", "{not json",
                 {"Content-Type": "application/json"})

    def envelope_session(self):
        sid = uuid.uuid4().hex
        body = (json.dumps({"sent_at": "2026-01-01T00:00:00Z"}) + "\n" +
                json.dumps({"type": "session"}) + "\n" +
                json.dumps({"sid": sid, "status": "ok", "init": True, "started": "2026-01-01T00:00:00Z",
                            "attrs": {"release": "checkout@1.0.0"}}) + "\n")
        status, text = http("POST", f"{self.base}/api/{self.project_id}/envelope/?sentry_key={self.key}",
                            body, {"Content-Type": "application/x-sentry-envelope"})
        if status != 200:
            raise RuntimeError(f"envelope rejected: {status} {text}")

    def envelope(self, items, what):
        """One envelope of (item type, payload) pairs; raises unless 200."""
        lines = [json.dumps({"sent_at": iso_now()})]
        for item_type, payload in items:
            lines += [json.dumps({"type": item_type}), json.dumps(payload)]
        status, text = http("POST", f"{self.base}/api/{self.project_id}/envelope/?sentry_key={self.key}",
                            "\n".join(lines) + "\n", {"Content-Type": "application/x-sentry-envelope"})
        if status != 200:
            raise RuntimeError(f"{what} envelope rejected: {status} {text}")

    def sessions(self, release, environment=None, exited=0, errored=0, crashed=0, abnormal=0):
        """Finished sessions as the SDKs send them: one `session` item per
        session, started and ended in one update (init and a terminal
        status; errored = exited with errors), at most 10 per envelope."""
        items = []
        for status, n in (("exited", exited), ("errored", errored), ("crashed", crashed),
                          ("abnormal", abnormal)):
            for _ in range(n):
                attrs = {"release": release}
                if environment is not None:
                    attrs["environment"] = environment
                items.append(("session", {
                    "sid": str(uuid.uuid4()), "did": f"user-{uuid.uuid4().hex[:8]}", "init": True,
                    "started": iso_now(), "timestamp": iso_now(), "duration": 1.5,
                    "status": "exited" if status == "errored" else status,
                    "errors": 1 if status in ("errored", "crashed") else 0, "attrs": attrs}))
        for i in range(0, len(items), 10):
            self.envelope(items[i:i + 10], "session")

    def client_report(self):
        self.envelope([("client_report", {"timestamp": time.time(), "discarded_events": [
            {"reason": "queue_overflow", "category": "error", "quantity": 3},
            {"reason": "ratelimit_backoff", "category": "transaction", "quantity": 2}]})], "client_report")

    def check_in(self, slug, status, check_in_id=None, schedule=None):
        """A `check_in` envelope item with its monitor config (which creates
        or updates the monitor); returns its check_in_id."""
        check_in_id = check_in_id or uuid.uuid4().hex
        payload = {"check_in_id": check_in_id, "monitor_slug": slug, "status": status,
                   "environment": "production",
                   "monitor_config": {"schedule": schedule or {"type": "crontab", "value": "0 3 * * *"},
                                      "checkin_margin": 5, "max_runtime": 30, "timezone": "UTC",
                                      "failure_issue_threshold": 1, "recovery_threshold": 1}}
        if status != "in_progress":
            payload["duration"] = 0.5
        self.envelope([("check_in", payload)], "check_in")
        return check_in_id

    def http_check_in(self, slug, status):
        """The HTTP check-in form of the cron monitors."""
        code, text = http("POST", f"{self.base}/api/{self.project_id}/cron/{slug}/{self.key}/?status={status}", b"")
        if not 200 <= code < 300:
            raise RuntimeError(f"HTTP check-in {slug} {status} rejected: {code} {text}")

    def transaction(self, service, name, duration, status="ok", method="GET", source="route",
                    spans=2, http_status=None):
        """One Sentry transaction envelope item (as the SDKs send them) that
        took `duration` seconds and ended now, with `spans` child spans."""
        end = time.time()
        start = end - duration
        trace_id, root = uuid.uuid4().hex, uuid.uuid4().hex[16:]
        ops = ("db.query", "http.client")
        tx = {
            "event_id": uuid.uuid4().hex, "type": "transaction", "platform": "python",
            "transaction": name, "transaction_info": {"source": source},
            "start_timestamp": start, "timestamp": end,
            "release": f"{service}@1.0.0", "environment": "production",
            "tags": {"service": service},
            "request": {"method": method, "url": "http://shop.example/"},
            "contexts": {"trace": {"trace_id": trace_id, "span_id": root, "op": "http.server",
                                   "status": status}},
            "spans": [{"trace_id": trace_id, "span_id": uuid.uuid4().hex[16:], "parent_span_id": root,
                       "op": ops[i % 2], "description": f"step {i}", "status": "ok",
                       "start_timestamp": start, "timestamp": start + duration / 2}
                      for i in range(spans)],
        }
        if http_status is not None:
            tx["contexts"]["response"] = {"status_code": http_status}
        body = (json.dumps({"event_id": tx["event_id"]}) + "\n" + json.dumps({"type": "transaction"}) +
                "\n" + json.dumps(tx) + "\n")
        status_code, text = http("POST", f"{self.base}/api/{self.project_id}/envelope/?sentry_key={self.key}",
                                 body, {"Content-Type": "application/x-sentry-envelope"})
        if status_code != 200:
            raise RuntimeError(f"transaction envelope rejected: {status_code} {text}")
        return trace_id, root

    def transactions(self, n):
        """n of each: shop's fast route, its slow route (2 s, above the 1 s
        default p99 threshold), its failing POST /pay (500), and reports'
        slow route (3 s, under the 10 s override of the example file)."""
        for _ in range(n):
            self.transaction("shop", "GET /fast/:id", 0.02)
            self.transaction("shop", "GET /slow/:id", 2.0)
            self.transaction("shop", "POST /pay", 0.1, status="internal_error", method="POST",
                             http_status=500)
            self.transaction("reports", "GET /reports/:id", 3.0)

    def group_id(self, title_part):
        status, body = http("GET", f"{self.base}/api/v1/groups?limit=100")
        if status != 200:
            return None
        for g in json.loads(body)["items"]:
            if title_part in g.get("title", ""):
                return g["id"]
        return None

    def resolve(self, group_id):
        status, body = http("PATCH", f"{self.base}/api/v1/groups/{group_id}",
                            json.dumps({"status": "resolved"}), {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"resolve failed: {status} {body}")


# --------------------------------------------------------------------------

def prom_query(prom_port, expr):
    """Number of result elements (0 = no data), or None on a query error."""
    status, body = http("GET", f"http://127.0.0.1:{prom_port}/api/v1/query?" +
                        urllib.parse.urlencode({"query": expr}))
    if status != 200:
        return None
    data = json.loads(body)["data"]
    if data["resultType"] in ("scalar", "string"):
        return 1
    return len(data["result"])


def prom_label_sets(prom_port, expr):
    """The label sets of the result of an instant query ([] on error)."""
    status, body = http("GET", f"http://127.0.0.1:{prom_port}/api/v1/query?" +
                        urllib.parse.urlencode({"query": expr}))
    if status != 200:
        return []
    return [r["metric"] for r in json.loads(body)["data"]["result"]]


def amtool_alerts(amtool, am_port, *matchers):
    out = subprocess.run([amtool, "alert", "query", "-o", "json",
                          f"--alertmanager.url=http://127.0.0.1:{am_port}", *matchers],
                         capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        return []
    return json.loads(out.stdout or "[]")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--crashctl", required=True)
    parser.add_argument("--fake-apiserver", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--prometheus", default="/usr/bin/prometheus")
    parser.add_argument("--alertmanager", default="/usr/bin/prometheus-alertmanager")
    parser.add_argument("--amtool", default="/usr/bin/amtool")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    # Prometheus resolves rule_files against its config file's directory.
    args.source_dir = os.path.abspath(args.source_dir)
    for prog in (args.crashctl, args.fake_apiserver, args.prometheus, args.alertmanager, args.amtool):
        if not os.access(prog, os.X_OK):
            log(f"SKIP: {prog} is not available")
            return SKIP

    prom_exprs, infinity_urls = dashboard_expressions(args.source_dir)
    rules = rule_expressions(args.source_dir)
    # A SIGTERM (ctest's timeout) unwinds through the finally below, which
    # stops the processes and removes `work`.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    work = tempfile.mkdtemp(prefix="crashctl-monitoring-e2e-")
    procs = []
    failures = []
    try:
        api_port, am_port, crashctl_port, prom_port = free_ports(4)
        data_dir = os.path.join(work, "data")
        os.makedirs(data_dir)

        # fake API server
        api = Process("fake-apiserver", [args.fake_apiserver, "--port", str(api_port), "--scenario", "all"], work)
        procs.append(api)
        wait_until("fake-apiserver", lambda: ready(api, f"http://127.0.0.1:{api_port}/api/v1/pods"), 10)

        # Alertmanager
        am_dir = os.path.join(work, "alertmanager")
        os.makedirs(am_dir)
        with open(os.path.join(am_dir, "alertmanager.yml"), "w") as f:
            yaml.safe_dump({
                "route": {"receiver": "null", "group_by": ["alertname", "namespace"], "group_wait": "1s"},
                "receivers": [{"name": "null"}],  # keep alerts, notify nobody
            }, f)
        am = Process("alertmanager", [args.alertmanager, f"--config.file={am_dir}/alertmanager.yml",
                                      f"--storage.path={am_dir}", f"--web.listen-address=127.0.0.1:{am_port}",
                                      "--cluster.listen-address=", "--log.level=warn"], work)
        procs.append(am)

        # crashctl: a project, then the server
        out = subprocess.run([args.crashctl, "project", "create", "--name", "e2e", "--data", data_dir],
                             capture_output=True, text=True, timeout=20)
        # The contract says the DSN is the first line; search for it anyway.
        m = re.search(r"^DSN: https?://([0-9a-f]{32})@[^/]+/(\d+)", out.stdout, re.M)
        if out.returncode != 0 or not m:
            raise RuntimeError(f"project create failed: {out.returncode} {out.stdout} {out.stderr}")
        key, project_id = m.group(1), m.group(2)
        base = f"http://127.0.0.1:{crashctl_port}"
        crashctl = Process("crashctl", [args.crashctl, "serve", "--listen", f"127.0.0.1:{crashctl_port}",
                                        "--data", data_dir], work, env={
            "CRASHCTL_KUBERNETES_ENABLED": "true",
            "CRASHCTL_KUBERNETES_API_SERVER": f"http://127.0.0.1:{api_port}",
            "CRASHCTL_ALERTING_ALERTMANAGER_URL": f"http://127.0.0.1:{am_port}",
            "CRASHCTL_SERVER_BASE_URL": base,
        })
        procs.append(crashctl)

        # Prometheus
        prom_dir = os.path.join(work, "prometheus")
        os.makedirs(prom_dir)
        rule_files = sorted(glob.glob(os.path.join(args.source_dir, "alertmanager/rules/*.yml")))
        rule_files.append(os.path.join(args.source_dir, "alertmanager/rules/examples/service-thresholds.yml"))
        rule_files.append(os.path.join(args.source_dir,
                                       "alertmanager/rules/examples/release-monitor-thresholds.yml"))
        # The healthy monitor counts as silent at once (threshold 0 s), so
        # CrashctlMonitorSilent and its override are proven within the run.
        with open(os.path.join(prom_dir, "test-thresholds.yml"), "w") as f:
            yaml.safe_dump({"groups": [{"name": "e2e.thresholds", "rules": [
                {"record": "crashctl:monitor_silent_threshold_seconds", "expr": "vector(0)",
                 "labels": {"monitor": MONITOR_OK}}]}]}, f)
        rule_files.append(os.path.join(prom_dir, "test-thresholds.yml"))
        with open(os.path.join(prom_dir, "prometheus.yml"), "w") as f:
            yaml.safe_dump({
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "900ms"},
                "rule_files": rule_files,
                "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
                "scrape_configs": [{"job_name": "crashctl",
                                    "static_configs": [{"targets": [f"127.0.0.1:{crashctl_port}"]}]}],
            }, f)
        prom = Process("prometheus", [args.prometheus, f"--config.file={prom_dir}/prometheus.yml",
                                      f"--storage.tsdb.path={prom_dir}/data",
                                      f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"], work)
        procs.append(prom)

        for proc, port, path in ((am, am_port, "/-/ready"), (crashctl, crashctl_port, "/metrics"),
                                 (prom, prom_port, "/-/ready")):
            wait_until(f"{proc.name} ready", lambda: ready(proc, f"http://127.0.0.1:{port}{path}"), 20)
        log(f"all up: crashctl :{crashctl_port} prometheus :{prom_port} alertmanager :{am_port} api :{api_port}")

        # Phase A: one of everything, so each counter has a first sample.
        seed = Seeder(base, key, project_id)
        seed.event("OrderError", "order 1 failed", "checkout")
        seed.event("ComebackError", "it is back", "checkout", function="comeback")
        seed.event("SlowQuery", "query took 5s", "api", level="warning")
        seed.event("Panic", "nil map", "api", level="fatal", release="2.0.0")
        seed.event("BurstError", "burst 1", "spiky")
        seed.malformed(1)
        seed.envelope_session()
        seed.transactions(1)
        seed.transaction("shop", "GET /legacy/item-1", 0.05, source="url")  # << unparameterized >>
        seed.transaction("shop", "GET /export", 0.5, spans=1001)  # past the span limit: cut
        # Release health and cron monitors: every series gets its first sample
        # here, so Phase B's sessions are visible to increase().
        new_families = []
        try:
            seed.sessions(CRASHING_RELEASE, "production", exited=1, errored=1, crashed=1, abnormal=1)
            seed.sessions(CRASHING_RELEASE, "staging", exited=1)
            seed.sessions(HEALTHY_RELEASE, "production", exited=1)
            seed.sessions(HEALTHY_RELEASE, None, exited=1)  # no environment: label ""
            seed.client_report()
            run = seed.check_in(MONITOR_OK, "in_progress")
            seed.check_in(MONITOR_OK, "ok", check_in_id=run)
            seed.check_in(MONITOR_FAILING, "in_progress", schedule={"type": "interval", "value": 1, "unit": "day"})
            new_families = [f'crashctl_sessions_total{{release="{CRASHING_RELEASE}",status="crashed"}}',
                            f'crashctl_sessions_total{{release="{HEALTHY_RELEASE}"}}',
                            f'crashctl_monitor_checkins_total{{monitor="{MONITOR_OK}",status="ok"}}',
                            f'crashctl_monitor_last_checkin_timestamp_seconds{{monitor="{MONITOR_FAILING}"}}']
        except RuntimeError as e:  # keep going: report every problem
            failures.append(f"sessions/check-in seeding: {e}")
            log(f"FAIL sessions/check-in seeding: {e}")
        try:
            wait_until("Prometheus scraped the seeded sessions and check-ins",
                       lambda: all((prom_query(prom_port, e) or 0) > 0 for e in new_families), 10)
        except TimeoutError as e:
            failures.append(f"release health and monitor series: {e} ({new_families})")
            log(f"FAIL release health and monitor series: {e}")
        wait_until("Prometheus scraped the seeded events",
                   lambda: (prom_query(prom_port, 'crashctl_events_total{service="spiky"}') or 0) > 0 and
                   (prom_query(prom_port, "crashctl_ingest_rejected_total") or 0) > 0 and
                   (prom_query(prom_port, 'crashctl_transaction_duration_seconds_count{service="reports"}')
                    or 0) > 0, 15)

        # Phase B: increases, a regression, new groups, a burst, rejects, and
        # an OOMKill in a new namespace.
        try:
            comeback = wait_until("the ComebackError group in GET /api/v1/groups",
                                  lambda: seed.group_id("ComebackError"), 5)
            seed.resolve(comeback)
            seed.event("ComebackError", "it is back", "checkout", function="comeback")  # regression
        except (TimeoutError, RuntimeError) as e:  # keep going: report every problem
            failures.append(f"regression seeding: {e}")
            log(f"FAIL regression seeding: {e}")
        seed.event("RefundError", "refund 7 failed", "checkout", release="1.1.0")  # new group
        for i in range(120):
            seed.event("BurstError", f"burst {i}", "spiky")
        seed.malformed(20)
        # rate() divides by the whole 5m window: 30 make 0.1/s, above the
        # alerts' 0.05/s traffic floor.
        seed.transactions(30)
        # A failed payment whose error event carries the request's trace: the
        # trace panels (GET /api/v1/traces/$trace_id) show its nodes and error.
        trace = seed.transaction("shop", "POST /pay", 0.1, status="internal_error", method="POST",
                                 http_status=500)
        seed.event("PaymentDeclined", "card declined", "shop", function="pay", trace=trace)
        # 25 more sessions of the crashing release (4 crashed: 5 of 30 in
        # all, 83% crash-free, under 99%), 30 of the healthy one; the HTTP
        # check-in of the healthy monitor and a failed run of the other.
        try:
            seed.sessions(CRASHING_RELEASE, "production", exited=16, errored=2, crashed=4)
            seed.sessions(CRASHING_RELEASE, "staging", exited=3)
            seed.sessions(HEALTHY_RELEASE, "production", exited=30)
            seed.http_check_in(MONITOR_OK, "ok")
            seed.http_check_in(MONITOR_FAILING, "error")
        except RuntimeError as e:
            failures.append(f"sessions/check-in seeding: {e}")
            log(f"FAIL sessions/check-in seeding: {e}")
        VARIABLE_VALUES["trace_id"] = trace[0]
        with open(os.path.join(args.source_dir, "tests/kube/fixtures/pod_oomkilled.json")) as f:
            pod = json.load(f)
        pod = copy.deepcopy(pod)
        pod["metadata"]["namespace"] = "payments"
        pod["metadata"]["name"] = "ledger-5f7c9d8b4-q2w3e"
        pod["metadata"]["generateName"] = "ledger-5f7c9d8b4-"
        pod["metadata"]["uid"] = str(uuid.uuid4())
        pod["metadata"]["ownerReferences"][0]["name"] = "ledger-5f7c9d8b4"
        pod["metadata"]["labels"]["pod-template-hash"] = "5f7c9d8b4"
        oom_posted = time.monotonic()
        status, text = http("POST", f"http://127.0.0.1:{api_port}/_control/pods", json.dumps(pod),
                            {"Content-Type": "application/json"})
        if status not in (200, 201):
            raise RuntimeError(f"fake-apiserver refused the pod: {status} {text}")

        # OOMKill -> Alertmanager through the pusher (< 2 s) and the rule.
        try:
            pushed = wait_until("CrashctlPodCrash for the OOMKilled pod in Alertmanager",
                                lambda: amtool_alerts(args.amtool, am_port, "alertname=CrashctlPodCrash",
                                                      "crash_type=oom_killed", "namespace=payments"), 10)
            latency = time.monotonic() - oom_posted
            log(f"OK   pusher: CrashctlPodCrash (oom_killed, payments) in Alertmanager after {latency:.2f}s")
            if latency >= 2.0:
                failures.append(f"pushed OOMKill took {latency:.2f}s to reach Alertmanager (limit 2 s)")
            # The alert names the pod and links to its REST resource.
            alert = pushed[0]
            url = alert["annotations"].get("url", "")
            status, body = http("GET", url) if url.startswith(base + "/api/v1/crashes/") else (0, "")
            crash = json.loads(body) if status == 200 else {}
            if alert["labels"].get("pod") != pod["metadata"]["name"] or crash.get("pod") != pod["metadata"]["name"]:
                failures.append(f"pushed alert {alert['labels']} links to {url!r} ({status}), not to the crash")
            else:
                log(f"OK   pusher: alert links to {url}")
        except TimeoutError as e:
            failures.append(f"pusher path: {e}")
            log(f"FAIL pusher path: {e}")
        try:
            wait_until("CrashctlPodOOMKilled{namespace=payments} from Prometheus in Alertmanager",
                       lambda: amtool_alerts(args.amtool, am_port, "alertname=CrashctlPodOOMKilled",
                                             "namespace=payments"), 20)
            log(f"OK   rule: CrashctlPodOOMKilled (payments) in Alertmanager after "
                f"{time.monotonic() - oom_posted:.2f}s")
        except TimeoutError as e:
            failures.append(f"rule path: {e}")
            log(f"FAIL rule path: {e}")

        # Every expression returns data.
        dashboard = [(w, substitute(e)) for w, e in prom_exprs]
        after_watch_down = [(w, e) for w, e in dashboard if any(m in e for m in WATCH_DOWN_SERIES)]
        pending = [(w, e) for w, e in dashboard if (w, e) not in after_watch_down]
        pending += [(w, e) for w, e, name in rules
                    if name not in WATCH_DOWN_ALERTS | CRASHCTL_DOWN_ALERTS | SLOW_ALERTS]
        for where, expr, name in rules:
            if name in SLOW_ALERTS:
                if prom_query(prom_port, expr) is None:
                    failures.append(f"{where}: query error for {expr!r}")
                    log(f"FAIL {where}: query error")
                else:
                    log(f"OK   {where}: valid query (no data expected within the run)")

        def check(exprs, timeout):
            remaining = list(exprs)
            end = min(time.monotonic() + timeout, DEADLINE)
            while remaining and time.monotonic() < end:
                still = []
                for where, expr in remaining:
                    n = prom_query(prom_port, expr)
                    if n is None:
                        failures.append(f"{where}: query error for {expr!r}")
                        log(f"FAIL {where}: query error")
                    elif n > 0:
                        log(f"OK   {where}")
                    else:
                        still.append((where, expr))
                remaining = still
                if remaining:
                    time.sleep(0.5)
            for where, expr in remaining:
                failures.append(f"{where}: no data for {expr!r}")
                log(f"FAIL {where}: no data")

        check(pending, 25)
        def rows(url, root):
            status, body = http("GET", base + url)
            return status, (json.loads(body).get(root) if status == 200 else None)

        def has_path(item, selector):
            """The dotted column selector names a key of the item (its value
            may be null)."""
            for key in selector.split("."):
                if not isinstance(item, dict) or key not in item:
                    return False
                item = item[key]
            return True

        # The REST panels' other variables: the first seeded group, the last
        # 6 hours (Grafana's ${__from:date:iso} and ${__to:date:iso}).
        status, body = http("GET", base + "/api/v1/groups?limit=1")
        items = json.loads(body).get("items") if status == 200 else None
        rest_values = {
            "group": str(items[0]["id"]) if items else "1",
            "__from:date:iso": datetime.datetime.fromtimestamp(
                time.time() - 6 * 3600, datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "__to:date:iso": iso_now(),
        }
        for where, url, root, columns in infinity_urls:
            url = re.sub(r"\$\{?trace_id\}?", VARIABLE_VALUES.get("trace_id", "unknown"), url)
            url = re.sub(r"\$\{([A-Za-z0-9_:]+)\}", lambda m: urllib.parse.quote(rest_values.get(m.group(1), m.group(0))), url)
            status, items = rows(url, root)
            if not items and "/traces/" in url:  # the error may be committed after the transaction
                try:
                    status, items = wait_until(f"{url} {root}", lambda: (lambda r: r if r[1] else None)(
                        rows(url, root)), 5)
                except TimeoutError:
                    pass
            missing = [c for c in columns if items and not any(has_path(i, c) for i in items)]
            if items and missing:
                failures.append(f"{where}: {url} rows have no {missing}")
                log(f"FAIL {where}: {url} rows have no {missing}")
            elif items:
                log(f"OK   {where}: {url} -> {len(items)} items, every column present")
            else:
                failures.append(f"{where}: {url} answered {status} with no {root}")
                log(f"FAIL {where}: {url} -> {status}")

        # The services rules: shop's slow route and failing service are above
        # the default thresholds; reports' slow route is under its override.
        def services_alerts():
            slow = prom_label_sets(prom_port, rules_by_name["CrashctlRouteLatencyHigh"])
            failing = prom_label_sets(prom_port, rules_by_name["CrashctlServiceErrorRatioHigh"])
            return ({(m.get("service"), m.get("transaction")) for m in slow},
                    {m.get("service") for m in failing})
        rules_by_name = {name: expr for _, expr, name in rules}
        try:
            slow, failing = wait_until(
                "CrashctlRouteLatencyHigh and CrashctlServiceErrorRatioHigh expressions",
                lambda: (lambda r: r if r[0] and r[1] else None)(services_alerts()), 15)
            if slow != {("shop", "GET /slow/:id")} or failing != {"shop"}:
                failures.append(f"services rules: slow routes {sorted(slow)}, failing services "
                                f"{sorted(failing)}; expected shop's GET /slow/:id and shop only")
            else:
                log("OK   services rules: shop GET /slow/:id slow, shop failing, reports under its override")
        except TimeoutError as e:
            failures.append(f"services rules: {e}")
            log(f"FAIL services rules: {e}")

        # The releases and monitors rules: the crashing release only; the
        # failing monitor; the healthy one is "silent" under the test's 0 s
        # override, the failing one under the 2-day default is not.
        def label_values(alert, label):
            return {m.get(label) for m in prom_label_sets(prom_port, rules_by_name[alert])}
        for alert, label, expected in (
                ("CrashctlReleaseCrashFreeRateLow", "release", {CRASHING_RELEASE}),
                ("CrashctlMonitorCheckInErrors", "monitor", {MONITOR_FAILING}),
                ("CrashctlMonitorSilent", "monitor", {MONITOR_OK})):
            try:
                got = wait_until(f"{alert} expression", lambda: label_values(alert, label), 10)
                if got != expected:
                    failures.append(f"{alert}: {label} {sorted(got)}, expected {sorted(expected)}")
                    log(f"FAIL {alert}: {label} {sorted(got)}")
                else:
                    log(f"OK   {alert}: {label} {sorted(got)}")
            except TimeoutError as e:
                failures.append(f"{alert}: {e}")
                log(f"FAIL {alert}: {e}")
        # The failed run opened an incident (failure_issue_threshold 1):
        # crashctl pushed CrashctlMonitorFailed and exports the open incident.
        try:
            pushed = wait_until("CrashctlMonitorFailed for the failing monitor in Alertmanager",
                                lambda: amtool_alerts(args.amtool, am_port, "alertname=CrashctlMonitorFailed",
                                                      f"monitor={MONITOR_FAILING}"), 10)
            labels = pushed[0]["labels"]
            if labels.get("reason") != "error" or labels.get("project") is None:
                failures.append(f"CrashctlMonitorFailed labels {labels}: expected reason=error and a project")
            else:
                log(f"OK   pusher: CrashctlMonitorFailed {labels.get('monitor')} reason={labels.get('reason')}")
            wait_until("crashctl_monitor_incident_open of the failing monitor",
                       lambda: prom_query(prom_port, f'crashctl_monitor_incident_open{{monitor="{MONITOR_FAILING}"}} == 1'),
                       5)
        except TimeoutError as e:
            failures.append(f"monitor incident: {e}")
            log(f"FAIL monitor incident: {e}")
        # GET /api/v1/releases counts the sessions of the crashing release
        # (polled: sessions may be written after the envelope's answer).
        def crashing_release():
            status, body = http("GET", f"{base}/api/v1/releases?limit=100")
            items = json.loads(body).get("items", []) if status == 200 else []
            return status, next((r for r in items if r.get("release") == CRASHING_RELEASE), None)

        def counted(release):
            sessions = (release or {}).get("sessions", {})
            return (sessions.get("total") == 30 and sessions.get("crashed") == 5 and
                    sessions.get("errored") == 3 and sessions.get("abnormal") == 1 and
                    0 < (release.get("crash_free_sessions") or 0) < 99)
        try:
            release = wait_until(f"GET /api/v1/releases counting {CRASHING_RELEASE}'s sessions",
                                 lambda: (lambda r: r[1] if counted(r[1]) else None)(crashing_release()), 10)
            log(f"OK   GET /api/v1/releases: {CRASHING_RELEASE} {release['sessions']}, "
                f"{release['crash_free_sessions']} % crash-free")
        except TimeoutError:
            status, release = crashing_release()
            failures.append(f"GET /api/v1/releases: {CRASHING_RELEASE} is {release} ({status}); expected 30 "
                            "sessions, 5 crashed, 3 errored, 1 abnormal, crash-free between 0 and 99 %")
            log(f"FAIL GET /api/v1/releases {CRASHING_RELEASE}")

        # Watch down: stop the API server.
        api.stop()
        check([(w, e) for w, e, name in rules if name in WATCH_DOWN_ALERTS] + after_watch_down, 15)
        # crashctl down.
        crashctl.stop()
        check([(w, e) for w, e, name in rules if name in CRASHCTL_DOWN_ALERTS], 10)
    except (TimeoutError, RuntimeError, OSError, ValueError) as e:
        failures.append(str(e))
        log(f"FAIL {e}")
    finally:
        for p in reversed(procs):
            p.stop()
        if failures:
            for p in procs:
                log(f"--- {p.name} log (tail) ---\n{p.tail()}")
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        log(f"{len(failures)} failure(s):")
        for f in failures:
            log(f"  - {f}")
        return 1
    log("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
