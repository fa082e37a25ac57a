"""The canary analysis's metrics, apart from its evaluator (analysis.py), as Argo Rollouts keeps its providers.

`SLO_METRICS` are checked against a limit read from the rollout policy (None: not checked): a `Rate` is
events per trial, a `Ceiling` a measured value. `BASELINE_METRICS` compare the candidate with the stable
version of its route. Each judges a window into an `Outcome`; the evaluator names it and adds the threshold.
A new metric is one entry here, plus its field in the SLO (domain/templates.py) when it needs one.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from scipy.stats import fisher_exact

from ..domain.templates import BaselinePolicy, RolloutPolicy
from .measures import VersionStats

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
Outcome = tuple[float | int | None, str, str]  # (value, PASS / FAIL / INCONCLUSIVE, reason)


@dataclass(frozen=True)
class MetricResult:
    name: str
    value: float | int | None
    threshold: float | int | None
    verdict: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _too_few(n: int, min_requests: int, noun: str) -> Outcome | None:
    """Inconclusive below the minimum sample; a pass when there is no data and none is asked for."""
    if n < min_requests:
        return None, INCONCLUSIVE, f"{n} of {min_requests} {noun} so far"
    if n == 0:
        return None, PASS, f"no {noun} yet, and min_requests 0 asks for none"
    return None


@dataclass(frozen=True)
class Rate:
    """`events` in trials (`noun`) against a maximum rate; fails early once the minimum sample cannot pass."""

    name: str  # its SLO field is `{name}_max`
    limit: Callable[[RolloutPolicy], float | None]
    counts: Callable[[VersionStats], tuple[int, int]]  # (events, trials)
    events: str
    noun: str

    def judge(self, stats: VersionStats, limit: float, min_requests: int) -> Outcome:
        count, n = self.counts(stats)
        allowed = limit * max(n, min_requests)
        if n < min_requests and count > allowed:
            return round(count / n, 6), FAIL, (f"{count} {self.events} in {n} {self.noun} already exceed the "
                                               f"{allowed:g} that {self.name}_max {limit:g} allows in the minimum "
                                               f"{min_requests}")
        early = _too_few(n, min_requests, self.noun)
        if early is not None:
            return early
        rate = count / n
        verdict, sign = (FAIL, ">") if rate > limit else (PASS, "≤")
        return round(rate, 6), verdict, (f"{self.name.replace('_', ' ')} {rate:.3f} ({count} of {n} {self.noun}) "
                                         f"{sign} {limit:g}")


@dataclass(frozen=True)
class Ceiling:
    """A value measured over the window's requests that must not exceed the limit."""

    name: str
    limit: Callable[[RolloutPolicy], float | None]
    value: Callable[[VersionStats], float | None]  # None: nothing was measured
    label: str  # names the value in a reason
    missing: str  # the reason when nothing was measured
    unit: str = ""
    shown: str = ".0f"  # the value's format in a reason
    digits: int = 1  # the result's rounding
    over: Callable[[VersionStats], str] = lambda stats: f"{stats.requests} requests"

    def judge(self, stats: VersionStats, limit: float, min_requests: int) -> Outcome:
        early = _too_few(stats.requests, min_requests, "requests")
        if early is not None:
            return early
        value = self.value(stats)
        if value is None:
            return None, INCONCLUSIVE, self.missing
        verdict, sign = (FAIL, ">") if value > limit else (PASS, "≤")
        return round(value, self.digits), verdict, (f"{self.label} {value:{self.shown}}{self.unit} {sign} "
                                                    f"{limit:g}{self.unit} over {self.over(stats)}")


def _latency(q: float, limit: Callable[[RolloutPolicy], float | None]) -> Ceiling:
    label = f"p{round(q * 100)}"
    return Ceiling(f"{label}_ms", limit, lambda stats: stats.latency_ms.quantile(q), label,
                   "no latency was recorded", unit=" ms", shown=".1f", digits=3)


