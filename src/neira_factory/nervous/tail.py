"""This replica's event tail: publishes the cluster's event log (the `events` table) to the local EventBus,
in id order, under the log's ids.

Every unit of work writes the events it announced to the log in its own transaction (store/uow.py). The tail
reads the rows above its cursor and publishes them:

- right after a local commit (`catch_up`, which Factory.write calls in the committing thread), so this
  replica's own events are published before its request returns;
- from a daemon thread (`start` / `stop`, with the app's lifespan), for what the other replicas commit. On
  PostgreSQL the thread LISTENs on EVENTS_CHANNEL (every transaction that logs events NOTIFYs it, and
  PostgreSQL delivers that at the commit) and reads anyway after SAFETY_POLL_S without one (a notification
  lost while reconnecting); on SQLite it reads every NEIRA_EVENTS_POLL_MS.

Ids are taken before the commit, so on PostgreSQL they can become visible out of order: a transaction that
took id 10 may commit after the one that took 11. The tail publishes strictly in id order: it stops below the
first missing id and waits for it (the notification of that commit wakes it). An id still missing GAP_GRACE_S
after an id above it was seen is taken as rolled back (the transaction failed after taking it, or the sequence
jumped in a crash) and skipped. So the ids a stream sees only increase and a Last-Event-ID means the same on
every replica; the cost is that events behind a rolled-back id wait GAP_GRACE_S. SQLite has no such gaps (one
writer at a time; AUTOINCREMENT ids are never reused).

The events other replicas made also drop this replica's caches (`on_remote`: Factory._invalidate). A tail
begins at the log's end (`seek_end`, when the factory is built) and publishes what is committed after that;
`replay` reads older events for reconnecting clients (EventBus.history).

The tail reads the log through the port `EventLog` (store.Database implements it).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from ..domain.events import Event
from .events import EventBus, Logged, Replay

log = logging.getLogger(__name__)

GAP_GRACE_S = 5.0  # how long a missing id may still commit before it is taken as rolled back
SAFETY_POLL_S = 5.0  # PostgreSQL: read the log this often even without a notification
BATCH = 500  # rows per read
RETRY_S = 1.0  # after a failure (the database is away): wait this long, then reconnect
STOP_CHECK_S = 0.25  # a listening thread looks this often whether it is to stop


class EventReader(Protocol):
    """One read transaction on the event log; rows are `(id, event, replica)`."""

    def after(self, last_id: int, limit: int) -> list[tuple[int, Event, str]]:
        """The first `limit` events with an id above `last_id`, oldest first."""

    def newest(self, after: int, upto: int, limit: int) -> list[tuple[int, Event, str]]:
        """The newest `limit` events with an id in (after, upto], oldest first."""

    def first_id(self) -> int | None:
        """The oldest id still kept (None: the log is empty)."""

    def last_id(self) -> int:
        """The newest id committed so far (0: none yet)."""


class EventLog(Protocol):
    """The cluster's event log as the tail reads it."""

    is_sqlite: bool  # SQLite: commits are not notified, the log is polled

    def read_events(self) -> AbstractContextManager[EventReader]:
        """A read transaction on the log."""

    def listen_events(self) -> AbstractContextManager[Callable[[float], str | None]]:
        """Not on SQLite: a connection that hears the commits that log events. Yields `wait(timeout_s)`: the
        payload of the next notification (the last id that commit logged), or None when none came in time."""


@dataclass(frozen=True)
class _Gap:
    start: int  # the first missing id
    end: int  # the id seen above it
    since: float  # monotonic: when start..end-1 were first seen missing


