"""Watchdog: budgets, soft and hard timeouts in the three runners, abandoned workers; HardTimeouts."""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from neira_factory.backends import ExecutionError
from neira_factory.runtime.watchdog import SANDBOX_GRACE_S, Budget, HardTimeouts, Watchdog

NODE = "analysis.svc.v1"
# Generous margins: the soft timeout is short, the hard one well apart from it and from the slow calls.
SOFT = Budget(soft_s=0.05, hard_s=2.0)  # a call of ~0.3 s is past soft, well within hard
HARD = Budget(soft_s=0.05, hard_s=0.3)  # a call blocked for 10 s is past hard


class Reports(list):
    """The (kind, node id) pairs a watchdog reported."""

    def __call__(self, kind: str, node_id: str) -> None:
        self.append((kind, node_id))


@pytest.fixture
def reports() -> Reports:
    return Reports()


@pytest.fixture
def watchdog(reports: Reports) -> Iterator[Watchdog]:
    dog = Watchdog(soft_ms=500, hard_ms=10_000, on_timeout=reports, workers=4)
    yield dog
    dog.shutdown()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test, so that workers blocked on it end."""
    event = threading.Event()
    yield event
    event.set()


def blocked_until(event: threading.Event, result: str = "late") -> Callable[[], str]:
    def fn() -> str:
        event.wait(10)
        return result
    return fn


def sleeps(seconds: float, result: str = "ok") -> Callable[[], str]:
    def fn() -> str:
        time.sleep(seconds)
        return result
    return fn


def own_timeout() -> None:
    raise ExecutionError("the sandbox hit its deadline", kind="timeout", node=NODE)


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# budget


def test_budget_keeps_the_node_limit_under_the_global_one(watchdog: Watchdog):
    budget = watchdog.budget(1000)
    assert (budget.soft_s, budget.hard_s, budget.hard_ms) == (0.5, 1.0, 1000)


def test_budget_caps_at_the_global_hard_limit(watchdog: Watchdog):
    budget = watchdog.budget(600_000)
    assert (budget.soft_s, budget.hard_s, budget.hard_ms) == (0.5, 10.0, 10_000)


def test_budget_soft_is_never_above_hard(watchdog: Watchdog):
    budget = watchdog.budget(200)
    assert (budget.soft_s, budget.hard_s) == (0.2, 0.2)
    for timeout_ms in (1, 100, 499, 500, 501, 9_999, 10_000, 10_001):
        budget = watchdog.budget(timeout_ms)
        assert budget.soft_s <= budget.hard_s <= 10.0


# run_abandonable


def test_abandonable_returns_a_fast_result(watchdog: Watchdog, reports: Reports):
    assert watchdog.run_abandonable(lambda: 42, NODE, SOFT) == 42
    assert reports == []


def test_abandonable_reports_soft_and_returns_a_slow_result(watchdog: Watchdog, reports: Reports):
    assert watchdog.run_abandonable(sleeps(0.3), NODE, SOFT) == "ok"
    assert reports == [("soft", NODE)]


def test_abandonable_abandons_a_call_past_hard(watchdog: Watchdog, reports: Reports, release: threading.Event):
    started = time.monotonic()
    with pytest.raises(ExecutionError) as caught:
        watchdog.run_abandonable(blocked_until(release), NODE, HARD)
    elapsed = time.monotonic() - started
    assert elapsed < 5.0  # about hard (0.3 s), not the 10 s the worker is blocked for
    assert elapsed >= HARD.hard_s * 0.9
    assert caught.value.kind == "timeout"
    assert caught.value.status == 504
    assert caught.value.extra["node"] == NODE and caught.value.extra["limit_ms"] == 300
    assert reports == [("soft", NODE), ("hard", NODE)]


def test_abandonable_node_errors_propagate(watchdog: Watchdog, reports: Reports):
    def fails() -> None:
        raise ExecutionError("bad", kind="bad_input", node=NODE)

    with pytest.raises(ExecutionError) as caught:
        watchdog.run_abandonable(fails, NODE, SOFT)
    assert caught.value.kind == "bad_input"
    with pytest.raises(ZeroDivisionError):
        watchdog.run_abandonable(lambda: 1 / 0, NODE, SOFT)
    assert reports == []


def test_abandonable_node_own_timeout_counts_as_hard(watchdog: Watchdog, reports: Reports):
    with pytest.raises(ExecutionError) as caught:
        watchdog.run_abandonable(own_timeout, NODE, SOFT)
    assert caught.value.reason == "the sandbox hit its deadline"
    assert reports == [("hard", NODE)]


def test_abandonable_node_raising_builtin_timeout_error_is_not_a_watchdog_timeout(watchdog: Watchdog,
                                                                                   reports: Reports):
    """BUG (src/neira_factory/runtime/watchdog.py, run_abandonable, the two `except FutureTimeout:`):
    since Python 3.11 concurrent.futures.TimeoutError *is* the builtin TimeoutError (and socket.timeout too),
    so a node that raises TimeoutError at once (e.g. a read timeout of its own) is taken for the watchdog's
    timeout: "soft" and "hard" are reported (a step towards a `timeouts` quarantine), and the call fails at
    once with "ran past its hard timeout of 2000 ms and was abandoned". run_inline and run_async let the
    node's TimeoutError through unchanged (then counted as an `exception`)."""

    def upstream_timeout() -> None:
        raise TimeoutError("upstream read timed out")

    started = time.monotonic()
    with pytest.raises(TimeoutError, match="upstream read timed out"):
        watchdog.run_abandonable(upstream_timeout, NODE, SOFT)
    assert time.monotonic() - started < SOFT.hard_s
    assert reports == []


