"""This replica's load per backend (per fabricator, in the seed's words): calls waiting for a worker, calls
running, and the last error each backend's nodes gave. Introspection reports it; the watchdog's pool totals
are the same figures summed over backends."""
from __future__ import annotations

import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any

MESSAGE_CHARS = 300  # a last error's message is cut to this many characters


@dataclass(frozen=True)
class LastError:
    kind: str
    node: str
    message: str
    at: float  # epoch seconds

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "node": self.node, "message": self.message, "at": self.at}


class BackendLoad:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: Counter[str] = Counter()
        self._busy: Counter[str] = Counter()
        self._last_error: dict[str, LastError] = {}

    def queue(self, backend: str, *, waiting: bool = True) -> Ticket:
        """A call of `backend` handed to the watchdog: waiting until its `running` block begins (unless it is
        not `waiting`: an organ's node, run on its organ's worker)."""
        if waiting:
            with self._lock:
                self._queued[backend] += 1
        return Ticket(self, backend, waiting)

    def failed(self, backend: str, kind: str, node: str, message: str) -> None:
        with self._lock:
            self._last_error[backend] = LastError(kind, node, _shown(message), round(time.time(), 3))

    def of(self, backend: str) -> dict[str, Any]:
        """{busy, queued, last_error} of one backend now."""
        with self._lock:
            error = self._last_error.get(backend)
            return {"busy": self._busy[backend], "queued": self._queued[backend],
                    "last_error": error.to_dict() if error else None}


def _shown(message: str) -> str:
    """The message cut to MESSAGE_CHARS, its control and format characters written as escapes (`\\x1b`, `\\u202e`):
    it is a node's text (a writer's script throws what it likes) that readers see, in a terminal too."""
    return "".join(ascii(c)[1:-1] if unicodedata.category(c) in ("Cc", "Cf") else c
                   for c in message[:MESSAGE_CHARS])[:MESSAGE_CHARS]


class Ticket:
    """One call's place in its backend's counts: queued until `running`, busy inside it, gone after `close`.
    The moves happen under the load's lock, so a waiter giving up as its worker begins counts once."""

    def __init__(self, load: BackendLoad, backend: str, waiting: bool = True):
        self._load = load
        self._backend = backend
        self._waiting = waiting

    def _leave_queue(self) -> None:  # under the lock
        if self._waiting:
            self._waiting = False
            self._load._queued[self._backend] -= 1

    def running(self) -> Ticket:
        """`with ticket.running():` the call is busy inside the block."""
        return self

    def __enter__(self) -> None:
        with self._load._lock:
            self._leave_queue()
            self._load._busy[self._backend] += 1

    def __exit__(self, *_exc: object) -> None:
        with self._load._lock:
            self._load._busy[self._backend] -= 1

    def close(self) -> None:
        """The call is over; one that never began (no free worker) leaves the queue here. (`_waiting` only ever
        turns false, under the lock: one seen false needs no lock.)"""
        if self._waiting:
            with self._load._lock:
                self._leave_queue()
