"""Drives the real sentry_sdk (Debian python3-sentry-sdk 1.9) to send
transactions to DSN: a task with an explicit trace id and two child spans
(one marked with an HTTP 503), a transaction continuing that trace from the
second child's sentry-trace header, and a routed request transaction.
Usage: python3 python_transactions.py DSN
"""
import sys

import sentry_sdk
from sentry_sdk.tracing import Transaction

if len(sys.argv) != 2:
    sys.exit("usage: python_transactions.py DSN")

sentry_sdk.init(
    dsn=sys.argv[1],
    traces_sample_rate=1.0,
    release="billing@2.0.1",
    environment="prod",
    default_integrations=False,
    auto_enabling_integrations=False,
)
sentry_sdk.set_tag("service", "billing")

headers = {}
with sentry_sdk.start_transaction(
    name="charge_card", op="task", trace_id="0af7651916cd43dd8448eb211c80319c"
) as tx:
    with tx.start_child(op="db.query", description="SELECT * FROM cards WHERE id = %s"):
        pass
    with tx.start_child(op="http.client", description="POST https://psp.example/charge") as span:
        headers["sentry-trace"] = span.to_traceparent()
        span.set_http_status(503)
    tx.set_http_status(502)

continued = Transaction.continue_from_headers(headers, name="send_receipt", op="queue.task")
with sentry_sdk.start_transaction(continued) as tx:
    with tx.start_child(op="smtp", description="send") as span:
        span.set_status("ok")
    tx.set_status("ok")

with sentry_sdk.start_transaction(name="/invoices/{id}", op="http.server", source="route") as tx:
    tx.set_http_status(404)

sentry_sdk.flush(10)
print("sent")
