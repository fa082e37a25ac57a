"""In-process event bus: services publish after commit; subscribers (the SSE stream) read."""
from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterable

from ..domain.events import Event

RECENT = 500


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue[Event]] = []
        self.recent: deque[Event] = deque(maxlen=RECENT)

    def publish(self, events: Iterable[Event]) -> None:
        with self._lock:
            for event in events:
                self.recent.append(event)
                for sub in self._subscribers:
                    if not sub.full():  # a stalled subscriber loses events rather than blocking the factory
                        sub.put_nowait(event)

    def subscribe(self) -> queue.Queue[Event]:
        q: queue.Queue[Event] = queue.Queue(maxsize=10_000)
        with self._lock:
            self._subscribers.append(q)
        return q

    def unsubscribe(self, q: queue.Queue[Event]) -> None:
        with self._lock:
            if q in self._subscribers:
                self._subscribers.remove(q)
