#!/usr/bin/env python3
"""Writes the prefixed_*.txt samples: verbatim runtime output from this
directory wrapped the way log collectors deliver it (CRI, kubectl
--timestamps, Docker JSON, JSON log records, Go's log package, unrelated
lines interleaved). Run from this directory; the output is deterministic."""
import json


def read(name):
    with open(name, encoding="utf-8") as f:
        return f.read().rstrip("\n").split("\n")


def write(name, lines):
    with open(name, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def ts(k):
    return "2024-05-01T12:00:%02d.%09dZ" % (k // 1000 % 60, 123456789 + k)


# CRI (containerd/CRI-O files, kubelet): stderr lines, a few stdout lines
# interleaved, and the longest line split into P (partial) pieces.
go = read("go_nil_pointer_sigsegv.txt")
out = [ts(0) + " stdout F starting server on :8080",
       ts(1) + " stdout F GET /healthz 200"]
longest = max(range(len(go)), key=lambda i: len(go[i]))
for k, line in enumerate(go):
    t = ts(10 + k)
    if k == longest:
        third = max(1, len(line) // 3)
        out.append(t + " stderr P " + line[:third])
        out.append(ts(500) + " stdout F GET /metrics 200")
        out.append(t + " stderr P " + line[third:2 * third])
        out.append(t + " stderr F " + line[2 * third:])
    else:
        out.append(t + " stderr F " + line)
    if k == 2:
        out.append(ts(600) + " stdout F worker 3 idle")
write("prefixed_cri_go_nil_pointer.txt", out)

# kubectl logs --timestamps: RFC 3339 with nanoseconds, then the text.
java = read("java_caused_by.txt")
out = [ts(0) + " 12:00:00.000 [main] INFO  com.example.Main - loading config"]
out += [ts(1 + k) + " " + line for k, line in enumerate(java)]
write("prefixed_kubectl_timestamps_java.txt", out)

# Docker's json-file driver: one object per line; the third line of the
# trace split in two partial records (no trailing "\n" in the first).
py = read("python_chained.txt")
out = [json.dumps({"log": "service starting\n", "stream": "stdout",
                   "time": "2024-05-01T12:00:00.000000001Z"})]
for k, line in enumerate(py):
    t = "2024-05-01T12:00:01.%09dZ" % k
    if k == 2:
        out.append(json.dumps({"log": line[:10], "stream": "stderr", "time": t}))
        out.append(json.dumps({"log": "health ok\n", "stream": "stdout", "time": t}))
        out.append(json.dumps({"log": line[10:] + "\n", "stream": "stderr", "time": t}))
    else:
        out.append(json.dumps({"log": line + "\n", "stream": "stderr", "time": t}))
write("prefixed_docker_json_python.txt", out)

# A JSON log record (pino-style) whose err.stack carries the Node trace,
# between unrelated records; the report's lines are the stack's lines.
node = read("node_cause.txt")
start = node.index("ConfigError: bad config")
stack = "\n".join(node[start:node.index("}") + 1])
out = [json.dumps({"level": 30, "time": 1714564800000, "msg": "listening"}),
       json.dumps({"level": 60, "time": 1714564801000, "msg": "uncaught",
                   "err": {"type": "ConfigError", "message": "bad config",
                           "stack": stack}}),
       json.dumps({"level": 30, "time": 1714564802000, "msg": "shutting down"})]
write("prefixed_json_record_node.txt", out)

# A logstash-style JSON record with the Java trace in stack_trace, inside a
# Docker JSON line (a JSON record as the container's output).
record = json.dumps({"@timestamp": "2024-05-01T12:00:00.000Z", "level": "ERROR",
                     "message": "request failed",
                     "stack_trace": "\n".join(java[0][len('Exception in thread "main" '):].split("\n") + java[1:]) + "\n"})
out = [json.dumps({"log": record + "\n", "stream": "stdout",
                   "time": "2024-05-01T12:00:00.000000001Z"})]
write("prefixed_docker_json_record_java.txt", out)

# Go's log package ("2024/05/01 12:00:00 ") on every line of a Rust panic
# (as a supervisor that timestamps each line would write it), with
# unrelated lines before it.
rust = read("rust_1.95_expect_backtrace.txt")
out = ["2024/05/01 12:00:00 worker: started", "2024/05/01 12:00:01 worker: job 7"]
out += ["2024/05/01 12:00:02 " + line for line in rust]
write("prefixed_golog_rust.txt", out)

# Unrelated lines interleaved inside the traces (another thread writing to
# the same stream): one inside the Go goroutine list, one between Python
# frames, one between Java frames.
go = read("go_concurrent_map_writes.txt")
out = go[:3] + ["INFO flushed 12 rows"] + go[3:12] + ["INFO flushed 3 rows"] + go[12:]
write("prefixed_noise_go_map_writes.txt", out)
py = read("python_value_error.txt")
out = ["INFO:root:request 1"] + py[:3] + ["INFO:root:request 2 done in 3ms"] + py[3:]
write("prefixed_noise_python.txt", out)
java = read("java_caused_by.txt")
out = java[:5] + ["12:00:00.001 [pool-1] INFO  com.example.Job - tick"] + java[5:]
write("prefixed_noise_java.txt", out)

# Several reports in one tail: the last one (a Go panic) is the answer.
out = read("python_value_error.txt") + ["restarting"] + read("java_npe.txt") + \
      ["restarting"] + read("go_nil_map.txt") + ["exit status 2"]
write("prefixed_last_of_three.txt", out)
