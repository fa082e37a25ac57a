"""The runtime's background loop on each replica: flush this replica's counters, take one analysis
measurement per candidate and window, and act on the phase — roll back a failing candidate
(`rollout.auto_rollback`), graduate a passing experimental one (`rollout.auto_graduate`), and
announce every change of phase once for the cluster (every replica measures every candidate; the
`announced_phases` table lets one transaction announce each change; a check with nothing to measure, do or
announce opens no write transaction, so the other replicas' checks do not queue for the write lock). Now and
then it deletes old statistics windows, measurements and events."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from ..backends.memory import spec_of, store_of
from ..backends.memory_access import MemoryAccess
from ..config import Settings
from ..domain.actors import WATCHDOG
from ..domain.errors import FactoryError
from ..domain.events import Event
from ..domain.lifecycle import Action, State
from ..domain.memory import DAY_S
from ..library.core import prune_outputs
from ..nervous.metrics import FactoryMetrics
from ..runtime.shadows import Shadows
from ..runtime.stats import StatsRecorder
from ..domain.node import Node
from ..store.templates import load_template
from . import analysis
from . import lifecycle
from .lifecycle import Applied
from .ports import FlushStats, Read, Write, UnitOfWork

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 3600.0
ACTIONABLE = ("failed", "passed")  # phases on which _act may roll back or graduate


@dataclass(frozen=True)
class Deps:
    """What the supervisor uses: units of work, this replica's counters, shadow pool and metrics, the settings
    (intervals and retention), the analysis and the lifecycle."""

    read: Read
    write: Write
    flush_stats: FlushStats
    stats: StatsRecorder
    shadows: Shadows
    metrics: FactoryMetrics
    settings: Settings
    analysis: analysis.Deps
    lifecycle: lifecycle.Deps
    memory: MemoryAccess


class Supervisor:
    """The runtime's background worker: flushes counters, measures candidates, rolls back or graduates them."""

    name = "supervisor"

    def __init__(self, f: Deps, interval_s: float | None = None):
        self.f = f
        self.interval_s = interval_s if interval_s is not None else f.settings.stats_flush_ms / 1000
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # node id -> (row version, requests, compared, phase) last checked
        self._seen: dict[str, tuple[int, int, int, str]] = {}
        self._next_prune = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="neira-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.f.shadows.drain()
        try:
            self.f.flush_stats()
        except Exception:  # shutting down with the database gone: say what was lost, do not hang
            log.exception("the last statistics flush failed; up to one flush interval of counters is lost")

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception:  # the loop must outlive a bad tick (a database blip); the next one retries
                log.exception("supervisor tick failed")

    def tick(self) -> list[dict[str, Any]]:
        """One round: flush, prune old windows now and then, then check every candidate with new evidence.
        Returns what was done."""
        self.f.flush_stats()
        self.f.memory.refresh_gauge()
        if time.monotonic() >= self._next_prune:
            self.prune()
        with self.f.read() as uow:
            candidates = [r for s in analysis.CANDIDATES for r in uow.nodes.list(state=s, limit=1000)]
        return [done for record in candidates if (done := self.check(record)) is not None]

    def prune(self) -> int:
        """Delete statistics windows and measurements older than their retention period, events older than
        theirs (NEIRA_EVENTS_RETENTION_H), files nodes wrote into <var>/output older than
        NEIRA_OUTPUT_RETENTION_H, and memory records past their store's `retention_days`. Returns how many rows
        and files went."""
        self._next_prune = time.monotonic() + PRUNE_EVERY_S
        settings, now = self.f.settings, time.time()
        horizon = self.f.stats.window(now - settings.stats_retention_h * 3600)
        with self.f.write() as uow:
            rows = (uow.stats.prune(horizon) + uow.measurements.prune(horizon)
                    + uow.event_log.prune(now - settings.events_retention_h * 3600))
        return (rows + prune_outputs(settings.output_dir, now - settings.output_retention_h * 3600)
                + self.prune_memory(now))

    def prune_memory(self, now: float) -> int:
        """Each memory store with a `retention_days` (its stable version's, else a live one's): the records not
        updated or used for that long go (audited)."""
        retention: dict[str, tuple[float, str]] = {}
        with self.f.read() as uow:
            for state in (State.STABLE, State.EXPERIMENTAL, State.CANARY):  # the stable version's spec wins
                for record in uow.nodes.list(state=state.value, backend="memory", limit=1000):
                    template = load_template(uow, record)
                    days = spec_of(template).retention_days
                    if days is not None and days > 0:
                        retention.setdefault(store_of(template), (days, record.id))
        return sum(self.f.memory.prune(store, now - days * DAY_S, WATCHDOG.name, node)
                   for store, (days, node) in retention.items())

    def check(self, record: Node) -> dict[str, Any] | None:
        f = self.f
        with f.read() as uow:
            result, phase, evidence = analysis.evaluate_node(f.analysis, uow, record)
            seen = (record.row_version, result.requests, evidence["stats"]["shadow_compared"], phase.phase)
            if self._seen.get(record.id) == seen:
                return None
            announced = uow.announced_phases.recorded(record.id)  # only when there is something new
        self._seen[record.id] = seen
        if (not analysis.measurable(result) and phase.phase not in ACTIONABLE
                and announced == (record.row_version, phase.phase, phase.needs_human)):
            # nothing to write: no measurement, no action, and the phase is announced (by another replica)
            return {"id": record.id, "phase": phase.phase, "action": None}
        with f.write() as uow:
            current = uow.nodes.get(record.id)
            if current is None or current.state != record.state or current.row_version != record.row_version:
                return None  # moved meanwhile (a human, or another replica)
            if analysis.measurable(result):
                uow.measurements.put(record.id, record.state, f.stats.window(), result.verdict, result.requests,
                                     result.to_dict()["reason"])
            changed = uow.announced_phases.claim(record.id, record.row_version, record.state, phase.phase,
                                                 phase.needs_human)
            if changed:
                uow.announce(Event("analysis.verdict", record.id, {
                    "route": record.route, "state": record.state, "phase": phase.phase, "verdict": result.verdict,
                    "reason": phase.reason, "why": phase.why.to_dict(), "needs_human": phase.needs_human,
                    "requests": result.requests}))
            done = self._act(uow, current, phase.phase, phase.reason,
                             {"analysis": result.to_dict(), "measurements": evidence["measurements"]})
        if changed:
            f.metrics.analysis_verdicts.labels(phase.phase).inc()
        if done is not None:
            lifecycle.count(f.lifecycle, done[0], done[1])
        return {"id": record.id, "phase": phase.phase, "action": done[0].value if done else None}

    def _act(self, uow: UnitOfWork, record: Node, phase: str, reason: str,
             evidence: dict[str, Any]) -> tuple[Action, Applied] | None:
        rollout = load_template(uow, record).rollout
        if phase == "failed" and rollout.auto_rollback:
            act = Action.ROLLBACK
            why = f"analysis failed: {reason}"
        elif phase == "passed" and record.state == State.EXPERIMENTAL.value and rollout.auto_graduate:
            act = Action.APPROVE
            why = "analysis passed; rollout.auto_graduate"
        else:
            return None
        announced = len(uow.events)
        try:
            with uow.savepoint():
                return act, lifecycle.apply(self.f.lifecycle, uow, WATCHDOG, record, act, reason=why, evidence=evidence)
        except FactoryError as exc:  # e.g. a gate closed meanwhile: leave it to a human, say why
            del uow.events[announced:]  # what the rolled-back savepoint announced did not happen
            log.warning("watchdog could not %s %s: %s", act.value, record.id, exc.reason)
            return None
