"""The epoch ticker: a deadline set while the ticker is behind the wall clock (it was not scheduled)
includes the ticks it owes, so its catching up cannot stop a call that has only just started."""
from __future__ import annotations

import wasmtime

from neira_factory.backends import wasm_runtime
from neira_factory.backends.wasm_runtime import EpochTicker


def ticker() -> EpochTicker:
    config = wasmtime.Config()
    config.epoch_interruption = True
    return EpochTicker(wasmtime.Engine(config), tick_ms=10)


def test_an_idle_ticker_owes_nothing():
    t = ticker()
    assert t.owed() == 0 and t.ticks(500) == 50 and t.ticks(3) == 1


def test_a_late_ticker_adds_what_it_owes_to_a_new_deadline(monkeypatch):
    t = ticker()
    now = 1000.0
    monkeypatch.setattr(wasm_runtime.time, "monotonic", lambda: now)
    t._started, t._done = now - 1.0, 40  # counting for 1 s (100 ticks of 10 ms), only 40 given yet
    assert t.owed() == 60
    assert t.ticks(500) == 50 + 60
    t._done = 100  # caught up
    assert t.owed() == 0 and t.ticks(500) == 50