class _LateFuture:
    """A future whose timed waits run out just as the call ends: they wait for it, then time out anyway."""

    def __init__(self, future) -> None:
        self._future = future

    def result(self, timeout=None):
        if timeout is None:
            return self._future.result()
        concurrent.futures.wait([self._future])
        raise concurrent.futures.TimeoutError()

    def __getattr__(self, name):
        return getattr(self._future, name)


@pytest.mark.parametrize("budget", [SOFT, Budget(soft_s=0.0, hard_s=2.0)], ids=["soft-wait", "hard-wait"])
def test_abandonable_call_that_ends_as_a_wait_runs_out_keeps_its_answer(watchdog: Watchdog, reports: Reports,
                                                                         monkeypatch, budget):
    """A call done between a wait's timing out and the look at whether it is done is answered, not failed:
    the wait's TimeoutError is not the node's (a flaky replica test lost one request this way under load)."""
    submit = watchdog._pool.submit
    monkeypatch.setattr(watchdog._pool, "submit", lambda *a, **k: _LateFuture(submit(*a, **k)))
    assert watchdog.run_abandonable(lambda: "answer", NODE, budget) == "answer"

    def failing() -> None:
        raise ExecutionError("its own failure", kind="exception", node=NODE)

    with pytest.raises(ExecutionError, match="its own failure"):
        watchdog.run_abandonable(failing, NODE, budget)


# run_inline


def test_inline_returns_a_fast_result(watchdog: Watchdog, reports: Reports):
    assert watchdog.run_inline(lambda: "fast", NODE, SOFT) == "fast"
    assert reports == []


def test_inline_reports_soft_after_a_slow_call(watchdog: Watchdog, reports: Reports):
    assert watchdog.run_inline(sleeps(0.3), NODE, SOFT) == "ok"
    assert reports == [("soft", NODE)]


def test_inline_node_own_timeout_counts_as_hard(watchdog: Watchdog, reports: Reports):
    with pytest.raises(ExecutionError) as caught:
        watchdog.run_inline(own_timeout, NODE, SOFT)
    assert caught.value.kind == "timeout"
    assert reports == [("hard", NODE)]


def test_inline_other_errors_are_not_timeouts(watchdog: Watchdog, reports: Reports):
    def fails() -> None:
        raise ExecutionError("over the limit", kind="limit", node=NODE)

    with pytest.raises(ExecutionError):
        watchdog.run_inline(fails, NODE, SOFT)
    assert reports == []


# run_async


def test_async_returns_a_fast_result(watchdog: Watchdog, reports: Reports):
    assert asyncio.run(watchdog.run_async(lambda: 7, NODE, SOFT, interruptible=False)) == 7
    assert reports == []


def test_async_reports_soft_and_returns_a_slow_result(watchdog: Watchdog, reports: Reports):
    assert asyncio.run(watchdog.run_async(sleeps(0.3), NODE, SOFT, interruptible=False)) == "ok"
    assert reports == [("soft", NODE)]


def test_async_abandons_a_call_past_hard(watchdog: Watchdog, reports: Reports, release: threading.Event):
    started = time.monotonic()
    with pytest.raises(ExecutionError) as caught:
        asyncio.run(watchdog.run_async(blocked_until(release), NODE, HARD, interruptible=False))
    elapsed = time.monotonic() - started
    assert HARD.hard_s * 0.9 <= elapsed < 5.0
    assert caught.value.kind == "timeout"
    assert caught.value.extra["limit_ms"] == 300
    assert reports == [("soft", NODE), ("hard", NODE)]