SLO_METRICS: tuple[Rate | Ceiling, ...] = (
    Rate("error_rate", lambda rollout: rollout.slo.error_rate_max,
         lambda stats: (stats.error_count, stats.requests), "errors", "requests"),
    _latency(0.95, lambda rollout: rollout.slo.p95_ms_max),
    _latency(0.99, lambda rollout: rollout.slo.p99_ms_max),
    Ceiling("operations_p95", lambda rollout: rollout.slo.max_operations_p95,
            lambda stats: stats.operations.quantile(0.95), "operations p95", "the backend reported no operation counts",
            over=lambda stats: f"{stats.operations.count} invocations"),
    Rate("mismatch_rate", lambda rollout: rollout.slo.mismatch_rate_max if rollout.mode == "shadow" else None,
         lambda stats: (stats.shadow_mismatched, stats.shadow_compared), "mismatches", "shadow comparisons"),
)


def _baseline_errors(candidate: VersionStats, baseline: VersionStats, policy: BaselinePolicy) -> Outcome:
    """One-sided Fisher exact test: does the candidate fail more often than the stable version?

    Every failure counts here, bad input included: both versions see the same clients, so a
    candidate that rejects inputs the stable version takes is a regression."""
    c_err, c_n, b_err, b_n = candidate.failures, candidate.requests, baseline.failures, baseline.requests
    rates = f"error rate {c_err / c_n:.3f} ({c_err} of {c_n}) vs stable {b_err / b_n:.3f} ({b_err} of {b_n})"
    if c_err == 0 and b_err == 0:
        return 1.0, PASS, f"{rates}: neither version erred"
    p_max = policy.error_p_value
    p = float(fisher_exact([[c_err, c_n - c_err], [b_err, b_n - b_err]], alternative="greater").pvalue)
    verdict, sign = (FAIL, "<") if p < p_max else (PASS, "≥")
    return round(p, 6), verdict, f"{rates}: one-sided Fisher p={p:.2g} {sign} {p_max:g}"


def _baseline_latency(candidate: VersionStats, baseline: VersionStats, policy: BaselinePolicy) -> Outcome:
    """Candidate p95 over stable p95; a slowdown below the slack never fails."""
    c_p95, b_p95 = candidate.latency_ms.quantile(0.95), baseline.latency_ms.quantile(0.95)
    if c_p95 is None or b_p95 is None:
        return None, INCONCLUSIVE, "no latency was recorded to compare"
    ratio, slower = c_p95 / b_p95, c_p95 - b_p95
    p95s = f"p95 {c_p95:.1f} ms vs stable {b_p95:.1f} ms"
    if ratio <= policy.latency_ratio_max:
        verdict, reason = PASS, f"{p95s}: ratio {ratio:.2f} ≤ {policy.latency_ratio_max:g}"
    elif slower <= policy.latency_slack_ms:
        verdict, reason = PASS, (f"{p95s}: ratio {ratio:.2f} > {policy.latency_ratio_max:g} but only "
                                 f"{slower:.1f} ms slower, within the {policy.latency_slack_ms:g} ms slack")
    else:
        verdict, reason = FAIL, (f"{p95s}: ratio {ratio:.2f} > {policy.latency_ratio_max:g} and "
                                 f"{slower:.1f} ms slower, beyond the {policy.latency_slack_ms:g} ms slack")
    return round(ratio, 3), verdict, reason


@dataclass(frozen=True)
class Comparison:
    """A comparison with the stable version; it runs only when both sides have the minimum sample."""

    name: str
    threshold: Callable[[BaselinePolicy], float]
    judge: Callable[[VersionStats, VersionStats, BaselinePolicy], Outcome]


BASELINE_METRICS: tuple[Comparison, ...] = (
    Comparison("baseline_errors", lambda policy: policy.error_p_value, _baseline_errors),
    Comparison("baseline_latency", lambda policy: policy.latency_ratio_max, _baseline_latency),
)
