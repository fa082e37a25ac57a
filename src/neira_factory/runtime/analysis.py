"""Three-valued canary analysis (pass / fail / inconclusive), as in Argo Rollouts.

`evaluate` judges one measurement window of a candidate by the metrics of
metrics.py: against its SLO and against the stable version of its route;
`decide` turns the verdicts of the windows so far into a phase, with Argo's
failure and inconclusive limits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..domain.templates import RolloutPolicy
from .measures import VersionStats
from .metrics import BASELINE_METRICS, FAIL, INCONCLUSIVE, PASS, SLO_METRICS, MetricResult

NO_BASELINE = "no stable version on this route to compare with"


@dataclass(frozen=True)
class Analysis:
    verdict: str
    requests: int
    min_requests: int
    metrics: tuple[MetricResult, ...]

    @property
    def reason(self) -> str:
        """The first failing metric's reason, else the first inconclusive one's."""
        for verdict in (FAIL, INCONCLUSIVE):
            for metric in self.metrics:
                if metric.verdict == verdict:
                    return metric.reason
        return f"all {len(self.metrics)} metrics pass"

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "requests": self.requests, "min_requests": self.min_requests,
                "metrics": [metric.to_dict() for metric in self.metrics], "reason": self.reason}


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
            value, verdict, reason = metric.judge(candidate, limit, min_requests)
            metrics.append(MetricResult(metric.name, value, limit, verdict, reason))
    if rollout.baseline.enabled:
        policy = rollout.baseline
        short = (PASS, NO_BASELINE) if baseline is None else _short_sample(candidate, baseline, min_requests)
        for comparison in BASELINE_METRICS:
            value, verdict, reason = (None, *short) if short else comparison.judge(candidate, baseline, policy)
            metrics.append(MetricResult(comparison.name, value, comparison.threshold(policy), verdict, reason))
    return Analysis(_overall(metrics), candidate.requests, min_requests, tuple(metrics))


def _requests(candidate: VersionStats, min_requests: int) -> MetricResult:
    n = candidate.requests
    if n < min_requests:
        return MetricResult("requests", n, min_requests, INCONCLUSIVE, f"{n} of {min_requests} requests so far")
    return MetricResult("requests", n, min_requests, PASS, f"{n} requests ≥ min_requests {min_requests}")


def _short_sample(candidate: VersionStats, baseline: VersionStats, min_requests: int) -> tuple[str, str] | None:
    """(verdict, reason) when either side has too little data to compare, else None."""
    for side, stats in (("the candidate", candidate), ("the stable version", baseline)):
        if stats.requests < min_requests:
            return INCONCLUSIVE, f"{side} has {stats.requests} of {min_requests} requests so far"
    for side, stats in (("the candidate", candidate), ("the stable version", baseline)):
        if stats.requests == 0:
            return PASS, f"{side} has no requests to compare, and min_requests 0 asks for none"
    return None


PhaseName = Literal["passed", "failed", "inconclusive", "running"]


@dataclass(frozen=True)
class Phase:
    phase: PhaseName
    reason: str
    needs_human: bool = False  # inconclusive measurements exceeded inconclusive_limit


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def decide(current: Analysis, failed_measurements: int, inconclusive_measurements: int,
           rollout: RolloutPolicy) -> Phase:
    """Argo's measurement limits; the counts are of stored windows, the current one included."""
    failed = _plural(failed_measurements, "failed measurement")
    if failed_measurements > rollout.failure_limit:
        why = current.reason if current.verdict == FAIL else "earlier windows failed"
        return Phase("failed", f"{failed} > failure_limit {rollout.failure_limit}: {why}")
    if current.verdict == FAIL:
        them = "it" if failed_measurements == 1 else "them"
        return Phase("running", f"{failed}, failure_limit {rollout.failure_limit} tolerates {them}: {current.reason}")
    if current.verdict == INCONCLUSIVE:
        if inconclusive_measurements > rollout.inconclusive_limit:
            inconclusive = _plural(inconclusive_measurements, "inconclusive measurement")
            return Phase("inconclusive", f"{current.reason}; {inconclusive} > inconclusive_limit "
                                         f"{rollout.inconclusive_limit}: a human should look", needs_human=True)
        return Phase("inconclusive", current.reason)
    return Phase("passed", current.reason)
