"""Three-valued canary analysis (pass / fail / inconclusive), as in Argo Rollouts.

`evaluate` judges one measurement window of a candidate against its SLO and
against the stable version of its route; `decide` turns the verdicts of the
windows so far into a phase, with Argo's failure and inconclusive limits.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from scipy.stats import fisher_exact

from ..domain.templates import BaselinePolicy, RolloutPolicy
from .measures import VersionStats

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
NO_BASELINE = "no stable version on this route to compare with"


@dataclass(frozen=True)
class MetricResult:
    name: str
    value: float | int | None
    threshold: float | int | None
    verdict: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    metrics = [_requests(candidate, rollout.min_requests), *_slo_metrics(candidate, rollout)]
    if rollout.baseline.enabled:
        metrics += _baseline_metrics(candidate, baseline, rollout.baseline, rollout.min_requests)
    return Analysis(_overall(metrics), candidate.requests, rollout.min_requests, tuple(metrics))


def _requests(candidate: VersionStats, min_requests: int) -> MetricResult:
    n = candidate.requests
    if n < min_requests:
        return MetricResult("requests", n, min_requests, INCONCLUSIVE, f"{n} of {min_requests} requests so far")
    return MetricResult("requests", n, min_requests, PASS, f"{n} requests ≥ min_requests {min_requests}")


def _too_few(name: str, n: int, min_requests: int, threshold: float | None, noun: str) -> MetricResult | None:
    """Inconclusive below the minimum sample; a pass when there is no data and none is asked for."""
    if n < min_requests:
        return MetricResult(name, None, threshold, INCONCLUSIVE, f"{n} of {min_requests} {noun} so far")
    if n == 0:
        return MetricResult(name, None, threshold, PASS, f"no {noun} yet, and min_requests 0 asks for none")
    return None


def _slo_metrics(candidate: VersionStats, rollout: RolloutPolicy) -> list[MetricResult]:
    slo, min_requests = rollout.slo, rollout.min_requests
    metrics = []
    if slo.error_rate_max is not None:
        metrics.append(_rate("error_rate", "errors", candidate.error_count, candidate.requests,
                             slo.error_rate_max, min_requests, "requests"))
    for name, q, limit in (("p95_ms", 0.95, slo.p95_ms_max), ("p99_ms", 0.99, slo.p99_ms_max)):
        if limit is not None:
            metrics.append(_latency(name, q, candidate, limit, min_requests))
    if slo.max_operations_p95 is not None:
        metrics.append(_operations(candidate, slo.max_operations_p95, min_requests))
    if slo.mismatch_rate_max is not None and rollout.mode == "shadow":
        metrics.append(_rate("mismatch_rate", "mismatches", candidate.shadow_mismatched, candidate.shadow_compared,
                             slo.mismatch_rate_max, min_requests, "shadow comparisons"))
    return metrics


def _rate(name: str, events: str, count: int, n: int, limit: float, min_requests: int, noun: str) -> MetricResult:
    """`count` `events` in `n` `noun` against a maximum rate; fails early once the minimum sample cannot pass."""
    allowed = limit * max(n, min_requests)
    if n < min_requests and count > allowed:
        return MetricResult(name, round(count / n, 6), limit, FAIL,
                            f"{count} {events} in {n} {noun} already exceed the {allowed:g} that "
                            f"{name}_max {limit:g} allows in the minimum {min_requests}")
    early = _too_few(name, n, min_requests, limit, noun)
    if early is not None:
        return early
    rate = count / n
    verdict, sign = (FAIL, ">") if rate > limit else (PASS, "≤")
    return MetricResult(name, round(rate, 6), limit, verdict,
                        f"{name.replace('_', ' ')} {rate:.3f} ({count} of {n} {noun}) {sign} {limit:g}")


def _latency(name: str, q: float, candidate: VersionStats, limit: float, min_requests: int) -> MetricResult:
    early = _too_few(name, candidate.requests, min_requests, limit, "requests")
    if early is not None:
        return early
    value = candidate.latency_ms.quantile(q)
    if value is None:
        return MetricResult(name, None, limit, INCONCLUSIVE, "no latency was recorded")
    verdict, sign = (FAIL, ">") if value > limit else (PASS, "≤")
    label = name.removesuffix("_ms")
    return MetricResult(name, round(value, 3), limit, verdict,
                        f"{label} {value:.1f} ms {sign} {limit:g} ms over {candidate.requests} requests")


def _operations(candidate: VersionStats, limit: float, min_requests: int) -> MetricResult:
    early = _too_few("operations_p95", candidate.requests, min_requests, limit, "requests")
    if early is not None:
        return early
    value = candidate.operations.quantile(0.95)
    if value is None:
        return MetricResult("operations_p95", None, limit, INCONCLUSIVE,
                            "the backend reported no operation counts")
    verdict, sign = (FAIL, ">") if value > limit else (PASS, "≤")
    return MetricResult("operations_p95", round(value, 1), limit, verdict,
                        f"operations p95 {value:.0f} {sign} {limit:g} over {candidate.operations.count} invocations")


def _baseline_metrics(candidate: VersionStats, baseline: VersionStats | None, policy: BaselinePolicy,
                      min_requests: int) -> list[MetricResult]:
    if baseline is None:
        return [MetricResult("baseline_errors", None, policy.error_p_value, PASS, NO_BASELINE),
                MetricResult("baseline_latency", None, policy.latency_ratio_max, PASS, NO_BASELINE)]
    short = _short_sample(candidate, baseline, min_requests)
    if short is not None:
        return [MetricResult("baseline_errors", None, policy.error_p_value, *short),
                MetricResult("baseline_latency", None, policy.latency_ratio_max, *short)]
    return [_baseline_errors(candidate, baseline, policy.error_p_value), _baseline_latency(candidate, baseline, policy)]


def _short_sample(candidate: VersionStats, baseline: VersionStats, min_requests: int) -> tuple[str, str] | None:
    """(verdict, reason) when either side has too little data to compare, else None."""
    for side, stats in (("the candidate", candidate), ("the stable version", baseline)):
        if stats.requests < min_requests:
            return INCONCLUSIVE, f"{side} has {stats.requests} of {min_requests} requests so far"
    for side, stats in (("the candidate", candidate), ("the stable version", baseline)):
        if stats.requests == 0:
            return PASS, f"{side} has no requests to compare, and min_requests 0 asks for none"
    return None


def _baseline_errors(candidate: VersionStats, baseline: VersionStats, p_max: float) -> MetricResult:
    """One-sided Fisher exact test: does the candidate fail more often than the stable version?

    Every failure counts here, bad input included: both versions see the same clients, so a
    candidate that rejects inputs the stable version takes is a regression."""
    c_err, c_n, b_err, b_n = candidate.failures, candidate.requests, baseline.failures, baseline.requests
    rates = f"error rate {c_err / c_n:.3f} ({c_err} of {c_n}) vs stable {b_err / b_n:.3f} ({b_err} of {b_n})"
    if c_err == 0 and b_err == 0:
        return MetricResult("baseline_errors", 1.0, p_max, PASS, f"{rates}: neither version erred")
    p = float(fisher_exact([[c_err, c_n - c_err], [b_err, b_n - b_err]], alternative="greater").pvalue)
    verdict, sign = (FAIL, "<") if p < p_max else (PASS, "≥")
    return MetricResult("baseline_errors", round(p, 6), p_max, verdict,
                        f"{rates}: one-sided Fisher p={p:.2g} {sign} {p_max:g}")


def _baseline_latency(candidate: VersionStats, baseline: VersionStats, policy: BaselinePolicy) -> MetricResult:
    """Candidate p95 over stable p95; a slowdown below the slack never fails."""
    c_p95, b_p95 = candidate.latency_ms.quantile(0.95), baseline.latency_ms.quantile(0.95)
    if c_p95 is None or b_p95 is None:
        return MetricResult("baseline_latency", None, policy.latency_ratio_max, INCONCLUSIVE,
                            "no latency was recorded to compare")
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
    return MetricResult("baseline_latency", round(ratio, 3), policy.latency_ratio_max, verdict, reason)


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