def test_async_does_not_block_the_event_loop(watchdog: Watchdog, release: threading.Event):
    async def main() -> tuple[str, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        result = await watchdog.run_async(sleeps(0.3), NODE, SOFT, interruptible=False)
        task.cancel()
        return result, ticks

    result, ticks = asyncio.run(main())
    assert result == "ok"
    assert ticks >= 5  # the loop kept running while the node did


def test_async_interruptible_waits_for_the_grace_period(watchdog: Watchdog, reports: Reports):
    # past hard (0.3 s) but within hard + grace (1.3 s): a sandbox still gets to answer
    overrun = HARD.hard_s + SANDBOX_GRACE_S / 3
    assert asyncio.run(watchdog.run_async(sleeps(overrun), NODE, HARD, interruptible=True)) == "ok"
    assert reports == [("soft", NODE)]


def test_async_not_interruptible_has_no_grace_period(watchdog: Watchdog, reports: Reports):
    overrun = HARD.hard_s + SANDBOX_GRACE_S / 3
    with pytest.raises(ExecutionError) as caught:
        asyncio.run(watchdog.run_async(sleeps(overrun), NODE, HARD, interruptible=False))
    assert caught.value.kind == "timeout"
    assert reports == [("soft", NODE), ("hard", NODE)]


def test_async_interruptible_is_abandoned_past_the_grace_period(watchdog: Watchdog, reports: Reports,
                                                                release: threading.Event):
    started = time.monotonic()
    with pytest.raises(ExecutionError) as caught:
        asyncio.run(watchdog.run_async(blocked_until(release), NODE, HARD, interruptible=True))
    elapsed = time.monotonic() - started
    assert (HARD.hard_s + SANDBOX_GRACE_S) * 0.9 <= elapsed < 6.0
    assert caught.value.kind == "timeout"
    assert reports == [("soft", NODE), ("hard", NODE)]


def test_async_node_own_timeout_counts_as_hard(watchdog: Watchdog, reports: Reports):
    for interruptible in (False, True):
        reports.clear()
        with pytest.raises(ExecutionError) as caught:
            asyncio.run(watchdog.run_async(own_timeout, NODE, SOFT, interruptible=interruptible))
        assert caught.value.reason == "the sandbox hit its deadline"
        assert reports == [("hard", NODE)]


def test_async_other_errors_propagate_without_reports(watchdog: Watchdog, reports: Reports):
    with pytest.raises(ZeroDivisionError):
        asyncio.run(watchdog.run_async(lambda: 1 / 0, NODE, SOFT, interruptible=False))
    assert reports == []


# busy


def test_busy_counts_a_running_worker(watchdog: Watchdog, release: threading.Event):
    assert watchdog.busy == 0
    with pytest.raises(ExecutionError):
        watchdog.run_abandonable(blocked_until(release), NODE, HARD)
    assert watchdog.busy == 1  # the abandoned worker still runs
    release.set()
    assert wait_until(lambda: watchdog.busy == 0)


def test_busy_counts_each_running_worker(watchdog: Watchdog, release: threading.Event):
    running = threading.Barrier(3)

    def fn() -> None:
        running.wait(10)
        release.wait(10)

    callers = [threading.Thread(target=watchdog.run_abandonable, args=(fn, NODE, SOFT)) for _ in range(2)]
    for caller in callers:
        caller.start()
    running.wait(10)
    assert watchdog.busy == 2
    release.set()
    for caller in callers:
        caller.join(10)
    assert wait_until(lambda: watchdog.busy == 0)


# HardTimeouts


def test_repeated_at_the_limit_then_resets():
    seen = HardTimeouts(limit=3, within_s=60.0)
    assert seen.repeated(NODE) is False
    seen.add(NODE)
    seen.add(NODE)
    assert seen.repeated(NODE) is False
    seen.add(NODE)
    assert seen.repeated(NODE) is True
    assert seen.repeated(NODE) is False  # forgotten once reported
    seen.add(NODE)
    assert seen.repeated(NODE) is False


def test_repeated_counts_per_node():
    seen = HardTimeouts(limit=2, within_s=60.0)
    seen.add(NODE)
    seen.add("analysis.other.v1")
    assert seen.repeated(NODE) is False
    assert seen.repeated("analysis.other.v1") is False
    seen.add(NODE)
    assert seen.repeated(NODE) is True
    assert seen.repeated("analysis.other.v1") is False


def test_old_timeouts_outside_the_period_do_not_count():
    seen = HardTimeouts(limit=3, within_s=0.2)
    seen.add(NODE)
    seen.add(NODE)
    time.sleep(0.4)
    seen.add(NODE)
    assert seen.repeated(NODE) is False  # only one of the three is recent
    seen.add(NODE)
    seen.add(NODE)
    assert seen.repeated(NODE) is True


def test_defaults_match_the_documented_three_within_sixty_seconds():
    seen = HardTimeouts()
    assert (seen.limit, seen.within_s) == (3, 60.0)


# a full pool: waiting for a worker is not the node's time


@pytest.fixture
def one_worker(reports: Reports) -> Iterator[Watchdog]:
    dog = Watchdog(soft_ms=500, hard_ms=10_000, on_timeout=reports, workers=1)
    yield dog
    dog.shutdown()


def occupy(dog: Watchdog, release: threading.Event) -> None:
    """The only worker is taken by a call that waits for `release`."""
    dog._pool.submit(release.wait, 10)
    assert wait_until(lambda: dog.busy == 0 and dog.queued == 0)


@pytest.mark.parametrize("runner", ["sync", "async"])
def test_a_call_that_finds_no_worker_fails_without_counting_as_a_hard_timeout(one_worker, reports, release, runner):
    occupy(one_worker, release)
    started = time.monotonic()
    with pytest.raises(ExecutionError) as caught:
        if runner == "sync":
            one_worker.run_abandonable(lambda: "ran", NODE, HARD)
        else:
            asyncio.run(one_worker.run_async(lambda: "ran", NODE, HARD, interruptible=False))
    assert HARD.hard_s * 0.9 <= time.monotonic() - started < 5.0
    assert caught.value.kind == "timeout" and caught.value.extra["queued"] is True
    assert reports == []  # neither soft nor hard: the node never ran
    release.set()
    assert one_worker.run_abandonable(lambda: "ran", NODE, HARD) == "ran"  # the cancelled call never ran


@pytest.mark.parametrize("runner", ["sync", "async"])
def test_a_queued_call_gets_its_whole_budget_from_when_it_starts(one_worker, reports, runner):
    gate = threading.Event()
    one_worker._pool.submit(gate.wait, 10)
    threading.Timer(0.2, gate.set).start()  # the worker frees up after 0.2 s of a 0.3 s budget
    work = sleeps(0.2, "done")  # 0.2 s of its own: within its budget from its start, not from the submit
    if runner == "sync":
        assert one_worker.run_abandonable(work, NODE, HARD) == "done"
    else:
        assert asyncio.run(one_worker.run_async(work, NODE, HARD, interruptible=False)) == "done"
    assert ("hard", NODE) not in reports


# ---- cooperative: an organ's member on its organ's worker -------------------------------------------------

def test_cooperative_runs_here_and_reports_a_soft_overrun(watchdog: Watchdog, reports: Reports):
    here = threading.get_ident()
    assert watchdog.run_cooperative(lambda: threading.get_ident(), NODE, SOFT) == here
    assert watchdog.run_cooperative(sleeps(0.3), NODE, SOFT) == "ok"
    assert reports == [("soft", NODE)]


def test_cooperative_fails_a_call_that_returns_past_its_hard_budget(watchdog: Watchdog, reports: Reports):
    with pytest.raises(ExecutionError) as caught:
        watchdog.run_cooperative(sleeps(0.4, "too late"), NODE, HARD)
    assert caught.value.kind == "timeout" and caught.value.extra["limit_ms"] == 300
    assert reports == [("soft", NODE), ("hard", NODE)]


def test_an_organ_abandoned_while_a_member_hangs_charges_that_member(watchdog: Watchdog, reports: Reports,
                                                                    release: threading.Event):
    """An organ's members run cooperatively on the organ's worker; one that never comes back keeps its worker
    until the organ is abandoned, and that is a hard timeout of the member as well as of the organ."""
    member = "analysis.hangs.v1"

    def organ() -> str:
        watchdog.run_cooperative(lambda: "fine", NODE, SOFT)  # a member that answered is not charged
        return watchdog.run_cooperative(blocked_until(release), member, SOFT)

    with pytest.raises(ExecutionError) as caught:
        watchdog.run_abandonable(organ, "organ.svc.v1", HARD)
    assert caught.value.kind == "timeout" and caught.value.extra["inside"] == member
    assert ("hard", member) in reports and ("hard", "organ.svc.v1") in reports
    assert ("hard", NODE) not in reports
