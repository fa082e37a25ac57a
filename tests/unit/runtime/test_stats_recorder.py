"""StatsRecorder: per (node, state, window) counters, flushed as running totals, only what changed."""
from __future__ import annotations

from typing import Any

import pytest

from neira_factory.runtime.measures import VersionStats
from neira_factory.runtime.stats import StatsRecorder

REPLICA = "replica-a"
WINDOW_S = 10
ROW_KEYS = {"node_id", "state", "window_start", "replica"} | set(VersionStats().to_row())


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Writer:
    """A `write` callable that keeps every batch it was given (and can be told to fail)."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.fail = False

    def __call__(self, rows: list[dict[str, Any]]) -> None:
        if self.fail:
            raise ConnectionError("database went away")
        self.batches.append(rows)

    @property
    def last(self) -> dict[tuple[str, str, int], dict[str, Any]]:
        return {(r["node_id"], r["state"], r["window_start"]): r for r in self.batches[-1]}


@pytest.fixture
def clock() -> Clock:
    return Clock(1_000_003.5)


@pytest.fixture
def recorder(clock: Clock) -> StatsRecorder:
    return StatsRecorder(REPLICA, WINDOW_S, clock=clock)


def test_window_is_the_start_of_the_current_window(recorder: StatsRecorder, clock: Clock):
    assert recorder.window() == 1_000_000
    assert recorder.window(1_000_010.0) == 1_000_010
    assert recorder.window(1_000_009.999) == 1_000_000
    clock.now = 1_000_019.0
    assert recorder.window() == 1_000_010


def test_nothing_recorded_is_not_dirty_and_writes_nothing(recorder: StatsRecorder):
    write = Writer()
    assert recorder.dirty is False
    assert recorder.flush(write) == 0
    assert write.batches in ([], [[]])  # an empty batch at most
    assert all(batch == [] for batch in write.batches)


def test_flush_writes_rows_with_exact_keys_and_totals(recorder: StatsRecorder):
    recorder.record("analysis.svc.v2", "canary", 12.0)
    recorder.record("analysis.svc.v2", "canary", 30.0, error="timeout", operations=500, memory_bytes=2048)
    recorder.record("analysis.svc.v2", "canary", 8.0, memory_bytes=1024)
    recorder.record_shadow("analysis.svc.v2", "canary", mismatch=True)
    recorder.record_shadow("analysis.svc.v2", "canary", mismatch=False)
    assert recorder.dirty is True
    write = Writer()
    assert recorder.flush(write) == 1
    [row] = write.batches[0]
    assert set(row) == ROW_KEYS
    assert (row["node_id"], row["state"], row["window_start"], row["replica"]) == \
        ("analysis.svc.v2", "canary", 1_000_000, REPLICA)
    assert row["requests"] == 3
    assert row["errors"] == {"timeout": 1}
    assert row["memory_peak_bytes"] == 2048
    assert (row["shadow_compared"], row["shadow_mismatched"]) == (2, 1)
    assert sum(row["latency_hist"].values()) == 3
    assert sum(row["ops_hist"].values()) == 1
    assert VersionStats.from_row(row).requests == 3


def test_second_flush_with_nothing_new_writes_nothing(recorder: StatsRecorder):
    recorder.record("analysis.svc.v2", "canary", 5.0)
    write = Writer()
    assert recorder.flush(write) == 1
    assert recorder.dirty is False
    assert recorder.flush(write) == 0
    assert all(batch == [] for batch in write.batches[1:])


def test_flush_writes_only_changed_rows_with_running_totals(recorder: StatsRecorder):
    recorder.record("analysis.a", "stable", 5.0)
    recorder.record("analysis.b", "stable", 5.0)
    write = Writer()
    assert recorder.flush(write) == 2
    recorder.record("analysis.a", "stable", 7.0)
    assert recorder.flush(write) == 1
    assert list(write.last) == [("analysis.a", "stable", 1_000_000)]
    assert write.last[("analysis.a", "stable", 1_000_000)]["requests"] == 2  # a total, not a delta


def test_state_is_part_of_the_key(recorder: StatsRecorder):
    recorder.record("analysis.svc.v2", "canary", 5.0)
    recorder.record("analysis.svc.v2", "experimental", 5.0)
    recorder.record("analysis.svc.v2", "experimental", 6.0)
    write = Writer()
    assert recorder.flush(write) == 2
    assert write.last[("analysis.svc.v2", "canary", 1_000_000)]["requests"] == 1
    assert write.last[("analysis.svc.v2", "experimental", 1_000_000)]["requests"] == 2


def test_records_go_into_the_current_window(recorder: StatsRecorder, clock: Clock):
    recorder.record("analysis.a", "stable", 5.0)
    clock.now += WINDOW_S
    recorder.record("analysis.a", "stable", 5.0)
    recorder.record("analysis.a", "stable", 5.0)
    write = Writer()
    assert recorder.flush(write) == 2
    assert write.last[("analysis.a", "stable", 1_000_000)]["requests"] == 1
    assert write.last[("analysis.a", "stable", 1_000_010)]["requests"] == 2


def test_failed_write_keeps_rows_dirty_and_next_flush_writes_them(recorder: StatsRecorder):
    recorder.record("analysis.a", "stable", 5.0)
    write = Writer()
    write.fail = True
    with pytest.raises(ConnectionError):
        recorder.flush(write)
    assert recorder.dirty is True
    recorder.record("analysis.b", "stable", 5.0)
    write.fail = False
    assert recorder.flush(write) == 2
    assert set(write.last) == {("analysis.a", "stable", 1_000_000), ("analysis.b", "stable", 1_000_000)}
    assert recorder.dirty is False


def test_closed_window_is_written_then_dropped(recorder: StatsRecorder, clock: Clock):
    recorder.record("analysis.a", "stable", 5.0)
    recorder.record("analysis.a", "stable", 6.0)
    clock.now += WINDOW_S  # the first window closes
    recorder.record("analysis.a", "stable", 7.0)
    write = Writer()
    assert recorder.flush(write) == 2
    assert write.last[("analysis.a", "stable", 1_000_000)]["requests"] == 2  # its totals were written
    assert {key[2] for key in recorder._stats} == {1_000_010}  # … and it is no longer held
    recorder.record("analysis.a", "stable", 8.0)
    assert recorder.flush(write) == 1
    assert list(write.last) == [("analysis.a", "stable", 1_000_010)]
    assert write.last[("analysis.a", "stable", 1_000_010)]["requests"] == 2


def test_closed_window_survives_a_failed_write(recorder: StatsRecorder, clock: Clock):
    recorder.record("analysis.a", "stable", 5.0)
    clock.now += WINDOW_S
    write = Writer()
    write.fail = True
    with pytest.raises(ConnectionError):
        recorder.flush(write)
    write.fail = False
    assert recorder.flush(write) == 1
    assert write.last[("analysis.a", "stable", 1_000_000)]["requests"] == 1
    assert recorder._stats == {}


def test_current_window_is_kept_after_a_flush(recorder: StatsRecorder):
    recorder.record("analysis.a", "stable", 5.0)
    write = Writer()
    recorder.flush(write)
    recorder.record("analysis.a", "stable", 5.0)
    recorder.flush(write)
    assert write.last[("analysis.a", "stable", 1_000_000)]["requests"] == 2


def test_unknown_error_kind_is_refused(recorder: StatsRecorder):
    with pytest.raises(ValueError):
        recorder.record("analysis.a", "stable", 5.0, error="oops")
