"""Watchdogs: soft and hard timeouts per invocation.

A soft timeout is reported and the call goes on; a hard timeout stops waiting
and fails the call with kind `timeout`. Sandboxed backends interrupt themselves
at the deadline they are given; in-process code runs on a worker thread that is
abandoned at the hard timeout (Python cannot kill a thread; the pool is sized so
that abandoned workers do not starve the others, and `busy` shows them). An
organ runs on one such worker with all its nodes: there, in-process code is
checked against its own budget when it returns (`run_cooperative`), and the
organ's hard timeout is the stop.

Both timeouts count from when the call starts on its worker. Time spent waiting
for a free worker is not the node's: a call that finds no worker within its own
hard budget fails with kind `timeout` and `queued: true`, and is not counted as a
hard timeout of the node (so a full pool never gets a node quarantined).
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Generic, NamedTuple, TypeVar

from ..backends import ExecutionError

T = TypeVar("T")
WORKERS = 64
SANDBOX_GRACE_S = 1.0  # a self-interrupting sandbox that overruns its deadline by this much is abandoned too
REPEATED_HARD_TIMEOUTS = 3  # this many hard timeouts of one node …
REPEATED_WITHIN_S = 60.0  # … within this many seconds quarantine it
QUEUE_POLL_S = 0.05  # how often a waiter on the event loop looks whether its queued call has begun


class Budget(NamedTuple):  # a tuple: made for every call
    soft_s: float
    hard_s: float

    @property
    def hard_ms(self) -> int:
        return round(self.hard_s * 1000)


class Watchdog:
    def __init__(self, soft_ms: int, hard_ms: int, on_timeout: Callable[[str, str], None], workers: int = WORKERS):
        self.soft_ms = soft_ms
        self.hard_ms = hard_ms
        self.on_timeout = on_timeout  # (kind "soft" | "hard", node id)
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="neira-node")
        self._nested = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="neira-member")
        self._busy = 0
        self._lock = threading.Lock()
        self._inner: dict[int, str | None] = {}  # worker thread -> the node it runs cooperatively (run_cooperative)

    def budget(self, timeout_ms: int, cap_s: float | None = None) -> Budget:
        """The node's own limit, capped by the global hard limit (and by `cap_s`, what is left of an
        enclosing organ's budget); soft is never above hard."""
        hard_s = min(timeout_ms, self.hard_ms) / 1000
        if cap_s is not None:
            hard_s = min(hard_s, cap_s)
        return Budget(min(self.soft_ms / 1000, hard_s), hard_s)

    @property
    def busy(self) -> int:
        """Workers running a node right now (abandoned ones included): the sandbox utilisation."""
        return self._busy

    @property
    def queued(self) -> int:
        """Calls waiting for a worker: the sandbox saturation."""
        return self._pool._work_queue.qsize() + self._nested._work_queue.qsize()

    async def run_async(self, fn: Callable[[], T], node_id: str, budget: Budget, *, interruptible: bool) -> T:
        """From the event loop: run on a worker, await the soft and hard timeouts without blocking.
        A sandbox gets a grace period past its deadline to stop itself and say so."""
        job = _Job(fn)
        submitted = self._pool.submit(self._tracked, job)
        future = asyncio.wrap_future(submitted)
        hard_s = budget.hard_s + (SANDBOX_GRACE_S if interruptible else 0.0)
        done: set = set()
        while not done and job.started is None:  # still queued: the node's clock has not started
            if time.monotonic() - job.queued > budget.hard_s and submitted.cancel():
                raise self._no_worker(node_id, budget)
            done, _ = await asyncio.wait((future,), timeout=QUEUE_POLL_S)
        if not done:
            done, _ = await asyncio.wait((future,), timeout=max(0.0, job.started + budget.soft_s - time.monotonic()))
        if not done:
            self.on_timeout("soft", node_id)
            done, _ = await asyncio.wait((future,), timeout=max(0.0, job.started + hard_s - time.monotonic()))
        with self._hard_timeouts_counted(node_id):
            if not done:
                raise self._abandoned(node_id, budget, self._charged_inside(job))
            return future.result()

    def run_inline(self, fn: Callable[[], T], node_id: str, budget: Budget) -> T:
        """For a backend that stops itself at its deadline: run here, report soft overruns."""
        started = time.monotonic()
        try:
            return fn()
        except ExecutionError as exc:
            raise self._counted(exc, node_id)
        finally:
            if time.monotonic() - started > budget.soft_s:
                self.on_timeout("soft", node_id)

    def run_cooperative(self, fn: Callable[[], T], node_id: str, budget: Budget) -> T:
        """For in-process code on a worker that is already guarded (an organ's): run here; a call that
        returns past its hard budget fails with kind `timeout` (a hard timeout), past its soft one is reported."""
        me = threading.get_ident()
        inner = self._inner
        outer = inner.get(me)
        inner[me] = node_id  # if the enclosing call is abandoned while this runs, this node is charged
        started = time.monotonic()
        try:
            result = fn()
        except ExecutionError as exc:
            raise self._counted(exc, node_id)
        finally:
            inner[me] = outer
            took = time.monotonic() - started
            if took > budget.soft_s:
                self.on_timeout("soft", node_id)
        if took > budget.hard_s:
            self.on_timeout("hard", node_id)
            raise ExecutionError(f"{node_id} ran past its hard timeout of {budget.hard_ms} ms", kind="timeout",
                                 node=node_id, limit_ms=budget.hard_ms)
        return result

    def run_abandonable(self, fn: Callable[[], T], node_id: str, budget: Budget, *, nested: bool = False) -> T:
        """For in-process code, or an organ with its nodes: run on a worker; at the hard timeout stop waiting
        and fail. `nested` calls (inside a budget already: a dry-run's examples) use their own pool, so callers
        filling one pool can never wait for themselves. A call done within its soft budget of being handed over
        (most are) is waited for once; only a slower one looks at when its worker began."""
        job = _Job(fn)
        future = (self._nested if nested else self._pool).submit(self._tracked, job)
        with self._hard_timeouts_counted(node_id):
            try:
                return future.result(timeout=budget.soft_s)  # less than its soft budget since it began
            except FutureTimeout:
                if future.done():  # it ended as the wait ran out, or raised TimeoutError itself: its outcome stands
                    return future.result()
        if not job.began(max(0.0, job.queued + budget.hard_s - time.monotonic())) and future.cancel():
            raise self._no_worker(node_id, budget)
        job.began()  # it began as the wait ran out (cancel refuses a running call)
        with self._hard_timeouts_counted(node_id):
            try:
                return future.result(timeout=max(0.0, job.started + budget.soft_s - time.monotonic()))
            except FutureTimeout:
                if future.done():
                    return future.result()
                self.on_timeout("soft", node_id)
            try:
                return future.result(timeout=max(0.0, job.started + budget.hard_s - time.monotonic()))
            except FutureTimeout:
                if future.done():
                    return future.result()
                future.cancel()
                raise self._abandoned(node_id, budget, self._charged_inside(job)) from None

    @contextmanager
    def _hard_timeouts_counted(self, node_id: str) -> Iterator[None]:
        """A `timeout` failure — ours, or the node's own deadline — counts as a hard timeout."""
        try:
            yield
        except ExecutionError as exc:
            raise self._counted(exc, node_id)

    def _counted(self, exc: ExecutionError, node_id: str) -> ExecutionError:
        """`exc`, counted as a hard timeout of `node_id` when it is a `timeout`: to be raised again."""
        if exc.kind == "timeout":
            self.on_timeout("hard", node_id)
        return exc

    def _charged_inside(self, job: "_Job") -> str | None:
        """The node an abandoned call was running cooperatively (an organ's member that never came back): it is
        charged a hard timeout of its own, so that repeated ones quarantine it as they would on its own worker."""
        inside = self._inner.get(job.thread) if job.thread is not None else None
        if inside is not None:
            self.on_timeout("hard", inside)
        return inside

    @staticmethod
    def _abandoned(node_id: str, budget: Budget, inside: str | None = None) -> ExecutionError:
        extra = {"inside": inside} if inside else {}
        return ExecutionError(f"{node_id} ran past its hard timeout of {budget.hard_ms} ms and was abandoned"
                              + (f" (in {inside})" if inside else ""),
                              kind="timeout", node=node_id, limit_ms=budget.hard_ms, **extra)

    @staticmethod
    def _no_worker(node_id: str, budget: Budget) -> ExecutionError:
        return ExecutionError(f"{node_id} found no free worker within {budget.hard_ms} ms (the pool is busy); it "
                              "did not run", kind="timeout", node=node_id, limit_ms=budget.hard_ms, queued=True)

    def _tracked(self, job: "_Job[T]") -> T:
        with self._lock:
            self._busy += 1
        try:
            return job()
        finally:
            with self._lock:
                self._busy -= 1

    def shutdown(self) -> None:
        for pool in (self._pool, self._nested):
            pool.shutdown(wait=False, cancel_futures=True)


