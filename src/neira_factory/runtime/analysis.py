"""Three-valued canary analysis (pass / fail / inconclusive), as in Argo Rollouts.

`evaluate` judges one measurement window of a candidate by the metrics of
metrics.py: against its SLO and against the stable version of its route;
`decide` turns the verdicts of the windows so far into a phase, with Argo's
failure and inconclusive limits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..domain.reasons import Why
from ..domain.templates import RolloutPolicy
from .measures import VersionStats
from .metrics import BASELINE_METRICS, CANDIDATE, FAIL, INCONCLUSIVE, PASS, SLO_METRICS, STABLE, MetricResult


@dataclass(frozen=True)
class Analysis:
    verdict: str
    requests: int
    min_requests: int
    metrics: tuple[MetricResult, ...]

    @property
    def why(self) -> Why:
        """The first failing metric's why, else the first inconclusive one's."""
        for verdict in (FAIL, INCONCLUSIVE):
            for metric in self.metrics:
                if metric.verdict == verdict:
                    return metric.why
        return Why("all_pass", {"n": len(self.metrics)})

    @property
    def reason(self) -> str:
        return self.why.english

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "requests": self.requests, "min_requests": self.min_requests,
                "metrics": [metric.to_dict() for metric in self.metrics], "reason": self.reason,
                "why": self.why.to_dict()}


def _overall(metrics: list[MetricResult]) -> str:
    verdicts = {metric.verdict for metric in metrics}
    return FAIL if FAIL in verdicts else INCONCLUSIVE if INCONCLUSIVE in verdicts else PASS


def evaluate(candidate: VersionStats, baseline: VersionStats | None, rollout: RolloutPolicy) -> Analysis:
    """Judge a candidate's window against its SLO and, where enabled, the stable baseline."""
    min_requests = rollout.min_requests
    metrics = [_requests(candidate, min_requests)]
    for metric in SLO_METRICS:
        limit = metric.limit(rollout)
        if limit is not None:
            value, verdict, why = metric.judge(candidate, limit, min_requests)
            metrics.append(MetricResult(metric.name, value, limit, verdict, why))
    if rollout.baseline.enabled:
        policy = rollout.baseline
        short = (PASS, Why("no_baseline")) if baseline is None else _short_sample(candidate, baseline, min_requests)
        for comparison in BASELINE_METRICS:
            value, verdict, why = (None, *short) if short else comparison.judge(candidate, baseline, policy)
            metrics.append(MetricResult(comparison.name, value, comparison.threshold(policy), verdict, why))
    return Analysis(_overall(metrics), candidate.requests, min_requests, tuple(metrics))


def _requests(candidate: VersionStats, min_requests: int) -> MetricResult:
    n, sample = candidate.requests, {"n": candidate.requests, "min": min_requests}
    if n < min_requests:
        return MetricResult("requests", n, min_requests, INCONCLUSIVE, Why("too_few_requests", sample))
    return MetricResult("requests", n, min_requests, PASS, Why("enough_requests", sample))


def _short_sample(candidate: VersionStats, baseline: VersionStats, min_requests: int) -> tuple[str, Why] | None:
    """(verdict, why) when either side has too little data to compare, else None."""
    for side, stats in ((CANDIDATE, candidate), (STABLE, baseline)):
        if stats.requests < min_requests:
            return INCONCLUSIVE, Why("side_too_few", {"side": side, "n": stats.requests, "min": min_requests})
    for side, stats in ((CANDIDATE, candidate), (STABLE, baseline)):
        if stats.requests == 0:
            return PASS, Why("side_no_requests", {"side": side})
    return None


PhaseName = Literal["passed", "failed", "inconclusive", "running"]


@dataclass(frozen=True)
class Phase:
    phase: PhaseName
    why: Why
    needs_human: bool = False  # inconclusive measurements exceeded inconclusive_limit

    @property
    def reason(self) -> str:
        return self.why.english


def decide(current: Analysis, failed_measurements: int, inconclusive_measurements: int,
           rollout: RolloutPolicy) -> Phase:
    """Argo's measurement limits; the counts are of stored windows, the current one included."""
    failed = {"n": failed_measurements, "limit": rollout.failure_limit}
    if failed_measurements > rollout.failure_limit:
        why = current.why if current.verdict == FAIL else Why("earlier_windows_failed")
        return Phase("failed", Why("failed_over_limit", {**failed, "why": why}))
    if current.verdict == FAIL:
        return Phase("running", Why("failures_tolerated", {**failed, "why": current.why}))
    if current.verdict == INCONCLUSIVE:
        if inconclusive_measurements > rollout.inconclusive_limit:
            return Phase("inconclusive", Why("needs_a_human", {
                "why": current.why, "n": inconclusive_measurements, "limit": rollout.inconclusive_limit}),
                needs_human=True)
        return Phase("inconclusive", current.why)
    return Phase("passed", current.why)
