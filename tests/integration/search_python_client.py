"""Sends errors with tags, users, releases and environments through the
real sentry_sdk (Debian python3-sentry-sdk) for the REST search test
(search_api_test.cc).

Usage: python3 search_python_client.py DSN [ROUND]

ROUND "first" (default):
  * 3 x ValueError("payment declined for card"), release shop@1.0,
    environment prod, tag region=eu, users u1, u2, u1.
  * 2 x TimeoutError("upstream timeout after 30s"), release shop@2.0,
    environment staging, tag region=us, user u3.
ROUND "again": 1 more TimeoutError as above (user u4).
"""
import sys

import sentry_sdk

if len(sys.argv) not in (2, 3):
    sys.exit("usage: search_python_client.py DSN [first|again]")
round_ = sys.argv[2] if len(sys.argv) == 3 else "first"


def send(release, environment, region, user, exc):
    client = sentry_sdk.Client(
        dsn=sys.argv[1],
        release=release,
        environment=environment,
        default_integrations=False,
        auto_enabling_integrations=False,
    )
    hub = sentry_sdk.Hub(client)
    with hub.configure_scope() as scope:
        scope.set_tag("region", region)
        scope.set_user({"id": user, "email": user + "@example.com"})
    try:
        raise exc
    except Exception:  # noqa: BLE001 - captured on purpose
        hub.capture_exception()
    client.flush(timeout=10)
    client.close(timeout=10)


def payment(user):
    send("shop@1.0", "prod", "eu", user,
         ValueError("payment declined for card"))


def timeout(user):
    send("shop@2.0", "staging", "us", user,
         TimeoutError("upstream timeout after 30s"))


if round_ == "first":
    for user in ("u1", "u2", "u1"):
        payment(user)
    for _ in range(2):
        timeout("u3")
else:
    timeout("u4")
