"""The event bus (ids, replay, close) and the webhook notifier, on a real SQLite event log, against a real local
HTTP receiver."""
from __future__ import annotations

import json
import logging
import queue
import socket
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from neira_factory.domain.events import Event
from neira_factory.nervous.events import CLOSED, EventBus, Logged, Replay
from neira_factory.nervous.metrics import FactoryMetrics
from neira_factory.nervous.notify import (
    CURSOR,
    SECRET_FILE,
    WebhookNotifier,
    delivery_id,
    sign,
    verify_signature,
    webhook_secret,
)
from neira_factory.services.bootstrap import Services

from notify_support import Receiver
from support import make_settings

SECRET = "test-webhook-secret"
HERE = "replica-here"


class Bus(EventBus):
    """The bus as this replica's event tail feeds it: each event gets the log's next id, and was made here."""

    def publish(self, events):
        first = self.last_id + 1
        super().publish([e if isinstance(e, Logged) else Logged(first + i, e, HERE) for i, e in enumerate(events)])


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(statuses: list[int] | None = None, default: int = 200) -> Receiver:
        made.append(Receiver(statuses, default))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def metrics() -> FactoryMetrics:
    return FactoryMetrics(lambda: 0.0)


@pytest.fixture
def notifier_for(factory, metrics):
    """make(url, **options): a started notifier on the `factory`'s event log (stopped at the test's end)."""
    started: list[WebhookNotifier] = []

    def make(url: str, **options) -> WebhookNotifier:
        options = {"backoff_s": 0.01, "timeout_s": 2.0, **options}
        n = WebhookNotifier(url, SECRET, factory.tail, metrics.notify_deliveries, replica=HERE, **options)
        n.start()
        started.append(n)
        return n

    yield make
    for n in started:
        n.stop(deadline_s=1.0)


def outcome(metrics: FactoryMetrics, name: str) -> float:
    return metrics.registry.get_sample_value("notify_deliveries_total", {"outcome": name})


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the condition")
        time.sleep(0.01)


def log_events(f: Services, *events: Event) -> list[int]:
    """Commit `events` (published by the factory's tail, as every write's); their ids in the event log."""
    with f.write() as uow:
        for e in events:
            uow.announce(e)
    return [row[0] for row in uow.logged]


def cursor(f: Services) -> dict | None:
    with f.read() as uow:
        return uow.webhook_cursor.get(CURSOR)


def event(n: int = 0, type_: str = "node.transition") -> Event:
    return Event(type_, f"analysis.n{n}.v1", {"n": n, "text": "привет"})


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"  # nothing listens there now: connection refused


# ---- the bus ------------------------------------------------------------------------------

def test_bus_hands_out_events_in_order_and_keeps_the_recent_ones():
    bus = Bus()
    q = bus.subscribe()
    bus.publish([event(1), event(2)])
    bus.publish([event(3)])
    assert bus.last_id == 3
    assert [(i, e.data["n"]) for i, e in bus.recent] == [(1, 1), (2, 2), (3, 3)]
    assert [q.get_nowait()[0] for _ in range(3)] == [1, 2, 3]
    assert [i for i, _ in bus.since(0)] == [1, 2, 3]
    assert [i for i, _ in bus.since(2)] == [3]
    assert bus.since(3) == []
    assert bus.since(99) == []


def test_bus_keeps_only_the_recent_events():
    bus = Bus(recent=3)
    bus.publish(event(n) for n in range(10))
    assert [i for i, _ in bus.since(0)] == [8, 9, 10]


def test_subscribe_at_and_replay_follow_without_gap_or_duplicate():
    bus = Bus()
    bus.publish([event(1), event(2)])
    q, upto = bus.subscribe_at()
    bus.publish([event(3)])
    assert upto == 2 and bus.replay(1, upto) == Replay([(2, bus.recent[1][1])], 2, 1)
    assert q.get_nowait()[0] == 3 and q.empty()
    # a client ahead of this replica (it saw id 5 elsewhere): nothing to replay, and ids up to 5 are skipped
    replay = bus.replay(5, upto)
    assert replay.events == [] and replay.seen == 5 and replay.first_kept <= 6


def test_replay_reads_the_history_when_recent_does_not_reach_back():
    asked, kept = [], Replay([(3, event(3))], 3, 2)

    def history(after: int, upto: int, limit: int) -> Replay:
        asked.append((after, upto, limit))
        return kept

    bus = Bus(recent=3, history=history)
    bus.publish(event(n) for n in range(10))  # ids 1..10; recent keeps 8..10
    assert [i for i, _ in bus.replay(7, 10).events] == [8, 9, 10] and asked == []  # recent reaches back
    assert bus.replay(2, 10) is kept and asked == [(2, 10, 1000)]
    assert bus.replay(12, 10) is kept and asked[-1] == (12, 10, 1000)  # ahead, or an id the log never gave?


