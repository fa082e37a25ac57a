"""A candidate's analysis from the database: its counters (all replicas) since it entered its state,
the stable baseline over the same windows, the stored measurements, and the phase they make (an `AnalysisReport`)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..domain.actors import Actor
from ..domain.lifecycle import State
from ..domain.node import Node
from ..domain.reasons import WHY_FIELD
from ..runtime.analysis import Analysis, Phase, decide, evaluate
from ..runtime.measures import VersionStats
from ..runtime.stats import StatsRecorder
from ..store.templates import load_template, require_node
from .ports import Authorize, FlushStats, Read, UnitOfWork

CANDIDATES = (State.CANARY.value, State.EXPERIMENTAL.value)
MAX_WINDOWS = 360  # the per-window series shown (an hour of 10 s windows); the analysis uses them all


@dataclass(frozen=True)
class Deps:
    """What the analysis reads: the unit of work, the policy, this replica's counters."""

    read: Read
    authorize: Authorize
    stats: StatsRecorder
    flush_stats: FlushStats


class MetricVerdict(BaseModel):
    name: str
    value: float | int | None
    threshold: float | int | None
    verdict: str = Field(description="pass | fail | inconclusive")
    reason: str
    why: dict[str, Any] = Field(description=WHY_FIELD)


class AnalysisReport(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    route: str
    state: str
    candidate: bool = Field(description="canary or experimental: the analysis decides its graduation")
    phase: str = Field(description="passed | failed | inconclusive | running")
    reason: str
    why: dict[str, Any] = Field(description=WHY_FIELD)
    needs_human: bool
    verdict: str = Field(description="the current measurement: pass | fail | inconclusive")
    requests: int
    min_requests: int
    metrics: list[MetricVerdict]
    stats: dict[str, Any] = Field(description="this version's numbers in its current state, all replicas")
    baseline: dict[str, Any] | None = Field(description="the stable version compared with, and its numbers")
    windows: list[dict[str, Any]] = Field(description="per-window totals over all replicas, oldest first")
    history: list[dict[str, Any]] = Field(description="stored measurements, newest first")


def measurable(result: Analysis) -> bool:
    """A window is measured once it has enough data, or when its failure is already certain."""
    return result.requests >= result.min_requests or result.verdict == "fail"


def since_window(f: Deps, record: Node) -> int:
    """The window in which the node entered its current state."""
    return f.stats.window(record.updated_at.timestamp())


def baseline_of(uow: UnitOfWork, record: Node) -> Node | None:
    if record.state not in CANDIDATES:
        return None
    return next((r for r in uow.nodes.list(route=record.route, state=State.STABLE.value) if r.id != record.id), None)


def _merged(rows: list[dict[str, Any]]) -> VersionStats:
    return VersionStats.merged(VersionStats.from_row(r) for r in rows)


def evaluate_node(f: Deps, uow: UnitOfWork, record: Node) -> tuple[Analysis, Phase, dict[str, Any]]:
    """The analysis, the phase with the stored measurements, and the evidence behind them."""
    rollout = load_template(uow, record).rollout
    since = since_window(f, record)
    rows = uow.stats.rows(record.id, record.state, since)
    candidate = _merged(rows)
    stable = baseline_of(uow, record)
    baseline = _merged(uow.stats.rows(stable.id, State.STABLE.value, since)) if stable else None
    result = evaluate(candidate, baseline, rollout)
    counts = uow.measurements.counts(record.id, record.state, before_window=f.stats.window())
    if measurable(result):  # the current window's measurement is the verdict now
        counts[result.verdict] = counts.get(result.verdict, 0) + 1
    phase = decide(result, counts.get("fail", 0), counts.get("inconclusive", 0), rollout)
    evidence = {"stats": candidate.summary(),
                "baseline": {"id": stable.id, **baseline.summary()} if stable and baseline else None,
                "measurements": counts, "windows": _windows(rows)}
    return result, phase, evidence


def _windows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-window totals over all replicas, oldest first (for charts): the latest MAX_WINDOWS."""
    by_window: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_window[row["window_start"]].append(row)
    recent = sorted(by_window.items())[-MAX_WINDOWS:]
    return [{"start": start, **_merged(group).summary()} for start, group in recent]


def gate(f: Deps, uow: UnitOfWork, record: Node) -> dict[str, Any]:
    """The graduation guard's view: passed or not, and why."""
    result, phase, _ = evaluate_node(f, uow, record)
    return {"passed": phase.phase == "passed", "phase": phase.phase, "verdict": result.verdict,
            "reason": phase.reason, "why": phase.why.to_dict(), "metrics": [m.to_dict() for m in result.metrics]}


def report(f: Deps, actor: Actor, node_id: str) -> AnalysisReport:
    """GET /factory/nodes/{id}/analysis (with `since_window`, `window_s` and `measurements` as extra fields)."""
    f.flush_stats()
    with f.read() as uow:
        f.authorize(uow, actor, "nodes.read")
        record = require_node(uow, node_id)
        result, phase, evidence = evaluate_node(f, uow, record)
        history = uow.measurements.list(record.id, record.state)
    return AnalysisReport.model_validate({
        **result.to_dict(), "id": record.id, "route": record.route, "state": record.state,
        "candidate": record.state in CANDIDATES, "since_window": since_window(f, record), "window_s": f.stats.window_s,
        "phase": phase.phase, "reason": phase.reason, "why": phase.why.to_dict(), "needs_human": phase.needs_human,
        **evidence,
        "history": history})
