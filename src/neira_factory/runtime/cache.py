"""A small read-through cache with a time-to-live, for what every invocation reads.

Route tables, resolved nodes and the policy state are read on each request but
change rarely. A change made on this replica invalidates its entries at once
(the very next request sees it); a change made on another replica is seen
within the TTL.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    def __init__(self, load: Callable[[K], V], ttl_s: float, max_entries: int = 10_000):
        self._load = load
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V:
        entry = self._entries.get(key)
        now = time.monotonic()
        if entry is not None and entry[0] > now:
            return entry[1]
        generation = self._generation
        value = self._load(key)
        with self._lock:
            # an invalidation that happened while loading means the value may be stale: do not keep it
            if generation == self._generation:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (now + self.ttl_s, value)
        return value

    def invalidate(self, key: K | None = None) -> None:
        with self._lock:
            self._generation += 1
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)
