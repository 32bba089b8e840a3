#!/usr/bin/env python3
"""Where the default configuration gives way to slow clients.

Starts `crashctl serve` with its defaults, then for each step N keeps N
connections trickling a request body (one byte a second after the headers)
and N trickling headers (one header line a second), each reconnecting when
the server closes it, spread over 16 loopback source addresses (so the
per-client cap does not stop them). Meanwhile a normal client asks for
/healthz and ingests an event every 100 ms and records how long each answer
takes. One Markdown table row per step.

  bench/slow_clients.py BUILD [STEPS] [SECONDS]
  e.g. bench/slow_clients.py build 100,200,250,300,400 15
"""
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Slow:
    def __init__(self, port, index, body):
        self.port, self.index, self.body = port, index, body
        self.sock = None
        self.next = 0.0

    def open(self):
        if self.sock:
            self.sock.close()
        self.sock = socket.socket()
        self.sock.setblocking(True)
        try:
            self.sock.bind(("127.0.0.%d" % (20 + self.index % 16), 0))
            self.sock.connect(("127.0.0.1", self.port))
            self.sock.sendall(
                b"POST /api/1/store/ HTTP/1.1\r\nHost: x\r\n"
                b"Content-Length: 100000\r\n\r\n" if self.body else
                b"GET /healthz HTTP/1.1\r\n")
            self.sock.setblocking(False)
        except OSError:
            self.sock.close()
            self.sock = None
        self.next = time.monotonic() + 1


def timed(request):
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            r.read()
            ok = r.status == 200
    except Exception:
        ok = False
    return time.monotonic() - start, ok


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    steps = [int(x) for x in (sys.argv[2] if len(sys.argv) > 2 else
                              "100,200,250,300,400").split(",")]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 15
    binary = os.path.join(build, "cmd", "crashctl")
    data = tempfile.mkdtemp(prefix="crashctl-slow-")
    port = free_port()
    env = dict(os.environ, CRASHCTL_LOG_LEVEL="error")
    server = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:%d" % port, "--data", data],
        env=env)
    base = "http://127.0.0.1:%d" % port
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            break
        except Exception:
            time.sleep(0.05)
    out = subprocess.run(
        [binary, "project", "create", "--name", "bench", "--data", data],
        env=dict(env, CRASHCTL_SERVER_BASE_URL=base), capture_output=True,
        text=True).stdout
    short = [l for l in out.splitlines() if l.startswith("Short DSN:")][0]
    short = short.split(": ", 1)[1]
    print("| slow bodies + slow headers | answers | errors | p50 s | p99 s | "
          "worst s | within 2 s |")
    print("|---|---|---|---|---|---|---|")
    try:
        for n in steps:
            slow = [Slow(port, i, i < n) for i in range(2 * n)]
            for s in slow:
                s.open()
            time.sleep(2)
            latencies, errors = [], 0
            until = time.monotonic() + seconds
            next_normal = 0.0
            while time.monotonic() < until:
                now = time.monotonic()
                socks = [s.sock for s in slow if s.sock]
                readable = select.select(socks, [], [], 0)[0] if socks else []
                by_sock = {s.sock: s for s in slow if s.sock}
                for r in readable:
                    s = by_sock[r]
                    try:
                        if not r.recv(4096):
                            s.open()
                    except OSError:
                        s.open()
                for s in slow:
                    if s.sock is None:
                        s.open()
                    elif now >= s.next:
                        try:
                            s.sock.send(b"x" if s.body else b"X-Slow: 1\r\n")
                        except OSError:
                            s.open()
                        s.next = now + 1
                if now >= next_normal:
                    for request in (base + "/healthz", urllib.request.Request(
                            short, data=json.dumps({"message": "normal"}).encode(),
                            headers={"Content-Type": "application/json"})):
                        t, ok = timed(request)
                        latencies.append(t)
                        errors += 0 if ok else 1
                    next_normal = time.monotonic() + 0.1
                time.sleep(0.01)
            for s in slow:
                if s.sock:
                    s.sock.close()
            latencies.sort()
            p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
            within = sum(1 for t in latencies if t < 2) / max(1, len(latencies))
            print("| %d + %d | %d | %d | %.3f | %.3f | %.3f | %.1f%% |" % (
                n, n, len(latencies), errors, p(0.5), p(0.99), latencies[-1],
                100 * within))
            sys.stdout.flush()
            time.sleep(12)  # let the server drop what is left
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
