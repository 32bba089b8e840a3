"""Drives the real Python sentry_sdk to send request-mode session aggregates.

sentry_sdk sends `sessions` items only from its WSGI (and similar)
integrations: every request is a session, aggregated per minute and flushed
as one item. This serves a tiny WSGI app with wsgiref on loopback, sends it
requests (ok, a captured error, an unhandled exception), and flushes.
Usage: python3 sentry_python_wsgi.py DSN
"""
import sys
import threading
import urllib.error
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import sentry_sdk
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/boom":
        raise RuntimeError("unhandled in request")  # crashed session
    if path == "/handled":
        try:
            raise ValueError("handled in request")
        except ValueError:
            sentry_sdk.capture_exception()  # errored session
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def main():
    if len(sys.argv) != 2:
        print("usage: sentry_python_wsgi.py DSN", file=sys.stderr)
        return 2
    sentry_sdk.init(
        dsn=sys.argv[1],
        release="api@3.1.0",
        environment="production",
        auto_session_tracking=True,
        default_integrations=False,
    )
    server = make_server(
        "127.0.0.1", 0, SentryWsgiMiddleware(app), handler_class=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = "http://127.0.0.1:%d" % server.server_port
    for path in ["/", "/a", "/handled", "/boom", "/b"]:
        try:
            urllib.request.urlopen(base + path, timeout=10).read()
        except urllib.error.HTTPError:
            pass
    server.shutdown()
    sentry_sdk.flush(timeout=10)
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
