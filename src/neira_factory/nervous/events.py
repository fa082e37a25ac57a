"""In-process event bus: this replica's event tail (nervous/tail.py) publishes the cluster's events; subscribers
(the SSE stream, the webhook) read.

Events are published as `Logged(id, event, replica)` records, in increasing id order. The id is the event's
row in the database's event log, so it is the same on every replica. `recent` keeps the last RECENT
`(id, event)` pairs published here. A client that reconnects with `Last-Event-ID` subscribes (`subscribe_at`,
which says where the subscription begins) and is sent what it missed up to there (`replay`): from `recent`
when that reaches back to the client's id, else from `history` (the event log; at most the newest REPLAY
events, and the `Replay` says where the kept ones begin). Together they give it every event once.

Subscribers get `(id, event)` pairs on a bounded queue. Publishing never blocks, so a stalled subscriber
loses events (the webhook reads the event log itself and uses its queue only as a wake-up).

`close()` puts CLOSED on every subscriber's queue (and on the queue of anyone who subscribes
afterwards) so that open streams end at shutdown. Events published after `close()` still reach
subscribers that keep reading (the webhook notifier ignores CLOSED and delivers until stopped).
"""
from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Final, NamedTuple

from ..domain.events import Event

log = logging.getLogger(__name__)

RECENT = 500
REPLAY = 1000  # the most events a reconnecting client is sent from the event log
QUEUE_SIZE = 10_000


class _Closed:
    """The sentinel a subscriber receives when the bus closes (compare with `is CLOSED`)."""

    def __repr__(self) -> str:
        return "CLOSED"


CLOSED: Final = _Closed()
Item = tuple[int, Event] | _Closed


class Logged(NamedTuple):
    """One event of the event log: its id, the event, and the replica that made it."""

    id: int
    event: Event
    replica: str


class Replay(NamedTuple):
    """What a reconnecting client missed, oldest first."""

    events: list[tuple[int, Event]]
    first_kept: int  # the ids from the client's last one + 1 to this - 1 are no longer kept (pruned, or beyond REPLAY)
    # the client has every event up to this id, so live events up to it are skipped: its own last id, or, for an
    # id the event log never gave (the database was reset or restored), where its subscription began
    seen: int


History = Callable[[int, int, int], Replay]  # (after, upto, limit): at most the newest `limit` events in (after, upto]


class EventBus:
    def __init__(self, recent: int = RECENT, history: History | None = None) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue[Item]] = []
        self._last_id = 0
        self._closed = False
        self.recent: deque[tuple[int, Event]] = deque(maxlen=recent)
        self.history = history  # where replays older than `recent` come from (the Factory sets the event log)

    @property
    def last_id(self) -> int:
        """The id of the latest published event (before the first: where the bus began, see begin_at)."""
        return self._last_id

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def begin_at(self, last_id: int) -> None:
        """Where this bus begins in the event log: the events up to `last_id` came before it (a replay
        reads them from `history`); what is published next continues from there."""
        with self._lock:
            self._last_id = max(self._last_id, last_id)

    def publish(self, records: Iterable[Logged]) -> None:
        """Hand events to the subscribers; `records` continue the id order of what was published before."""
        with self._lock:
            for record in records:
                item = (record.id, record.event)
                self._last_id = record.id
                self.recent.append(item)
                for sub in self._subscribers:
                    try:  # a stalled subscriber loses events rather than blocking the factory
                        sub.put_nowait(item)
                    except queue.Full:
                        pass

    def since(self, last_id: int) -> list[tuple[int, Event]]:
        """The events kept in `recent` with an id above `last_id`, oldest first."""
        with self._lock:
            return self._after(last_id)

    def _after(self, last_id: int) -> list[tuple[int, Event]]:
        return [item for item in self.recent if item[0] > last_id]

    def subscribe(self) -> queue.Queue[Item]:
        """A queue that receives `(id, event)` for every event published from now on, and CLOSED at close()."""
        q: queue.Queue[Item] = queue.Queue(maxsize=QUEUE_SIZE)
        with self._lock:
            self._add(q)
        return q

    def subscribe_at(self) -> tuple[queue.Queue[Item], int]:
        """A subscription to every event, and the id of the last one published before it: the queue gets
        exactly what follows that id (for `replay`)."""
        q: queue.Queue[Item] = queue.Queue(maxsize=QUEUE_SIZE)
        with self._lock:
            self._add(q)
            return q, self._last_id

    def replay(self, last_id: int, upto: int) -> Replay:
        """The events after `last_id` up to `upto`, for a client that reconnects: from `recent` when it reaches
        back to `last_id`, else from `history` (which reads the database: call this from a worker thread).

        A client ahead of this replica (it saw, on another replica, events not published here yet) gets none;
        `history` tells such a client from one whose id the event log never gave.
        """
        with self._lock:
            kept = [item for item in self._after(last_id) if item[0] <= upto]
            first = self.recent[0][0] if self.recent else upto + 1
        if last_id <= upto and first <= last_id + 1:
            return Replay(kept, last_id + 1, last_id)
        if self.history is not None:
            try:
                return self.history(last_id, upto, REPLAY)
            except Exception:  # noqa: BLE001 - whatever the database raises: replay what is kept here instead
                log.exception("the event log could not be read for a replay after event %s", last_id)
        return Replay(kept, first, last_id)

    def _add(self, q: queue.Queue[Item]) -> None:
        self._subscribers.append(q)
        if self._closed:
            q.put_nowait(CLOSED)

    def unsubscribe(self, q: queue.Queue[Item]) -> None:
        with self._lock:
            self._subscribers = [sub for sub in self._subscribers if sub is not q]

    def close(self) -> None:
        """Wake every subscriber with CLOSED (streams end); later subscribers get CLOSED at once."""
        with self._lock:
            self._closed = True
            for sub in self._subscribers:
                _put_closed(sub)


def _put_closed(q: queue.Queue[Item]) -> None:
    while True:
        try:
            q.put_nowait(CLOSED)
            return
        except queue.Full:  # make room: the sentinel matters more than the oldest unread event
            try:
                q.get_nowait()
            except queue.Empty:
                pass
