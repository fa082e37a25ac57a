"""The cluster's event log, on SQLite and on PostgreSQL: events commit (or vanish) with their change; every
replica publishes every replica's events in id order under the log's ids, and the others' drop its caches;
on PostgreSQL an id that commits after a higher one is waited for, a rolled-back one skipped after the grace
period; replays read the log; the webhook delivers each event once for the cluster, from the replica that holds
its lease, and another replica takes over what a stopped or dead holder left; each analysis phase is announced
once; old events are pruned."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, update

from neira_factory.domain.actors import Actor
from neira_factory.domain.errors import FactoryError
from neira_factory.domain.events import Event
from neira_factory.nervous.events import Replay
from neira_factory.nervous.notify import CURSOR, WebhookNotifier, delivery_id
from neira_factory.services import capabilities, lifecycle
from neira_factory.services import supervisor as supervisor_module
from neira_factory.services.bootstrap import build_services
from neira_factory.services.fabricate import create
from neira_factory.services.bootstrap import Services
from neira_factory.services.supervisor import Supervisor
from neira_factory.store import tables as t
from neira_factory.store.repositories import EventRepository

from notify_support import Receiver
from support import make_settings

ADMIN = Actor("admin", "admin")
WAIT_S = 10.0
NEVER_DECIDED = {"min_requests": 100_000, "baseline": {"latency_slack_ms": 10_000}}


@pytest.fixture
def replicas(db_url, tmp_path) -> Iterator[Callable[..., Services]]:
    """make(name, **settings): a factory on the test's one database, as the replica `name`."""
    made: list[Services] = []

    def make(name: str, **overrides) -> Services:
        made.append(build_services(make_settings(tmp_path, db_url, replica=name, **overrides)))
        return made[-1]

    yield make
    for f in made:
        f.tail.stop()
        f.db.dispose()


def announce(f: Services, n: int, type_: str = "test.event") -> Event:
    event = Event(type_, f"resource-{n}", {"n": n})
    with f.write() as uow:
        uow.announce(event)
    return event


def rows(f: Services) -> list[tuple[int, str, str]]:
    with f.read() as uow:
        return [(r.id, r.type, r.replica) for r in uow.conn.execute(select(t.events).order_by(t.events.c.id))]


