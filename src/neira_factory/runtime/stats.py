"""This replica's running counters per node version, state and time window, flushed to the database.

Each replica owns its rows (keyed by its replica id) and overwrites them with
its running totals, so a flush is idempotent, replicas never contend, and the
analysis adds the rows of all replicas. A window that has closed and been
flushed is dropped from memory; at most one flush interval is lost on a crash.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .measures import VersionStats

Key = tuple[str, str, int]  # node_id, state, window_start


class StatsRecorder:
    def __init__(self, replica: str, window_s: int, clock: Callable[[], float] = time.time):
        self.replica = replica
        self.window_s = window_s
        self.clock = clock
        self._lock = threading.Lock()
        self._stats: dict[Key, VersionStats] = {}
        self._dirty: set[Key] = set()

    def window(self, at: float | None = None) -> int:
        at = self.clock() if at is None else at
        return int(at // self.window_s) * self.window_s

    def _slot(self, node_id: str, state: str) -> VersionStats:
        key = (node_id, state, self.window())
        stats = self._stats.get(key)
        if stats is None:
            stats = self._stats[key] = VersionStats()
        self._dirty.add(key)
        return stats

    def record(self, node_id: str, state: str, ms: float, error: str | None = None,
               operations: int | None = None, memory_bytes: int | None = None) -> None:
        with self._lock:
            self._slot(node_id, state).record(ms, error, operations, memory_bytes)

    def record_shadow(self, node_id: str, state: str, mismatch: bool) -> None:
        with self._lock:
            self._slot(node_id, state).record_shadow(mismatch)

    def unflushed(self, node_states: dict[str, str], since_window: int) -> dict[Key, VersionStats]:
        """Copies of this replica's running counters of these nodes (id -> state) since a window: newer than,
        or not yet in, its rows in the database."""
        with self._lock:
            return {key: VersionStats.merged((stats,)) for key, stats in self._stats.items()
                    if key[2] >= since_window and node_states.get(key[0]) == key[1]}

    @property
    def dirty(self) -> bool:
        return bool(self._dirty)

    def flush(self, write: Callable[[list[dict[str, Any]]], None]) -> int:
        """Write the changed rows through `write` (one transaction); on failure they stay dirty."""
        with self._lock:
            keys = list(self._dirty)
            rows = [{"node_id": n, "state": s, "window_start": w, "replica": self.replica,
                     **self._stats[(n, s, w)].to_row()} for n, s, w in keys]
            self._dirty.clear()
        try:
            write(rows)
        except BaseException:
            with self._lock:
                self._dirty.update(keys)
            raise
        current = self.window()
        with self._lock:
            for key in [k for k in self._stats if k[2] < current and k not in self._dirty]:
                del self._stats[key]
        return len(rows)
