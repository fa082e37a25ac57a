"""The canary analysis's metrics, apart from its evaluator (analysis.py), as Argo Rollouts keeps its providers.

`SLO_METRICS` are checked against a limit read from the rollout policy (None: not checked): a `Rate` is
events per trial, a `Ceiling` a measured value. `BASELINE_METRICS` compare the candidate with the stable
version of its route (a `Ratio`: latency, memory, operations). Each judges a window into an `Outcome`: value,
verdict and a `Why` (a reason's code and params); the evaluator names it and adds the threshold.
A new metric is one entry here, plus its field in the SLO (domain/templates.py) when it needs one and words
for any new reason code (domain/reasons.py's ENGLISH, api/ui/reason_texts.py's RUSSIAN).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scipy.stats import fisher_exact

from ..domain.reasons import Why
from ..domain.templates import BaselinePolicy, RolloutPolicy
from .measures import VersionStats

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
Outcome = tuple[float | int | None, str, Why]  # (value, PASS / FAIL / INCONCLUSIVE, why)
MIB = 2**20
CANDIDATE, STABLE = Why("the_candidate"), Why("the_stable_version")


@dataclass(frozen=True)
class MetricResult:
    name: str
    value: float | int | None
    threshold: float | int | None
    verdict: str
    why: Why

    @property
    def reason(self) -> str:
        return self.why.english

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "threshold": self.threshold, "verdict": self.verdict,
                "reason": self.reason, "why": self.why.to_dict()}


def _sign(fails: bool) -> tuple[str, str]:
    return (FAIL, ">") if fails else (PASS, "≤")


def _too_few(n: int, min_requests: int, noun: str) -> Outcome | None:
    """Inconclusive below the minimum sample; a pass when there is no data and none is asked for."""
    if n < min_requests:
        return None, INCONCLUSIVE, Why(f"too_few_{noun}", {"n": n, "min": min_requests})
    if n == 0:
        return None, PASS, Why(f"none_asked_{noun}")
    return None


@dataclass(frozen=True)
class Rate:
    """`events` in trials (`noun`) against a maximum rate; fails early once the minimum sample cannot pass."""

    name: str  # its SLO field is `{name}_max`; its reasons are `{name}_early` and `{name}_value`
    limit: Callable[[RolloutPolicy], float | None]
    counts: Callable[[VersionStats], tuple[int, int]]  # (events, trials)
    noun: str  # the trials: requests or shadow_comparisons

    def judge(self, stats: VersionStats, limit: float, min_requests: int) -> Outcome:
        count, n = self.counts(stats)
        allowed = limit * max(n, min_requests)
        if n < min_requests and count > allowed:
            return round(count / n, 6), FAIL, Why(f"{self.name}_early", {
                "count": count, "n": n, "allowed": allowed, "limit": limit, "min": min_requests})
        early = _too_few(n, min_requests, self.noun)
        if early is not None:
            return early
        rate = count / n
        verdict, sign = _sign(rate > limit)
        return round(rate, 6), verdict, Why(f"{self.name}_value", {
            "rate": rate, "count": count, "n": n, "sign": sign, "limit": limit})


@dataclass(frozen=True)
class Ceiling:
    """A value measured over the window's requests that must not exceed the limit."""

    name: str
    limit: Callable[[RolloutPolicy], float | None]
    value: Callable[[VersionStats], float | None]  # None: nothing was measured
    code: str  # the reason's code; its params: value, sign, limit, n (and `label`)
    missing: str  # the reason's code when nothing was measured
    label: str | None = None  # a param of the reason too (latency: p95 or p99)
    digits: int = 1  # the result's rounding
    over: Callable[[VersionStats], int] = lambda stats: stats.requests  # the reason's n

    def judge(self, stats: VersionStats, limit: float, min_requests: int) -> Outcome:
        early = _too_few(stats.requests, min_requests, "requests")
        if early is not None:
            return early
        value = self.value(stats)
        if value is None:
            return None, INCONCLUSIVE, Why(self.missing)
        verdict, sign = _sign(value > limit)
        params = {"value": value, "sign": sign, "limit": limit, "n": self.over(stats)}
        if self.label:
            params["label"] = self.label
        return round(value, self.digits), verdict, Why(self.code, params)


def _latency(q: float, limit: Callable[[RolloutPolicy], float | None]) -> Ceiling:
    label = f"p{round(q * 100)}"
    return Ceiling(f"{label}_ms", limit, lambda stats: stats.latency_ms.quantile(q), "latency_value", "no_latency",
                   label=label, digits=3)


def memory_peak_mb(stats: VersionStats) -> float | None:
    """The peak memory in MiB (as `limits.memory_mb`); None when the backend reported none."""
    return stats.memory_peak_bytes / MIB if stats.memory_peak_bytes > 0 else None


