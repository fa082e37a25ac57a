"""Connections per request, on SQLite and PostgreSQL: a read opened inside this thread's open read shares its
connection, so a request never waits for a second connection while it holds one (with every pooled
connection held by a request waiting for its second, none would come back: under a burst of creates the
pool ran dry for its 30 s timeout). Writes keep their own transaction."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from neira_factory.domain.actors import Actor
from neira_factory.domain.events import Event
from neira_factory.services import fabricate
from neira_factory.services.bootstrap import Services, build_services

from support import make_settings

WRITER = Actor("writer", "write")


@pytest.fixture
def f(db_url, tmp_path) -> Iterator[Services]:
    factory = build_services(make_settings(tmp_path, db_url))
    yield factory
    factory.db.dispose()


@contextmanager
def most_connections_held(f: Services) -> Iterator[list[int]]:
    """[the most pooled connections checked out at once] while the block runs."""
    held, most, lock = [0], [0], threading.Lock()

    def checkout(*_args) -> None:
        with lock:
            held[0] += 1
            most[0] = max(most[0], held[0])

    def checkin(*_args) -> None:
        with lock:
            held[0] -= 1

    event.listen(f.db.engine, "checkout", checkout)
    event.listen(f.db.engine, "checkin", checkin)
    try:
        yield most
    finally:
        event.remove(f.db.engine, "checkout", checkout)
        event.remove(f.db.engine, "checkin", checkin)


def test_a_read_inside_a_read_shares_its_connection_and_a_write_does_not(f):
    db = f.db
    with most_connections_held(f) as most:
        with db.unit_of_work(write=False) as outer:
            with db.unit_of_work(write=False) as inner:
                assert inner.conn is outer.conn
                assert inner.nodes.get("factory.selector.v1") is not None
            assert outer.nodes.get("factory.selector.v1") is not None  # the outer read goes on after it
        assert most == [1]
        with db.unit_of_work(write=False) as outer:
            with db.unit_of_work(write=True) as write:
                assert write.conn is not outer.conn
                with db.unit_of_work(write=False) as inside_write:  # not inside the write's transaction
                    assert inside_write.conn not in (write.conn, outer.conn)
            with db.unit_of_work(write=False) as after:
                assert after.conn is outer.conn  # the outer read is this thread's open read again
        assert most == [3]


def test_another_thread_reads_on_its_own_connection(f):
    with f.db.unit_of_work(write=False) as outer:
        seen = []
        thread = threading.Thread(target=lambda: seen.append(_read_connection(f)))
        thread.start()
        thread.join()
        assert seen and seen[0] is not outer.conn


def _read_connection(f: Services):
    with f.db.unit_of_work(write=False) as uow:
        return uow.conn


def test_a_dry_run_and_a_create_with_cold_caches_hold_one_connection_at_a_time(f):
    template = {"id": "analysis.one_connection.v1", "version": "0.1.0", "analysis_type": "reverse",
                "examples": [{"input": {"text": "ab"}, "expected": {"text": "ba"}}]}
    for action in (fabricate.dry_run, fabricate.create):
        f.runtime.routes.invalidate()  # the factory's own modules (selector, rollout) are invoked inside the dry-run's
        f.auth.invalidate([Event("capability.changed", "test")])  # read: their route tables and the policy state load then
        f.runtime.resolved.invalidate()
        with most_connections_held(f) as most:
            answer = action(f.fabricate, WRITER, {"template": template, "reason": "one connection"})
        assert most == [1], action.__name__
    assert answer.id == template["id"] and answer.state == "draft"
