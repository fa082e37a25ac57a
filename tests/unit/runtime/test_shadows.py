"""Shadows: a bounded pool for shadow copies; drain waits, a full queue drops."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from neira_factory.runtime.shadows import Shadows


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_submitted_work_runs():
    shadows = Shadows(workers=2, queue_max=10)
    done = threading.Event()
    assert shadows.submit(done.set) is True
    assert done.wait(10)
    shadows.drain()


def test_submit_passes_the_arguments():
    shadows = Shadows(workers=2, queue_max=10)
    seen = []
    assert shadows.submit(lambda *args: seen.append(args), "route", 3) is True
    shadows.drain()
    assert seen == [("route", 3)]


def test_drain_waits_for_queued_and_running_work():
    shadows = Shadows(workers=1, queue_max=100)
    finished = []

    def slow(n: int) -> None:
        time.sleep(0.05)
        finished.append(n)

    for n in range(5):
        assert shadows.submit(slow, n) is True
    shadows.drain()
    assert finished == [0, 1, 2, 3, 4]


def test_pool_accepts_work_after_a_drain():
    shadows = Shadows(workers=1, queue_max=10)
    shadows.drain()
    seen = []
    assert shadows.submit(seen.append, 1) is True
    shadows.drain()
    assert seen == [1]


def test_full_queue_drops_the_copy(release: threading.Event):
    shadows = Shadows(workers=1, queue_max=1)
    running = threading.Event()
    ran = []

    def blocker() -> None:
        running.set()
        release.wait(10)
        ran.append("blocker")

    assert shadows.submit(blocker) is True
    assert running.wait(10)  # the only worker is busy: what comes next waits in the queue
    assert shadows.submit(ran.append, "queued") is True
    assert shadows.submit(ran.append, "dropped") is False
    assert shadows.submit(ran.append, "dropped too") is False
    release.set()
    shadows.drain()
    assert ran == ["blocker", "queued"]


def test_zero_queue_drops_everything():
    shadows = Shadows(workers=1, queue_max=0)
    ran = []
    assert shadows.submit(ran.append, 1) is False
    shadows.drain()
    assert ran == []


def test_errors_in_a_copy_do_not_break_the_pool():
    shadows = Shadows(workers=1, queue_max=10)
    seen = []
    assert shadows.submit(lambda: 1 / 0) is True
    assert shadows.submit(seen.append, "after") is True
    shadows.drain()
    assert seen == ["after"]
