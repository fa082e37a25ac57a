"""In-process event bus: services publish after commit; subscribers (the SSE stream, the webhook) read.

Every published event gets an id, an integer that increases by one per event in this process
(the first is 1). `recent` keeps the last RECENT `(id, event)` pairs so a client that reconnects
with `Last-Event-ID` can be sent what it missed (`since`). Subscribers get `(id, event)` pairs on
a bounded queue; publishing never blocks, so a stalled subscriber loses events.

`close()` puts CLOSED on every subscriber's queue (and on the queue of anyone who subscribes
afterwards) so that open streams end at shutdown. Events published after `close()` still reach
subscribers that keep reading (the webhook notifier ignores CLOSED and delivers until stopped).
"""
from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterable
from typing import Final

from ..domain.events import Event

RECENT = 500
QUEUE_SIZE = 10_000


class _Closed:
    """The sentinel a subscriber receives when the bus closes (compare with `is CLOSED`)."""

    def __repr__(self) -> str:
        return "CLOSED"


CLOSED: Final = _Closed()
Item = tuple[int, Event] | _Closed


class EventBus:
    def __init__(self, recent: int = RECENT) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue[Item]] = []
        self._last_id = 0
        self._closed = False
        self.recent: deque[tuple[int, Event]] = deque(maxlen=recent)

    @property
    def last_id(self) -> int:
        """The id of the latest published event (0 before the first)."""
        return self._last_id

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def publish(self, events: Iterable[Event]) -> None:
        with self._lock:
            for event in events:
                self._last_id += 1
                item = (self._last_id, event)
                self.recent.append(item)
                for sub in self._subscribers:
                    try:  # a stalled subscriber loses events rather than blocking the factory
                        sub.put_nowait(item)
                    except queue.Full:
                        pass

    def since(self, last_id: int) -> list[tuple[int, Event]]:
        """The kept events with an id above `last_id`, oldest first.

        An id above the latest one cannot come from this process (ids restart at 1 with the
        process), so everything kept is new to that client and all of `recent` is returned.
        """
        with self._lock:
            return self._after(last_id)

    def _after(self, last_id: int) -> list[tuple[int, Event]]:
        if last_id > self._last_id:
            return list(self.recent)
        return [item for item in self.recent if item[0] > last_id]

    def subscribe(self) -> queue.Queue[Item]:
        """A queue that receives `(id, event)` for every event published from now on (CLOSED at close())."""
        return self._subscribe(None)[1]

    def subscribe_after(self, last_id: int) -> tuple[list[tuple[int, Event]], queue.Queue[Item]]:
        """`since(last_id)` and a subscription, taken together: the queue gets exactly what follows the list."""
        return self._subscribe(last_id)

    def _subscribe(self, last_id: int | None) -> tuple[list[tuple[int, Event]], queue.Queue[Item]]:
        q: queue.Queue[Item] = queue.Queue(maxsize=QUEUE_SIZE)
        with self._lock:
            backlog = [] if last_id is None else self._after(last_id)
            self._subscribers.append(q)
            if self._closed:
                q.put_nowait(CLOSED)
        return backlog, q

    def unsubscribe(self, q: queue.Queue[Item]) -> None:
        with self._lock:
            if q in self._subscribers:
                self._subscribers.remove(q)

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
