"""Notifications from a real `neira-factory serve`: the signed webhook and the SSE stream, and shutdown."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest
from e2e_support import NODE_ID, TEMPLATE, Server, metrics
from notify_support import Receiver, Stream, open_events
from support import auth

from neira_factory.nervous.notify import verify_signature

SECRET = "e2e-webhook-secret"
WAIT_S = 15.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(default=204) as r:
        yield r


def sse(server: Server, params: dict | None = None) -> AbstractContextManager[Stream]:
    """`GET /events` as the read token, once the subscription is in place: a Stream (iterating it gives the events).

    A read timeout makes a stream that goes quiet fail the test rather than hang it.
    """
    return open_events(server.url, auth("read"), params, read_timeout=WAIT_S)


def test_a_capability_change_reaches_the_webhook_signed_and_the_stream(start_server, receiver):
    server = start_server(env={"NEIRA_NOTIFY_WEBHOOK_URL": receiver.url, "NEIRA_NOTIFY_WEBHOOK_SECRET": SECRET})
    admin = server.client("admin")
    with sse(server) as events:
        r = admin.put("/capabilities/factory_script", json={"state": "experimental", "reason": "e2e notify"})
        assert r.status_code == 200, r.text
        streamed = events.next_of("capability.changed")

    headers, body = receiver.wait_for("capability.changed")
    assert verify_signature(SECRET, headers["X-Neira-Timestamp"], body, headers["X-Neira-Signature"], max_age_s=300)
    assert not verify_signature("wrong", headers["X-Neira-Timestamp"], body, headers["X-Neira-Signature"])
    assert headers["Content-Type"] == "application/json" and headers["X-Neira-Delivery"]
    delivered = json.loads(body)
    assert delivered == {"id": delivered["id"], "type": "capability.changed", "resource": "factory_script",
                         "data": {"from": "locked", "to": "experimental", "actor": "admin"}, "ts": delivered["ts"]}
    # the stream and the webhook tell the same event, under the same id
    assert streamed["data"] == delivered and int(streamed["id"]) == delivered["id"]

    m = metrics(server.client("read"))
    assert m['notify_deliveries_total{outcome="delivered"}'] >= 1.0
    assert m['notify_deliveries_total{outcome="failed"}'] == 0.0


def test_node_events_and_a_generated_secret(start_server, receiver):
    server = start_server(env={"NEIRA_NOTIFY_WEBHOOK_URL": receiver.url})
    secret_file = server.var_dir / "webhook-secret"
    writer = server.client("write")
    with sse(server, params={"types": "node."}) as events:
        assert writer.post("/factory/nodes", json=TEMPLATE).status_code == 201
        assert writer.post(f"/factory/nodes/{NODE_ID}/approve", json={"reason": "e2e"}).status_code == 200
        created, moved = events.next_of("node.created"), events.next_of("node.transition")
    assert (created["data"]["resource"], moved["data"]["data"]["to"]) == (NODE_ID, "canary")

    assert secret_file.stat().st_mode & 0o777 == 0o600
    secret = secret_file.read_text().strip()
    assert str(secret_file) in server.stderr() and secret not in server.stderr() + server.stdout()
    for event_type in ("node.created", "node.transition"):
        headers, body = receiver.wait_for(event_type)
        assert verify_signature(secret, headers["X-Neira-Timestamp"], body, headers["X-Neira-Signature"])
    headers, body = receiver.wait_for("node.transition")
    assert json.loads(body)["id"] == int(moved["id"])


def test_an_open_stream_does_not_hold_up_shutdown(start_server, receiver):
    server = start_server(env={"NEIRA_NOTIFY_WEBHOOK_URL": receiver.url, "NEIRA_NOTIFY_WEBHOOK_SECRET": SECRET})
    with sse(server) as events:
        started = time.monotonic()
        server.proc.terminate()  # SIGTERM, as a service manager stops it
        assert list(events) == []  # the stream ends (rather than the read timing out)
        server.proc.wait(timeout=WAIT_S)
    assert time.monotonic() - started < 5.0, "shutdown waited for the open stream"
    assert "Finished server process" in server.stderr(), server.stderr()