def operations_p95(stats: VersionStats) -> float | None:
    return stats.operations.quantile(0.95)


SLO_METRICS: tuple[Rate | Ceiling, ...] = (
    Rate("error_rate", lambda rollout: rollout.slo.error_rate_max,
         lambda stats: (stats.error_count, stats.requests), "requests"),
    _latency(0.95, lambda rollout: rollout.slo.p95_ms_max),
    _latency(0.99, lambda rollout: rollout.slo.p99_ms_max),
    Ceiling("operations_p95", lambda rollout: rollout.slo.operations_p95_max, operations_p95,
            "operations_p95_value", "no_operations", over=lambda stats: stats.operations.count),
    Ceiling("memory_peak_mb", lambda rollout: rollout.slo.memory_peak_mb_max, memory_peak_mb,
            "memory_peak_mb_value", "no_memory", digits=3),
    Rate("mismatch_rate", lambda rollout: rollout.slo.mismatch_rate_max if rollout.mode == "shadow" else None,
         lambda stats: (stats.shadow_mismatched, stats.shadow_compared), "shadow_comparisons"),
)


def _baseline_errors(candidate: VersionStats, baseline: VersionStats, policy: BaselinePolicy) -> Outcome:
    """One-sided Fisher exact test: does the candidate fail more often than the stable version?

    Every failure counts here, bad input included: both versions see the same clients, so a
    candidate that rejects inputs the stable version takes is a regression."""
    c_err, c_n, b_err, b_n = candidate.failures, candidate.requests, baseline.failures, baseline.requests
    rates = Why("error_rates", {"rate": c_err / c_n, "errors": c_err, "n": c_n,
                                "stable_rate": b_err / b_n, "stable_errors": b_err, "stable_n": b_n})
    if c_err == 0 and b_err == 0:
        return 1.0, PASS, Why("baseline_errors_none", {"rates": rates})
    p_max = policy.error_p_value
    p = float(fisher_exact([[c_err, c_n - c_err], [b_err, b_n - b_err]], alternative="greater").pvalue)
    verdict, sign = (FAIL, "<") if p < p_max else (PASS, "≥")
    return round(p, 6), verdict, Why("baseline_errors_value", {"rates": rates, "p": p, "sign": sign, "p_max": p_max})


@dataclass(frozen=True)
class Ratio:
    """The candidate's value over the stable version's: above `ratio_max` fails, unless the difference is within
    the slack. Reasons: `{name}_within`, `{name}_slack`, `{name}_beyond`, `{name}_unmeasured` (a side that
    measured nothing, or zero, leaves nothing to compare: a pass; the SLO's own ceiling still applies)."""

    name: str
    value: Callable[[VersionStats], float | None]
    ratio_max: Callable[[BaselinePolicy], float]
    slack: Callable[[BaselinePolicy], float]

    def __call__(self, candidate: VersionStats, baseline: VersionStats, policy: BaselinePolicy) -> Outcome:
        mine, theirs = self.value(candidate), self.value(baseline)
        for side, value in ((CANDIDATE, mine), (STABLE, theirs)):
            if not value:
                return None, PASS, Why(f"{self.name}_unmeasured", {"side": side})
        ratio, diff, ratio_max, slack = mine / theirs, mine - theirs, self.ratio_max(policy), self.slack(policy)
        outcome = "within" if ratio <= ratio_max else "slack" if diff <= slack else "beyond"
        return round(ratio, 3), FAIL if outcome == "beyond" else PASS, Why(f"{self.name}_{outcome}", {
            "candidate": mine, "stable": theirs, "ratio": ratio, "ratio_max": ratio_max, "diff": diff, "slack": slack})


@dataclass(frozen=True)
class Comparison:
    """A comparison with the stable version; it runs only when both sides have the minimum sample."""

    name: str
    threshold: Callable[[BaselinePolicy], float]
    judge: Callable[[VersionStats, VersionStats, BaselinePolicy], Outcome]


def _ratio(name: str, value: Callable[[VersionStats], float | None], ratio_max: Callable[[BaselinePolicy], float],
           slack: Callable[[BaselinePolicy], float]) -> Comparison:
    return Comparison(name, ratio_max, Ratio(name, value, ratio_max, slack))


BASELINE_METRICS: tuple[Comparison, ...] = (
    Comparison("baseline_errors", lambda policy: policy.error_p_value, _baseline_errors),
    _ratio("baseline_latency", lambda stats: stats.latency_ms.quantile(0.95),
           lambda policy: policy.latency_ratio_max, lambda policy: policy.latency_slack_ms),
    _ratio("baseline_memory", memory_peak_mb,
           lambda policy: policy.memory_ratio_max, lambda policy: policy.memory_slack_mb),
    _ratio("baseline_operations", operations_p95,
           lambda policy: policy.operations_ratio_max, lambda policy: policy.operations_slack),
)
