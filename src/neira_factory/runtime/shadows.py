"""The pool that runs shadow copies of requests after the primary has answered.

Bounded: when it falls behind, a copy is dropped (the caller counts it) rather
than queued without end, so shadow traffic can never slow the primary down.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

WORKERS = 4
QUEUE_MAX = 1000


class Shadows:
    def __init__(self, workers: int = WORKERS, queue_max: int = QUEUE_MAX):
        self.workers = workers
        self.queue_max = queue_max
        self._pool = self._new_pool()

    def _new_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="neira-shadow")

    def submit(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Queue a copy; False when the queue is full and the copy was dropped."""
        if self._pool._work_queue.qsize() >= self.queue_max:
            return False
        self._pool.submit(fn, *args)
        return True

    def drain(self) -> None:
        """Wait for the queued copies to finish (before an analysis, at shutdown)."""
        pool, self._pool = self._pool, self._new_pool()
        pool.shutdown(wait=True)
