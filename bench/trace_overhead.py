#!/usr/bin/env python3
"""Overhead of `crashctl run`'s ptrace tracer: paired runs of the same child
traced and with --no-trace, written as a Markdown section to bench/TRACING.md
(bench/run.sh copies that file into RESULTS.md).

    python3 bench/trace_overhead.py [--build build] [--pairs 7] [--out FILE]

Children (bench/trace_subject.c, tests/supervisor/programs/go_recover.go):
a CPU-bound loop, the same loop receiving 10,000 SIGUSR1/s from a POSIX timer
(detached from after a second over 2,000 signals/s, the default, and traced
throughout with CRASHCTL_TRACE_MAX_SIGNALS=0),
1,000 short processes (fork + exec /bin/true), and a Go program with two busy
goroutines (detached from, the default, and traced with CRASHCTL_TRACE_GO=1).

Each pair runs both variants back to back, in alternating order (the first
run of a pair is often slower on a shared machine); the overhead is the median
of the pairs' wall-time ratios. CPU is the supervisor's and the child's user +
system time together (getrusage of the children).
"""
import argparse
import datetime
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_once(crashctl, command, traced, env):
    args = [crashctl, "run"] + ([] if traced else ["--no-trace"]) + ["--"] + command
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    r = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (r.returncode, " ".join(args), r.stderr.decode()))
    return wall, cpu, r.stdout.decode().strip().splitlines()[-1]


def measure(crashctl, command, pairs, env, traced_env=None):
    traced_env = traced_env or env
    rows = {True: [], False: []}
    ratios = []
    last = ""
    run_once(crashctl, command, False, env)  # warm-up: page cache, binaries
    for i in range(pairs):
        order = [True, False] if i % 2 == 0 else [False, True]
        got = {}
        for traced in order:
            got[traced] = run_once(crashctl, command, traced, traced_env if traced else env)
            rows[traced].append(got[traced])
        ratios.append(got[True][0] / got[False][0])
        last = got[True][2]
    med = lambda xs: statistics.median(xs)
    return {
        "untraced_wall": med([w for w, _, _ in rows[False]]),
        "traced_wall": med([w for w, _, _ in rows[True]]),
        "untraced_cpu": med([c for _, c, _ in rows[False]]),
        "traced_cpu": med([c for _, c, _ in rows[True]]),
        "ratio": med(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "output": last,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--pairs", type=int, default=int(os.environ.get("TRACE_PAIRS", "7")))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "TRACING.md"))
    args = ap.parse_args()
    crashctl = os.path.join(ROOT, args.build, "cmd", "crashctl")
    if not os.access(crashctl, os.X_OK):
        sys.exit("no %s: build it first" % crashctl)
    tmp = tempfile.mkdtemp(prefix="crashctl-trace-bench-")
    try:
        subject = os.path.join(tmp, "trace_subject")
        subprocess.check_call(["cc", "-O2", "-o", subject,
                               os.path.join(ROOT, "bench", "trace_subject.c")])
        env = dict(os.environ, CRASHCTL_SPOOL_DIR=os.path.join(tmp, "spool"))
        env.pop("CRASHCTL_DSN", None)
        env.pop("CRASHCTL_NO_TRACE", None)
        scenarios = [
            ("CPU-bound (10^9 iterations)", [subject, "cpu", "10"], None),
            ("CPU-bound + 10,000 SIGUSR1/s handled (detached after 1 s: the default)",
             [subject, "signals", "10000", "10"], None),
            ("CPU-bound + 10,000 SIGUSR1/s handled, traced (CRASHCTL_TRACE_MAX_SIGNALS=0)",
             [subject, "signals", "10000", "10"], dict(env, CRASHCTL_TRACE_MAX_SIGNALS="0")),
            ("1,000 short processes (fork + exec /bin/true)", [subject, "fork", "1000"], None),
        ]
        go = shutil.which("go")
        if go:
            gobin = os.path.join(tmp, "go_recover")
            genv = dict(os.environ, GOCACHE=os.path.join(tmp, "gocache"), HOME=tmp,
                        GO111MODULE="off", GOFLAGS="")
            subprocess.check_call([go, "build", "-o", gobin, os.path.join(
                ROOT, "tests", "supervisor", "programs", "go_recover.go")], env=genv, cwd=tmp)
            scenarios.append(("Go, 2 busy goroutines (detached: the default)",
                              [gobin, "work", "10"], None))
            scenarios.append(("Go, 2 busy goroutines, traced (CRASHCTL_TRACE_GO=1)",
                              [gobin, "work", "10"], dict(env, CRASHCTL_TRACE_GO="1")))
        load = open("/proc/loadavg").read().split()[:3]
        results = []
        for name, command, traced_env in scenarios:
            r = measure(crashctl, command, args.pairs, env, traced_env)
            results.append((name, r))
            print("%-55s %+6.1f%%  (%s)" % (name, (r["ratio"] - 1) * 100, r["output"]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = int(open("/proc/meminfo").readline().split()[1]) / 1048576
    lines = [
        "## Overhead of tracing (`crashctl run` with ptrace vs `--no-trace`)",
        "",
        "Written by `python3 bench/trace_overhead.py` (`make bench-trace`) on %s." %
        datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%MZ"),
        "",
        "- Machine: %d cores, %.0f GiB, %s, kernel %s" % (os.cpu_count(), mem, cpu, os.uname().release),
        "- Command: `python3 bench/trace_overhead.py --pairs %d` (build `%s`, the real `crashctl run`, no DSN)" %
        (args.pairs, args.build),
        "- Load average when the runs started: %s (other processes share the cores)" % " ".join(load),
        "- %d pairs per row, each pair both variants back to back in alternating order; overhead = median of "
        "the pairs' wall-time ratios (range in brackets); CPU = supervisor + child user+system time, median" %
        args.pairs,
        "",
        "| child | --no-trace wall s | traced wall s | overhead | --no-trace CPU s | traced CPU s |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results:
        lines.append("| %s | %.3f | %.3f | %+.1f%% [%+.1f%%, %+.1f%%] | %.3f | %.3f |" % (
            name, r["untraced_wall"], r["traced_wall"], (r["ratio"] - 1) * 100,
            (r["ratio_min"] - 1) * 100, (r["ratio_max"] - 1) * 100, r["untraced_cpu"], r["traced_cpu"]))
    lines.append("")
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