class EventTail:
    def __init__(self, db: EventLog, bus: EventBus, replica: str, *, poll_s: float,
                 on_remote: Callable[[list[Event]], None], grace_s: float = GAP_GRACE_S,
                 safety_poll_s: float = SAFETY_POLL_S) -> None:
        self.db = db
        self.bus = bus
        self.replica = replica
        self.poll_s = poll_s
        self.on_remote = on_remote
        self.grace_s = grace_s
        self.safety_poll_s = safety_poll_s
        self._lock = threading.Lock()  # one reader at a time: publication stays in id order
        self._cursor: int | None = None  # every id up to here is published (or was taken as rolled back)
        self._gap: _Gap | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def cursor(self) -> int | None:
        """The highest id published (None until seek_end)."""
        return self._cursor

    def seek_end(self) -> None:
        """Begin at the newest committed event: publish only what is committed from now on (the bus
        replays what came before from the log)."""
        with self._lock, self.db.read_events() as events:
            self._cursor = events.last_id()
            self._gap = None
            self.bus.begin_at(self._cursor)

    # -- reading -----------------------------------------------------------------------------
    def catch_up(self, upto: int | None = None) -> int:
        """Publish the events committed above the cursor, in id order, up to the first missing id; how many.
        With `upto` (the last id a commit logged), nothing is read when the cursor has got there already.
        Before seek_end nothing is read."""
        return self._catch_up(upto, ())

    def committed(self, own: list[Logged]) -> int:
        """After a local commit that logged `own` (its rows, in id order): publish. When they follow the
        cursor without a gap (no other transaction's event in between: the usual case on one replica)
        they are published as they are, without reading the log; else as catch_up does."""
        return self._catch_up(own[-1].id, own) if own else 0

    def _catch_up(self, upto: int | None, own: tuple[Logged, ...] | list[Logged]) -> int:
        with self._lock:
            if self._cursor is None or (upto is not None and upto <= self._cursor):
                return 0
            if own and all(row.id == self._cursor + 1 + i for i, row in enumerate(own)):
                self.bus.publish(list(own))
                self._cursor = own[-1].id
                return len(own)
            published = 0
            while True:
                with self.db.read_events() as events:
                    rows = events.after(self._cursor, BATCH)
                ready = self._in_order(rows)
                remote = [r.event for r in ready if r.replica != self.replica]
                if remote:  # before publishing: whoever reacts to the event reads the change here
                    self.on_remote(remote)
                self.bus.publish(ready)
                published += len(ready)
                if len(ready) < BATCH:
                    return published

    def _in_order(self, rows: list[tuple[int, Event, str]]) -> list[Logged]:
        """The rows that continue the cursor without a gap (or past a gap given up); moves the cursor."""
        ready = []
        for row in rows:
            event_id = row[0]
            assert self._cursor is not None
            if event_id > self._cursor + 1 and not self._past_gap(event_id):
                break
            ready.append(Logged(*row))
            self._cursor = event_id
        return ready

    def _past_gap(self, next_id: int) -> bool:
        """Whether the ids between the cursor and `next_id` have been missing for the grace period, and are
        therefore taken as rolled back. Notes when they were first seen missing."""
        assert self._cursor is not None
        start, now = self._cursor + 1, time.monotonic()
        gap = self._gap
        if gap is None or not gap.start <= start < gap.end:
            self._gap = _Gap(start, next_id, now)
            return False
        if now - gap.since < self.grace_s:
            return False
        log.info("event ids %s..%s were not committed within %g s: taken as rolled back", start, next_id - 1,
                 self.grace_s)
        self._gap = None
        return True

    def _wait_s(self, idle_s: float) -> float:
        """How long the thread may wait: `idle_s`, or less when a missing id's grace period ends sooner."""
        with self._lock:
            gap, cursor = self._gap, self._cursor
        if gap is None or cursor is None or not gap.start <= cursor + 1 < gap.end:
            return idle_s
        return min(idle_s, max(0.0, gap.since + self.grace_s - time.monotonic()) + 0.01)

    def replay(self, after: int, upto: int, limit: int) -> Replay:
        """The newest `limit` logged events in (after, upto], oldest first (EventBus.history). An `after`
        above every id in the log was never given by it (the database was reset or restored): nothing to
        replay, and what comes next is new to that client."""
        with self.db.read_events() as events:
            if after > events.last_id():  # so no number beyond the id column's range reaches a query
                return Replay([], after + 1, upto)
            rows = events.newest(after, upto, limit + 1)
            first = events.first_id()
        if len(rows) > limit:
            rows = rows[1:]
            first_kept = rows[0][0]
        else:
            first_kept = upto + 1 if first is None else min(first, upto + 1)
        return Replay([(event_id, event) for event_id, event, _ in rows], first_kept, after)

    # -- the thread ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the event tail is already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="neira-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=10)
        self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.db.is_sqlite:
                    self._poll()
                else:
                    self._listen()
            except Exception:  # the database went away: the thread must outlive it and catch up after
                log.exception("reading the event log failed; retrying in %g s", RETRY_S)
                self._stop.wait(RETRY_S)

    def _poll(self) -> None:
        while not self._stop.wait(self._wait_s(self.poll_s)):
            self.catch_up()

    def _listen(self) -> None:
        with self.db.listen_events() as wait:
            self.catch_up()  # what committed before the LISTEN took effect
            due = time.monotonic() + self._wait_s(self.safety_poll_s)
            while not self._stop.is_set():
                payload = wait(min(STOP_CHECK_S, max(0.0, due - time.monotonic())))
                if payload is None and time.monotonic() < due:
                    continue
                self.catch_up(_event_id(payload))
                due = time.monotonic() + self._wait_s(self.safety_poll_s)


def _event_id(payload: str | None) -> int | None:
    """The last id a notifying transaction logged (None: read the log anyway)."""
    return int(payload) if payload and payload.isdigit() else None
