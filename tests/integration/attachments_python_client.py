"""Drives the real sentry_sdk (Debian python3-sentry-sdk 1.9) against a
crashctl server: an error event with two scope attachments (a text file and
binary bytes with every byte value), then user feedback about it.

Usage: python3 attachments_python_client.py DSN

sentry_sdk 1.9 has no capture_user_feedback (added in 2.x): the feedback is
sent as the documented `user_report` envelope item through the SDK's own
transport. Prints "event_id=<id>" on success.
"""
import sys

import sentry_sdk
from sentry_sdk.envelope import Envelope, Item, PayloadRef

if len(sys.argv) != 2:
    sys.exit("usage: attachments_python_client.py DSN")

sentry_sdk.init(
    dsn=sys.argv[1],
    release="reports@3.1.0",
    default_integrations=False,
    auto_enabling_integrations=False,
)

BINARY = bytes(range(256)) * 8  # 2 KiB, every byte value, NULs and newlines

with sentry_sdk.configure_scope() as scope:
    scope.add_attachment(bytes=b"line one\nline two\n", filename="app.log",
                         content_type="text/plain")
    scope.add_attachment(bytes=BINARY, filename="state.bin")

try:
    raise KeyError("missing report")
except KeyError:
    event_id = sentry_sdk.capture_exception()

if hasattr(sentry_sdk, "capture_user_feedback"):
    sentry_sdk.capture_user_feedback({"event_id": event_id, "name": "Ann",
                                      "email": "ann@example.com",
                                      "comments": "the report vanished"})
else:
    client = sentry_sdk.Hub.current.client
    envelope = Envelope(headers={"event_id": event_id})
    envelope.add_item(Item(payload=PayloadRef(json={
        "event_id": event_id, "name": "Ann", "email": "ann@example.com",
        "comments": "the report vanished"}), type="user_report"))
    client.transport.capture_envelope(envelope)

sentry_sdk.flush(timeout=10)
print("event_id=%s" % event_id)