def wait_until(condition: Callable[[], bool], timeout: float = WAIT_S) -> float:
    """Seconds until `condition` held (fails after `timeout`)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.002)
    return time.monotonic() - start


# ---- the log --------------------------------------------------------------------------------------

def test_an_event_commits_with_its_change_and_is_published_under_its_log_id(replicas):
    a = replicas("replica-a")
    before = a.bus.last_id
    event = announce(a, 1)
    (event_id, type_, replica), = [r for r in rows(a) if r[0] > before]
    assert (type_, replica) == ("test.event", "replica-a")
    assert a.bus.last_id == event_id and a.bus.recent[-1] == (event_id, event)  # published when write() returns

    with pytest.raises(RuntimeError), a.write() as uow:  # rolled back: neither logged nor published
        uow.announce(Event("test.rolled_back", "r"))
        raise RuntimeError("the change fails")
    assert "test.rolled_back" not in [r[1] for r in rows(a)] and a.bus.last_id == event_id


def test_odd_data_is_logged_as_plain_json(replicas):
    a = replicas("replica-a")
    with a.write() as uow:
        uow.announce(Event("test.odd", "r", {"nan": float("nan"), "when": time, "tuple": (1, 2)}))
    with a.read() as uow:
        (_, logged, _), = uow.event_log.after(a.bus.last_id - 1, 10)
    assert logged.data == {"nan": None, "when": str(time), "tuple": [1, 2]}


def test_another_replicas_events_arrive_in_order_and_drop_this_replicas_caches(replicas):
    a = replicas("replica-a")
    b = replicas("replica-b", cache_ttl_ms=600_000)  # a stale cache would last ten minutes
    assert b.auth.cached_policy_state().safe_mode is False
    capabilities.set_safe_mode(a.capabilities, ADMIN, True, "cluster test")
    announce(b, 2)
    mine = announce(a, 3)
    b.tail.catch_up()
    ids = [r[0] for r in rows(a)]
    assert [i for i, _ in b.bus.recent][-3:] == ids[-3:]  # the same ids, in the same order, on both
    assert [e.type for _, e in b.bus.recent][-3:] == ["safe_mode.changed", "test.event", "test.event"]
    assert b.bus.recent[-1] == a.bus.recent[-1] == (ids[-1], mine)
    assert b.auth.cached_policy_state().safe_mode is True  # the event dropped the cache, not the TTL
    assert b"\nsafe_mode 1.0\n" in b.metrics.exposition()  # and b's gauge says so at the next scrape


def test_the_tail_thread_brings_the_others_events_within_a_poll_or_a_notification(replicas):
    a = replicas("replica-a")
    b = replicas("replica-b", events_poll_ms=100)
    b.tail.start()
    latencies = []
    for n in range(5):
        announce(a, n)
        latencies.append(wait_until(lambda: b.bus.last_id == a.bus.last_id))
    # SQLite: the poll (100 ms); PostgreSQL: the notification (the safety poll is 5 s)
    assert max(latencies) < 4.0, latencies  # well inside the 5 s safety poll: the poll or the notification did it


def test_replay_reads_the_newest_events_from_the_log(replicas):
    a = replicas("replica-a")
    announce(a, 0)
    first = a.bus.last_id
    events = [announce(a, n) for n in range(1, 6)]
    ids = list(range(first + 1, first + 6))
    assert [r[0] for r in rows(a)][-5:] == ids
    everything = a.tail.replay(first, ids[-1], 1000)
    assert everything.events == list(zip(ids, events)) and everything.first_kept <= first + 1
    newest = a.tail.replay(first, ids[-1], 2)  # more were missed than a replay holds: the newest two
    assert newest == Replay(list(zip(ids[-2:], events[-2:])), ids[-2], first)
    assert a.tail.replay(ids[1], ids[3], 1000).events == list(zip(ids[2:4], events[2:4]))  # up to `upto` only
    # a client ahead of this replica skips what it has seen; an id the log never gave skips nothing
    assert a.tail.replay(ids[-1], ids[-2], 1000) == Replay([], everything.first_kept, ids[-1])
    assert a.tail.replay(ids[-1] + 100, ids[-2], 1000) == Replay([], ids[-1] + 101, ids[-2])

    with a.write() as uow:  # pruned: a replay from before says where what is kept begins
        uow.conn.execute(update(t.events).where(t.events.c.id <= ids[1]).values(ts=0.0))
    assert a.supervisor.prune() >= 2
    assert a.tail.replay(first, ids[-1], 1000) == Replay(list(zip(ids[2:], events[2:])), ids[2], first)


def test_pruning_keeps_the_newest_event(replicas):
    a = replicas("replica-a")
    announce(a, 1)
    with a.write() as uow:
        uow.conn.execute(update(t.events).values(ts=0.0))
    a.supervisor.prune()
    assert [r[0] for r in rows(a)] == [a.bus.last_id]  # where a starting replica begins
    late = replicas("replica-late")
    assert late.tail.cursor == a.bus.last_id
    announce(a, 2)
    assert late.tail.catch_up() == 1


# ---- the webhook and the verdicts, once for the cluster ---------------------------------------------

class Webhook:
    """A receiver, and the replicas that deliver to it: `start(name, **options)` gives a replica (its tail
    started) and its started notifier."""

    def __init__(self, replicas: Callable[..., Services]):
        self.receiver = Receiver()
        self.replicas = replicas
        self.notifiers: list[WebhookNotifier] = []

    def start(self, name: str, **options) -> tuple[Services, WebhookNotifier]:
        f = self.replicas(name, notify_webhook_url=self.receiver.url, notify_webhook_secret="s3cret")
        notifier = WebhookNotifier.from_settings(f.settings, f.tail, f.metrics.notify_deliveries,
                                                 **{"backoff_s": 0.01, "timeout_s": 2.0, **options})
        notifier.start()
        self.notifiers.append(notifier)
        f.tail.start()
        return f, notifier

    def close(self) -> None:
        for notifier in self.notifiers:
            notifier.stop(deadline_s=1.0)
        self.receiver.close()

    def received(self) -> list[tuple[int, str]]:
        """(event id, X-Neira-Delivery) of every request, in order."""
        return [(body["id"], headers["X-Neira-Delivery"])
                for (headers, _), body in zip(self.receiver.requests, self.receiver.bodies())]


@pytest.fixture
def webhook(replicas) -> Iterator[Webhook]:
    hook = Webhook(replicas)
    yield hook
    hook.close()


def delivered(f: Services) -> float:
    return f.metrics.registry.get_sample_value("notify_deliveries_total", {"outcome": "delivered"}) or 0.0


def webhook_cursor(f: Services) -> dict:
    with f.read() as uow:
        return uow.webhook_cursor.get(CURSOR)


def logged(f: Services, type_: str = "test.event") -> list[tuple[int, Event]]:
    """The events of `type_` in the log, in id order."""
    with f.read() as uow:
        return [(i, e) for i, e, _ in uow.event_log.after(0, 1000) if e.type == type_]


def test_the_webhook_gets_each_event_once_for_the_cluster_in_order_from_the_lease_holder(webhook):
    started = [webhook.start(name) for name in ("replica-a", "replica-b", "replica-c")]
    a = started[0][0]
    assert [n.holding for _, n in started] == [True, False, False]  # the first to start took the lease
    for n in range(3):
        for f, _ in started:
            announce(f, n)
    made = logged(a)
    assert sorted({r[2] for r in rows(a) if r[1] == "test.event"}) == ["replica-a", "replica-b", "replica-c"]
    wait_until(lambda: len(webhook.receiver.requests) >= 9)
    for notifier in webhook.notifiers:  # nothing is pending: stopping delivers nothing more
        notifier.stop(deadline_s=1.0)
    assert webhook.received() == [(i, delivery_id(i, e)) for i, e in made]  # each once, in id order
    assert [delivered(f) for f, _ in started] == [9, 0, 0]  # all by the holder
    assert webhook_cursor(a) == {"delivered_upto": made[-1][0], "holder": None, "lease_until": None}


def test_the_first_cursor_begins_at_the_logs_end(webhook, replicas):
    announce(replicas("replica-early"), 1)  # before any notifier: history, not for the webhook
    a, _ = webhook.start("replica-a")
    assert webhook_cursor(a)["delivered_upto"] == a.bus.last_id
    announce(a, 2)
    wait_until(lambda: delivered(a) == 1)
    (event_id, _), = webhook.received()
    assert event_id == logged(a)[-1][0] == a.bus.last_id


def test_a_graceful_stop_hands_the_lease_over_at_once_and_the_next_holder_redelivers(webhook):
    webhook.receiver.answer(503)
    # a lease of a minute: the handover must not wait for it to run out
    a, on_a = webhook.start("replica-a", lease_s=60.0, backoff_s=60.0)
    b, on_b = webhook.start("replica-b", lease_s=60.0)
    assert on_a.holding and not on_b.holding
    announce(b, 1)  # made on b, delivered by a, the holder
    wait_until(lambda: len(webhook.receiver.requests) == 1)  # a got a 503 and waits a minute to retry
    webhook.receiver.answer(200)
    on_a.stop(deadline_s=0.5)  # cuts that wait short: the event stays above the cursor, the lease is released
    assert not on_a.holding
    wait_until(lambda: delivered(b) == 1)  # within b's standby poll (1 s), long before the lease would end
    (event_id, event), = logged(a)
    assert webhook.received() == [(event_id, delivery_id(event_id, event))] * 2  # the same delivery, twice
    assert on_b.holding
    wait_until(lambda: webhook_cursor(b)["delivered_upto"] == event_id)  # advanced right after the POST
    assert delivered(a) == 0 and a.metrics.registry.get_sample_value(
        "notify_deliveries_total", {"outcome": "failed"}) == 0


def test_a_dead_holders_lease_runs_out_and_another_replica_delivers_what_it_left(webhook, replicas):
    a = replicas("replica-a")
    with a.write() as uow:  # what a holder killed right after taking the lease leaves: it is never renewed
        start = uow.webhook_cursor.take(CURSOR, "replica-dead", 2.0)
    for n in range(3):
        announce(a, n)
    b, on_b = webhook.start("replica-b", lease_s=1.0, timeout_s=0.5)
    wait_until(lambda: len(webhook.receiver.requests) >= 3)
    made = logged(a)
    assert made[0][0] > start
    assert webhook.received() == [(i, delivery_id(i, e)) for i, e in made]  # each once, in order
    assert webhook_cursor(b)["holder"] == "replica-b" and on_b.holding
    wait_until(lambda: webhook_cursor(b)["delivered_upto"] == made[-1][0])


def candidate(f: Services, node_id: str) -> None:
    template = {"id": node_id, "version": "0.1.0", "analysis_type": "reverse", "rollout": NEVER_DECIDED}
    create(f.fabricate, ADMIN, {"template": template, "reason": "events test"})
    lifecycle.transition(f.lifecycle, ADMIN, node_id, "approve", reason="to canary")


def verdicts(f: Services, node_id: str) -> int:
    with f.read() as uow:
        e = t.events
        q = select(func.count()).where(e.c.type == "analysis.verdict", e.c.resource == node_id)
        return uow.conn.execute(q).scalar()


def _writes_into(writes: list[str]) -> Callable[..., None]:
    """A before_cursor_execute listener that notes every statement that writes (or opens a write transaction)."""
    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE")):
            writes.append(statement)
    return note


def test_every_replica_measures_but_each_phase_is_announced_once(replicas):
    a, b, c = replicas("replica-a"), replicas("replica-b"), replicas("replica-c")
    node_id = "analysis.verdict_once.v1"
    candidate(a, node_id)
    with a.read() as uow:
        record = uow.nodes.get(node_id)
    supervisors = [f.supervisor for f in (a, b, c)]
    barrier = threading.Barrier(3)

    def check(s: Supervisor):
        barrier.wait()
        return s.check(record)

    with ThreadPoolExecutor(3) as pool:  # all three at once
        done = list(pool.map(check, supervisors))
    assert [d["phase"] for d in done] == [done[0]["phase"]] * 3
    assert verdicts(a, node_id) == 1
    writes: list[str] = []
    record_writes = _writes_into(writes)
    for f in (a, b, c):
        sa_event.listen(f.db.engine, "before_cursor_execute", record_writes)
    for s in supervisors:  # nothing new: nothing announced again, not even by a replica that restarted
        s._seen.clear()
        assert s.check(record) == {"id": node_id, "phase": done[0]["phase"], "action": None}
    assert verdicts(a, node_id) == 1
    assert writes == []  # nothing to measure, do or announce: not even a write transaction is opened
    for f in (a, b, c):
        sa_event.remove(f.db.engine, "before_cursor_execute", record_writes)

    # a new stay in canary (quarantined, released back to canary) starts a new analysis: announced once more
    lifecycle.transition(b.lifecycle, ADMIN, node_id, "quarantine", reason="again")
    lifecycle.transition(b.lifecycle, ADMIN, node_id, "release", reason="again")
    with a.read() as uow:
        record = uow.nodes.get(node_id)
    for s in supervisors:
        s.check(record)
    assert verdicts(a, node_id) == 2


def test_a_watchdog_move_that_fails_announces_nothing(replicas, monkeypatch, caplog):
    a = replicas("replica-a")
    node_id = "analysis.refused_move.v1"
    candidate(a, node_id)
    with a.read() as uow:
        record = uow.nodes.get(node_id)

    def refused(f, uow, actor, record, act, **kwargs):
        uow.announce(Event("node.transition", record.id, {"to": "draft"}))  # then it fails
        raise FactoryError("a gate closed meanwhile")

    monkeypatch.setattr(supervisor_module.lifecycle, "apply", refused)
    before = a.bus.last_id
    with a.write() as uow:
        assert a.supervisor._act(uow, record, "failed", "errors", {}) is None
        uow.announce(Event("test.after", node_id))
    assert [e.type for i, e in a.bus.recent if i > before] == ["test.after"]


# ---- PostgreSQL: ids that become visible out of order -------------------------------------------------

@pytest.fixture
def pg_factory(fresh_pg_url, tmp_path) -> Iterator[Services]:
    f = build_services(make_settings(tmp_path, fresh_pg_url, replica="tail"))
    yield f
    f.tail.stop()
    f.db.dispose()


def log_one(conn, type_: str) -> int:
    ((event_id, _event, _replica),) = EventRepository(conn, postgres=True).append([Event(type_, "r")], "writer")
    return event_id


def test_an_id_that_commits_after_a_higher_one_is_waited_for_not_skipped(pg_factory):
    f = pg_factory
    with f.db.engine.connect() as slow, f.db.engine.connect() as fast:
        slow_tx = slow.begin()
        low = log_one(slow, "test.low")  # takes its id first ...
        with fast.begin():
            high = log_one(fast, "test.high")  # ... and commits second
        assert high > low
        assert f.tail.catch_up() == 0 and f.tail.cursor == low - 1  # high is visible, low not yet: wait for it
        slow_tx.commit()
    assert f.tail.catch_up() == 2
    assert [(i, e.type) for i, e in f.bus.recent][-2:] == [(low, "test.low"), (high, "test.high")]


def test_the_thread_is_woken_by_the_late_commit(pg_factory):
    f = pg_factory
    f.tail.start()
    with f.db.engine.connect() as slow, f.db.engine.connect() as fast:
        slow_tx = slow.begin()
        low = log_one(slow, "test.low")
        with fast.begin():
            high = log_one(fast, "test.high")
        time.sleep(0.3)
        assert f.bus.last_id < low  # held back behind the missing id
        slow_tx.commit()
        latency = wait_until(lambda: f.bus.last_id == high)
    assert latency < 4.0  # woken by the commit's notification, not by the grace period (5 s) running out
    assert [i for i, _ in f.bus.recent][-2:] == [low, high]


def test_a_rolled_back_id_is_skipped_after_the_grace_period(pg_factory, caplog):
    f = pg_factory
    f.tail.grace_s = 0.3
    with f.db.engine.connect() as failing, f.db.engine.connect() as fine:
        with failing.begin() as tx:
            lost = log_one(failing, "test.lost")
            with fine.begin():
                high = log_one(fine, "test.high")
            tx.rollback()
    assert f.tail.catch_up() == 0  # it may still commit: wait
    time.sleep(0.35)
    with caplog.at_level("INFO", logger="neira_factory.nervous.tail"):
        assert f.tail.catch_up() == 1
    assert f.tail.cursor == high and f.bus.recent[-1][0] == high
    assert f"event ids {lost}..{lost}" in caplog.text