class _Job(Generic[T]):
    """A call handed to a worker: when it was queued, and when (if yet) a worker began it."""

    def __init__(self, fn: Callable[[], T]):
        self.fn = fn
        self.queued = time.monotonic()
        self.started: float | None = None
        self.thread: int | None = None
        self._begun = threading.Lock()  # held until a worker begins the call (lighter than an Event)
        self._begun.acquire()

    def __call__(self) -> T:
        self.thread = threading.get_ident()
        self.started = time.monotonic()
        self._begun.release()
        return self.fn()

    def began(self, timeout: float | None = None) -> bool:
        """Whether a worker has begun the call, waiting for it up to `timeout` seconds (None: until it has)."""
        if self._begun.acquire(timeout=-1 if timeout is None else timeout):
            self._begun.release()  # so that a later wait sees it too
            return True
        return False


class HardTimeouts:
    """Recent hard timeouts per node: repeated ones are a reason to quarantine."""

    def __init__(self, limit: int = REPEATED_HARD_TIMEOUTS, within_s: float = REPEATED_WITHIN_S):
        self.limit = limit
        self.within_s = within_s
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def add(self, node_id: str) -> None:
        with self._lock:
            self._seen[node_id].append(time.monotonic())

    def repeated(self, node_id: str) -> bool:
        """True once the node has timed out `limit` times within the period (and forgets them)."""
        with self._lock:
            seen = self._seen.get(node_id)
            if not seen:
                return False
            horizon = time.monotonic() - self.within_s
            while seen and seen[0] < horizon:
                seen.popleft()
            if len(seen) < self.limit:
                return False
            seen.clear()
            return True
