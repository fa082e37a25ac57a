"""The webhook survives a crash: a real `neira-factory serve` SIGKILLed while a delivery is pending (the receiver
answers 503), restarted on the same database, delivers that event, under the same id and X-Neira-Delivery."""
from __future__ import annotations

import json
import signal

from e2e_support import NODE_ID, TEMPLATE, metrics
from notify_support import Receiver, open_events
from support import auth

from neira_factory.nervous.notify import LEASE_S, STANDBY_S, verify_signature

SECRET = "e2e-webhook-secret"


def test_a_delivery_cut_off_by_sigkill_is_made_after_the_restart(start_server, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("var")  # the SQLite database lives here: the same for both processes
    with Receiver(default=503) as receiver:
        env = {"NEIRA_NOTIFY_WEBHOOK_URL": receiver.url, "NEIRA_NOTIFY_WEBHOOK_SECRET": SECRET}
        first = start_server(env=env, var_dir=var_dir)
        assert first.client("write").post("/factory/nodes", json=TEMPLATE).status_code == 201
        headers, body = receiver.wait_for("node.created")  # answered 503: the retries are pending
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)
        receiver.answer(200)
        before_restart = len(receiver.requests)

        second = start_server(env=env, var_dir=var_dir)
        # the killed process's lease runs out, then the restarted one (another replica name) takes it over
        receiver.wait_for("node.created", timeout=LEASE_S + STANDBY_S + 30, after=before_restart)
        attempts = [(h, b) for h, b in receiver.requests if h["X-Neira-Event"] == "node.created"]

    event_id = json.loads(body)["id"]
    assert len(attempts) >= 2
    assert {h["X-Neira-Delivery"] for h, _ in attempts} == {headers["X-Neira-Delivery"]}
    assert {b for _, b in attempts} == {body}  # the same event, the same id
    assert all(verify_signature(SECRET, h["X-Neira-Timestamp"], b, h["X-Neira-Signature"]) for h, b in attempts)
    with open_events(second.url, auth("read"), {"last_event_id": str(event_id - 1)}) as events:
        replayed = events.next_event()
    assert (int(replayed["id"]), replayed["event"], replayed["data"]["resource"]) == (event_id, "node.created",
                                                                                      NODE_ID)
    assert metrics(second.client("read"))['notify_deliveries_total{outcome="delivered"}'] >= 1.0
