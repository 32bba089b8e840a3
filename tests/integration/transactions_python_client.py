"""Drives the real sentry_sdk (Debian python3-sentry-sdk 1.9) against a
crashctl server: transactions with known durations, HTTP statuses, child
spans, and an error captured inside a span of a trace with a fixed id.

Usage: python3 transactions_python_client.py DSN

Service "reports" (tag), release reports@3.1.0:
  * 10 x "GET /reports/{id}" (source route, op http.server), durations
    0.07 + 0.1 * k s for k = 0..9 (0.07 ... 0.97), each with a db.query
    child span; k = 2 answers 500 (internal_error), k = 6 answers 503
    (unavailable), the rest 200 (ok).
  * 1 x "POST /reports/{id}/render" in trace
    4bf92f3577b34da6a3ce929d0e0e4736 (start_transaction(trace_id=...)),
    1.5 s, children db.query and template.render; a ValueError is captured
    inside template.render, so the error event carries that span's id; 500.
sentry_sdk 1.9 has no end timestamp argument, so an event processor (public
API) sets each transaction's start_timestamp to its timestamp minus the
duration in its "test.duration" tag: the durations are exact, the payload
is otherwise the SDK's own.
"""
import sys
from datetime import timedelta

import sentry_sdk

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"

if len(sys.argv) != 2:
    sys.exit("usage: transactions_python_client.py DSN")

sentry_sdk.init(
    dsn=sys.argv[1],
    traces_sample_rate=1.0,
    release="reports@3.1.0",
    environment="prod",
    default_integrations=False,
    auto_enabling_integrations=False,
)
sentry_sdk.set_tag("service", "reports")


def exact_duration(event, _hint):
    if event.get("type") == "transaction":
        tags = event.get("tags") or {}
        seconds = tags.pop("test.duration", None)
        if seconds is not None:
            event["start_timestamp"] = event["timestamp"] - timedelta(seconds=float(seconds))
    return event


with sentry_sdk.configure_scope() as scope:
    scope.add_event_processor(exact_duration)

for k in range(10):
    with sentry_sdk.start_transaction(name="GET /reports/{id}", op="http.server", source="route") as tx:
        tx.set_tag("test.duration", "%.2f" % (0.07 + 0.1 * k))
        with tx.start_child(op="db.query", description="SELECT * FROM reports WHERE id = %s"):
            pass
        tx.set_http_status({2: 500, 6: 503}.get(k, 200))

with sentry_sdk.start_transaction(name="POST /reports/{id}/render", op="http.server", source="route",
                                  trace_id=TRACE_ID) as tx:
    tx.set_tag("test.duration", "1.5")
    with tx.start_child(op="db.query", description="SELECT * FROM reports WHERE id = %s"):
        pass
    with tx.start_child(op="template.render", description="report.html") as span:
        try:
            raise ValueError("render failed for report 9")
        except ValueError:
            sentry_sdk.capture_exception()
        span.set_status("internal_error")
    tx.set_http_status(500)

sentry_sdk.flush(10)
print("sent")