def test_a_bus_begins_where_the_log_is():
    bus = Bus(history=lambda after, upto, limit: Replay([], upto + 1, after))
    bus.begin_at(41)
    bus.publish([event(42)])
    assert bus.last_id == 42 and bus.recent[0][0] == 42
    assert bus.replay(40, 42) == Replay([], 43, 40)  # event 41 came before the bus: asked of the history


def test_replay_falls_back_to_recent_when_the_history_fails(caplog):
    def broken(after: int, upto: int, limit: int) -> Replay:
        raise OSError("the database is away")

    bus = Bus(recent=3, history=broken)
    bus.publish(event(n) for n in range(10))
    with caplog.at_level(logging.ERROR, logger="neira_factory.nervous.events"):
        replay = bus.replay(2, 10)
    assert replay == Replay(bus.since(7), 8, 2)
    assert "could not be read" in caplog.text


def test_close_wakes_subscribers_and_later_subscribers_and_publish_still_works():
    bus = Bus()
    q = bus.subscribe()
    bus.close()
    assert q.get_nowait() is CLOSED
    assert bus.subscribe().get_nowait() is CLOSED
    bus.publish([event(1)])  # the notifier keeps reading after close: events still arrive
    assert q.get_nowait()[0] == 1


def test_a_stalled_subscriber_loses_events_but_publish_never_blocks(monkeypatch):
    monkeypatch.setattr("neira_factory.nervous.events.QUEUE_SIZE", 2)
    bus = Bus()
    q = bus.subscribe()
    bus.publish(event(n) for n in range(5))
    assert [q.get_nowait()[0] for _ in range(2)] == [1, 2] and q.empty()
    bus.publish([event(6)])
    bus.close()  # a full queue still gets the sentinel
    bus.publish(event(n) for n in range(5))
    items = []
    while not q.empty():
        items.append(q.get_nowait())
    assert CLOSED in items


def test_unsubscribe():
    bus = Bus()
    q = bus.subscribe()
    assert bus.subscriber_count == 1
    bus.unsubscribe(q)
    bus.unsubscribe(q)  # twice is harmless
    assert bus.subscriber_count == 0
    bus.publish([event(1)])
    with pytest.raises(queue.Empty):
        q.get_nowait()


# ---- signatures -----------------------------------------------------------------------------

def test_signature_verifies_and_a_tampered_body_fails():
    body = b'{"id":1,"type":"node.transition"}'
    header = sign(SECRET, 1700000000, body)
    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    assert verify_signature(SECRET, 1700000000, body, header)
    assert verify_signature(SECRET, "1700000000", body.decode(), header)  # str forms, as read from headers
    assert not verify_signature(SECRET, 1700000000, body.replace(b"1", b"2"), header)
    assert not verify_signature(SECRET, 1700000001, body, header)
    assert not verify_signature("another-secret", 1700000000, body, header)
    assert not verify_signature(SECRET, 1700000000, body, header.replace("sha256=", "sha1="))
    assert not verify_signature(SECRET, 1700000000, body, None)
    assert not verify_signature(SECRET, 1700000000, body, "")


def test_signature_age_check():
    body = b"{}"
    header = sign(SECRET, 1000, body)
    assert verify_signature(SECRET, 1000, body, header, max_age_s=300, now=1200)
    assert not verify_signature(SECRET, 1000, body, header, max_age_s=300, now=1400)
    assert not verify_signature(SECRET, "not-a-time", body, header, max_age_s=300)


# ---- deliveries -----------------------------------------------------------------------------

def test_a_delivery_carries_the_event_and_a_valid_signature(factory, receiver, notifier_for, metrics):
    r = receiver()
    notifier_for(r.url)
    e = Event("capability.changed", "factory_script", {"from": "off", "to": "experimental", "actor": "admin"})
    event_id, = log_events(factory, e)
    wait_for(lambda: outcome(metrics, "delivered") == 1)
    (headers, body), = r.requests
    assert json.loads(body) == {"id": event_id, "type": "capability.changed", "resource": "factory_script",
                                "data": {"from": "off", "to": "experimental", "actor": "admin"}, "ts": e.ts}
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Neira-Event"] == "capability.changed"
    assert headers["X-Neira-Delivery"] == delivery_id(event_id, e)
    assert abs(int(headers["X-Neira-Timestamp"]) - time.time()) < 60
    assert verify_signature(SECRET, headers["X-Neira-Timestamp"], body, headers["X-Neira-Signature"], max_age_s=60)
    wait_for(lambda: cursor(factory)["delivered_upto"] == event_id)


def test_the_delivery_id_is_the_events_own():
    e = event(1)
    assert delivery_id(7, e) == delivery_id(7, Event(e.type, e.resource, {"other": "data"}, e.ts))
    assert str(uuid.UUID(delivery_id(7, e))) == delivery_id(7, e)
    assert len({delivery_id(7, e), delivery_id(8, e), delivery_id(7, Event(e.type, e.resource, e.data, e.ts + 1))}) == 3


def test_retries_on_500_then_succeeds(factory, receiver, notifier_for, metrics):
    r = receiver([500, 500, 200])
    notifier_for(r.url)
    log_events(factory, event(1))
    wait_for(lambda: outcome(metrics, "delivered") == 1)
    assert len(r.requests) == 3
    assert (outcome(metrics, "retried"), outcome(metrics, "failed")) == (2, 0)
    # one delivery id for every attempt of the event; each attempt signed
    assert len({h["X-Neira-Delivery"] for h, _ in r.requests}) == 1
    assert all(verify_signature(SECRET, h["X-Neira-Timestamp"], b, h["X-Neira-Signature"]) for h, b in r.requests)


def test_retries_on_429(factory, receiver, notifier_for, metrics):
    r = receiver([429, 200])
    notifier_for(r.url)
    log_events(factory, event(1))
    wait_for(lambda: outcome(metrics, "delivered") == 1)
    assert len(r.requests) == 2 and outcome(metrics, "retried") == 1


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_no_retry_on_other_4xx(factory, receiver, notifier_for, metrics, status, caplog):
    r = receiver([status, 200])
    notifier_for(r.url)
    with caplog.at_level(logging.WARNING, logger="neira_factory.nervous.notify"):
        log_events(factory, event(1))
        wait_for(lambda: outcome(metrics, "failed") == 1)
    assert len(r.requests) == 1
    assert (outcome(metrics, "retried"), outcome(metrics, "delivered")) == (0, 0)
    assert f"HTTP {status}" in caplog.text and SECRET not in caplog.text


def test_gives_up_after_the_attempts_and_moves_on(factory, receiver, notifier_for, metrics, caplog):
    r = receiver(default=503)
    notifier_for(r.url, attempts=3)
    with caplog.at_level(logging.WARNING, logger="neira_factory.nervous.notify"):
        event_id, = log_events(factory, event(1))
        wait_for(lambda: outcome(metrics, "failed") == 1)
    assert len(r.requests) == 3
    assert (outcome(metrics, "retried"), outcome(metrics, "delivered")) == (2, 0)
    assert "not delivered" in caplog.text and "HTTP 503" in caplog.text
    wait_for(lambda: cursor(factory)["delivered_upto"] == event_id)  # given up: the cursor passes it


def test_a_refused_connection_is_retried_then_fails(factory, notifier_for, metrics):
    notifier_for(closed_port_url(), attempts=2)
    log_events(factory, event(1))
    wait_for(lambda: outcome(metrics, "failed") == 1)
    assert (outcome(metrics, "retried"), outcome(metrics, "delivered")) == (1, 0)


def test_backoff_doubles(factory, receiver, notifier_for, metrics):
    r = receiver([500, 500, 200])
    start = time.monotonic()
    notifier_for(r.url, backoff_s=0.2)
    log_events(factory, event(1))
    wait_for(lambda: outcome(metrics, "delivered") == 1)
    assert time.monotonic() - start >= 0.2 + 0.4


def test_events_are_delivered_in_order(factory, receiver, notifier_for, metrics):
    r = receiver([500])  # the first event needs a retry: the rest still wait their turn
    notifier_for(r.url)
    ids = log_events(factory, event(0))
    for n in range(1, 20, 3):
        ids += log_events(factory, event(n), event(n + 1), event(n + 2))
    wait_for(lambda: outcome(metrics, "delivered") == 22)
    delivered = [b for b in r.bodies()]
    assert [b["id"] for b in delivered] == ids[:1] + ids  # the first event twice: the retry
    assert [b["data"]["n"] for b in delivered[1:]] == list(range(22))


def test_the_first_cursor_begins_at_the_logs_end(factory, receiver, notifier_for, metrics):
    before = log_events(factory, event(1), event(2))  # history: not for the webhook
    r = receiver()
    n = notifier_for(r.url)
    first = cursor(factory)
    assert n.holding and (first["delivered_upto"], first["holder"]) == (before[-1], HERE)
    event_id, = log_events(factory, event(3))
    wait_for(lambda: outcome(metrics, "delivered") == 1)
    assert [b["id"] for b in r.bodies()] == [event_id]


def test_stop_delivers_what_is_pending_and_releases_the_lease(factory, receiver, metrics):
    r = receiver()
    n = WebhookNotifier(r.url, SECRET, factory.tail, metrics.notify_deliveries, replica=HERE)
    n.start()
    ids = log_events(factory, *(event(i) for i in range(10)))
    n.stop()
    assert [b["id"] for b in r.bodies()] == ids
    assert not n.running and not n.holding and factory.bus.subscriber_count == 0
    assert cursor(factory) == {"delivered_upto": ids[-1], "holder": None, "lease_until": None}


def test_stop_is_bounded_and_leaves_what_is_undelivered_for_the_next_holder(factory, receiver, metrics, caplog):
    r = receiver(default=500)
    n = WebhookNotifier(r.url, SECRET, factory.tail, metrics.notify_deliveries, replica=HERE, attempts=10,
                        backoff_s=5.0)
    n.start()
    start = cursor(factory)["delivered_upto"]
    log_events(factory, *(event(i) for i in range(3)))
    wait_for(lambda: len(r.requests) >= 1)
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="neira_factory.nervous.notify"):
        n.stop(deadline_s=0.5)
    assert time.monotonic() - began < 3.0
    assert not n.running
    # neither delivered nor given up: above the cursor, for whoever holds the lease next
    assert outcome(metrics, "failed") == 0 and outcome(metrics, "delivered") == 0
    assert cursor(factory) == {"delivered_upto": start, "holder": None, "lease_until": None}
    assert "shutting down" in caplog.text


def test_the_bus_closing_does_not_stop_deliveries(factory, receiver, notifier_for, metrics):
    r = receiver()
    notifier_for(r.url)
    factory.bus.close()  # streams end at shutdown; writes still in flight must still reach the webhook
    log_events(factory, event(1))
    wait_for(lambda: outcome(metrics, "delivered") == 1)


def test_bad_configuration_is_refused(factory, metrics):
    counter = metrics.notify_deliveries
    for url in ("ftp://example.org/hook", "not a url", "http://"):
        with pytest.raises(ValueError, match="http"):
            WebhookNotifier(url, SECRET, factory.tail, counter, replica=HERE)
    with pytest.raises(ValueError, match="secret"):
        WebhookNotifier("http://127.0.0.1:9/hook", "", factory.tail, counter, replica=HERE)
    with pytest.raises(ValueError, match="lease"):
        WebhookNotifier("http://127.0.0.1:9/hook", SECRET, factory.tail, counter, replica=HERE, lease_s=5.0,
                        timeout_s=5.0)


def test_from_settings(tmp_path, factory, metrics):
    assert WebhookNotifier.from_settings(make_settings(tmp_path), factory.tail, metrics.notify_deliveries) is None
    settings = make_settings(tmp_path, notify_webhook_url="http://127.0.0.1:9/hook", notify_webhook_secret="s3cret",
                             replica="replica-7")
    n = WebhookNotifier.from_settings(settings, factory.tail, metrics.notify_deliveries)
    assert n is not None and n.url == "http://127.0.0.1:9/hook" and not n.running
    assert n.replica == "replica-7"  # the name it holds the delivery lease under


# ---- the secret -----------------------------------------------------------------------------

def test_a_configured_secret_wins(tmp_path):
    assert webhook_secret(make_settings(tmp_path, notify_webhook_secret="from-env")) == "from-env"
    assert not (tmp_path / SECRET_FILE).exists()


def test_the_generated_secret_is_private_and_stable(tmp_path, caplog):
    settings = make_settings(tmp_path / "var")
    with caplog.at_level(logging.INFO, logger="neira_factory.nervous.notify"):
        first = webhook_secret(settings)
    path = tmp_path / "var" / SECRET_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(first) >= 32
    assert str(path) in caplog.text and first not in caplog.text
    assert webhook_secret(settings) == first == path.read_text().strip()


def test_an_empty_secret_file_is_refused(tmp_path):
    (tmp_path / SECRET_FILE).write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        webhook_secret(make_settings(tmp_path))
