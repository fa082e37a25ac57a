"""Canary analysis: each metric's pass / fail / inconclusive path, the baseline comparison and decide()."""
import pytest

from neira_factory.domain.templates import SLO, BaselinePolicy, RolloutPolicy
from neira_factory.runtime import analysis as evaluator
from neira_factory.runtime.analysis import FAIL, INCONCLUSIVE, PASS, Analysis, MetricResult, decide, evaluate
from neira_factory.runtime.measures import VersionStats
from neira_factory.runtime.metrics import BASELINE_METRICS, SLO_METRICS, Ceiling, Rate

NO_SLO = {"error_rate_max": None}


def stats(requests: int, errors: int = 0, ms: float = 10.0, slow: int = 0, slow_ms: float = 500.0,
          kind: str = "exception", ops: int | None = None) -> VersionStats:
    """`requests` invocations: `errors` of them fail with `kind`, `slow` of them take `slow_ms`."""
    result = VersionStats()
    for i in range(requests):
        result.record(slow_ms if i < slow else ms, error=kind if i < errors else None, operations=ops)
    return result


def policy(min_requests: int = 200, mode: str = "split", baseline: bool = False, **slo) -> RolloutPolicy:
    return RolloutPolicy(min_requests=min_requests, mode=mode, slo=SLO(**slo),
                         baseline=BaselinePolicy(enabled=baseline))


def metric(analysis: Analysis, name: str) -> MetricResult:
    return next(m for m in analysis.metrics if m.name == name)


def names(analysis: Analysis) -> list[str]:
    return [m.name for m in analysis.metrics]


# requests


def test_requests_below_minimum_is_inconclusive():
    analysis = evaluate(stats(120), None, policy(**NO_SLO))
    result = metric(analysis, "requests")
    assert (result.verdict, result.value, result.threshold) == (INCONCLUSIVE, 120, 200)
    assert result.reason == "120 of 200 requests so far"
    assert analysis.verdict == INCONCLUSIVE


def test_requests_at_minimum_pass():
    analysis = evaluate(stats(200), None, policy(**NO_SLO))
    assert names(analysis) == ["requests"]
    assert analysis.verdict == PASS
    assert analysis.to_dict()["reason"] == "all 1 metrics pass"


# error_rate


def test_error_rate_within_maximum_passes():
    result = metric(evaluate(stats(250, errors=5), None, policy()), "error_rate")
    assert (result.verdict, result.value, result.threshold) == (PASS, 0.02, 0.05)


def test_error_rate_above_maximum_fails_naming_the_numbers():
    analysis = evaluate(stats(250, errors=50), None, policy())
    result = metric(analysis, "error_rate")
    assert (result.verdict, result.value) == (FAIL, 0.2)
    assert "0.200" in result.reason and "0.05" in result.reason and "250" in result.reason
    assert analysis.verdict == FAIL
    assert analysis.to_dict()["reason"] == result.reason


def test_error_rate_below_minimum_is_inconclusive():
    result = metric(evaluate(stats(50, errors=10), None, policy()), "error_rate")
    assert result.verdict == INCONCLUSIVE  # 10 errors: exactly what 0.05 x 200 allows


def test_error_rate_fails_early_when_the_minimum_sample_cannot_pass():
    analysis = evaluate(stats(50, errors=11), None, policy())  # 11 > 0.05 x 200
    result = metric(analysis, "error_rate")
    assert result.verdict == FAIL
    assert "11" in result.reason and "200" in result.reason
    assert metric(analysis, "requests").verdict == INCONCLUSIVE
    assert analysis.verdict == FAIL


def test_zero_error_budget_fails_on_the_first_error():
    assert metric(evaluate(stats(3, errors=1), None, policy(error_rate_max=0)), "error_rate").verdict == FAIL


def test_bad_input_is_not_the_nodes_error():
    result = metric(evaluate(stats(250, errors=100, kind="bad_input"), None, policy()), "error_rate")
    assert (result.verdict, result.value) == (PASS, 0.0)


def test_rejecting_inputs_the_stable_version_takes_fails_the_baseline_comparison():
    candidate = stats(400, errors=40, kind="bad_input")
    result = evaluate(candidate, stats(400), policy(baseline=True))
    assert metric(result, "error_rate").verdict == PASS
    assert metric(result, "baseline_errors").verdict == FAIL
    same_clients = evaluate(candidate, stats(400, errors=40, kind="bad_input"), policy(baseline=True))
    assert metric(same_clients, "baseline_errors").verdict == PASS


def test_unset_thresholds_add_no_metrics():
    assert names(evaluate(stats(250, errors=250), None, policy(**NO_SLO))) == ["requests"]


# latency


def test_p95_passes_while_p99_fails():
    analysis = evaluate(stats(250, slow=10), None, policy(p95_ms_max=50, p99_ms_max=100))
    p95, p99 = metric(analysis, "p95_ms"), metric(analysis, "p99_ms")
    assert p95.verdict == PASS and p95.value == pytest.approx(10, rel=0.1)
    assert p99.verdict == FAIL and p99.value == pytest.approx(500, rel=0.1)
    assert "p99" in p99.reason and "100 ms" in p99.reason
    assert analysis.verdict == FAIL


def test_latency_below_minimum_is_inconclusive():
    analysis = evaluate(stats(100, slow=100), None, policy(p95_ms_max=50, p99_ms_max=100))
    assert metric(analysis, "p95_ms").verdict == INCONCLUSIVE
    assert metric(analysis, "p99_ms").verdict == INCONCLUSIVE


# operations


def test_operations_p95_pass_and_fail():
    ok = metric(evaluate(stats(250, ops=1000), None, policy(max_operations_p95=5000)), "operations_p95")
    too_many = metric(evaluate(stats(250, ops=9000), None, policy(max_operations_p95=5000)), "operations_p95")
    assert ok.verdict == PASS and ok.value == pytest.approx(1000, rel=0.1)
    assert too_many.verdict == FAIL and "5000" in too_many.reason


def test_operations_below_minimum_is_inconclusive():
    result = metric(evaluate(stats(10, ops=9000), None, policy(max_operations_p95=5000)), "operations_p95")
    assert result.verdict == INCONCLUSIVE


def test_operations_not_reported_is_inconclusive():
    result = metric(evaluate(stats(250), None, policy(max_operations_p95=5000)), "operations_p95")
    assert result.verdict == INCONCLUSIVE
    assert result.reason == "the backend reported no operation counts"


# mismatch_rate


def shadowed(requests: int, compared: int, mismatched: int) -> VersionStats:
    result = stats(requests)
    for i in range(compared):
        result.record_shadow(i < mismatched)
    return result


def test_mismatch_rate_is_only_checked_in_shadow_mode():
    candidate = shadowed(300, 300, 300)
    assert "mismatch_rate" not in names(evaluate(candidate, None, policy(mismatch_rate_max=0.01)))
    result = metric(evaluate(candidate, None, policy(mode="shadow", mismatch_rate_max=0.01)), "mismatch_rate")
    assert (result.verdict, result.value) == (FAIL, 1.0)


def test_mismatch_rate_pass():
    result = metric(evaluate(shadowed(300, 300, 2), None, policy(mode="shadow", mismatch_rate_max=0.01)),
                    "mismatch_rate")
    assert (result.verdict, result.value, result.threshold) == (PASS, pytest.approx(0.006667), 0.01)


def test_mismatch_sample_is_the_shadow_comparisons():
    result = metric(evaluate(shadowed(300, 100, 1), None, policy(mode="shadow", mismatch_rate_max=0.05)),
                    "mismatch_rate")
    assert result.verdict == INCONCLUSIVE
    assert "100 of 200" in result.reason


def test_mismatch_fails_early_when_certain():
    result = metric(evaluate(shadowed(300, 100, 11), None, policy(mode="shadow", mismatch_rate_max=0.05)),
                    "mismatch_rate")
    assert result.verdict == FAIL


# baseline


def test_no_baseline_passes_both_comparisons():
    analysis = evaluate(stats(250), None, policy(baseline=True))
    for name in ("baseline_errors", "baseline_latency"):
        result = metric(analysis, name)
        assert (result.verdict, result.value) == (PASS, None)
        assert result.reason == "no stable version on this route to compare with"
    assert analysis.verdict == PASS


def test_baseline_disabled_adds_no_comparisons():
    assert "baseline_errors" not in names(evaluate(stats(250), stats(250), policy(baseline=False)))


@pytest.mark.parametrize("candidate, baseline, who", [(250, 100, "stable"), (100, 250, "candidate")])
def test_baseline_comparison_needs_both_samples(candidate, baseline, who):
    analysis = evaluate(stats(candidate), stats(baseline), policy(baseline=True, **NO_SLO))
    for name in ("baseline_errors", "baseline_latency"):
        result = metric(analysis, name)
        assert result.verdict == INCONCLUSIVE and who in result.reason and "100 of 200" in result.reason


def test_more_errors_than_stable_fail_even_within_the_absolute_slo():
    analysis = evaluate(stats(2000, errors=16), stats(2000), policy(baseline=True, error_rate_max=0.05))
    assert metric(analysis, "error_rate").verdict == PASS
    result = metric(analysis, "baseline_errors")
    assert result.verdict == FAIL
    assert result.value < 0.001 and result.threshold == 0.05
    assert "0.008" in result.reason and "0.000" in result.reason and "p=" in result.reason
    assert analysis.verdict == FAIL


def test_similar_error_rates_pass_the_baseline_test():
    result = metric(evaluate(stats(2000, errors=12), stats(2000, errors=10), policy(baseline=True)),
                    "baseline_errors")
    assert result.verdict == PASS and result.value > 0.05


def test_fewer_errors_than_stable_pass():
    result = metric(evaluate(stats(2000, errors=1), stats(2000, errors=30), policy(baseline=True)),
                    "baseline_errors")
    assert result.verdict == PASS and result.value > 0.99


def test_no_errors_on_either_side_pass():
    result = metric(evaluate(stats(300), stats(300), policy(baseline=True)), "baseline_errors")
    assert (result.verdict, result.value) == (PASS, 1.0)


def test_slower_than_stable_fails_the_latency_ratio():
    candidate, baseline = stats(300, ms=30), stats(300, ms=10)
    result = metric(evaluate(candidate, baseline, policy(baseline=True)), "baseline_latency")
    assert result.verdict == FAIL
    assert result.value == pytest.approx(3.0, rel=0.1) and result.threshold == 1.5
    p95s = candidate.latency_ms.quantile(0.95), baseline.latency_ms.quantile(0.95)
    assert result.reason.startswith("p95 {:.1f} ms vs stable {:.1f} ms".format(*p95s))


def test_slowdown_within_the_slack_passes():
    result = metric(evaluate(stats(300, ms=2.5), stats(300, ms=1.0), policy(baseline=True)), "baseline_latency")
    assert result.verdict == PASS
    assert result.value > 1.5 and "slack" in result.reason


def test_latency_within_the_ratio_passes():
    result = metric(evaluate(stats(300, ms=12), stats(300, ms=10), policy(baseline=True)), "baseline_latency")
    assert result.verdict == PASS and result.value == pytest.approx(1.2, rel=0.1)


def test_zero_traffic_passes_when_min_requests_is_zero():
    analysis = evaluate(VersionStats(), VersionStats(), policy(min_requests=0, baseline=True, p95_ms_max=10))
    assert analysis.verdict == PASS
    assert {m.verdict for m in analysis.metrics} == {PASS}


# Analysis


def test_reason_prefers_failure_over_inconclusive():
    analysis = evaluate(stats(50, errors=11), None, policy(p95_ms_max=10))
    assert [m.verdict for m in analysis.metrics] == [INCONCLUSIVE, FAIL, INCONCLUSIVE]
    data = analysis.to_dict()
    assert data["verdict"] == FAIL
    assert data["reason"] == metric(analysis, "error_rate").reason
    assert (data["requests"], data["min_requests"]) == (50, 200)
    assert data["metrics"][0] == {"name": "requests", "value": 50, "threshold": 200, "verdict": INCONCLUSIVE,
                                  "reason": "50 of 200 requests so far"}


def test_all_pass():
    analysis = evaluate(stats(300, ops=10), stats(300), policy(baseline=True, p95_ms_max=50, p99_ms_max=50,
                                                               max_operations_p95=100))
    assert analysis.verdict == PASS
    assert names(analysis) == ["requests", "error_rate", "p95_ms", "p99_ms", "operations_p95",
                               "baseline_errors", "baseline_latency"]
    assert analysis.to_dict()["reason"] == "all 7 metrics pass"


# the metrics' table


def test_metric_names_are_distinct_and_a_rate_names_its_slo_field():
    names_ = [m.name for m in (*SLO_METRICS, *BASELINE_METRICS)]
    assert len(set(names_)) == len(names_) and "requests" not in names_
    for rate in (m for m in SLO_METRICS if isinstance(m, Rate)):
        assert f"{rate.name}_max" in SLO.model_fields


def test_a_new_metric_is_one_entry(monkeypatch):
    memory = Ceiling("memory_peak_mb", lambda rollout: 1.0, lambda s: s.memory_peak_bytes / 2**20 or None,
                     "memory peak", "the backend reported no memory use", unit=" MiB", shown=".1f")
    monkeypatch.setattr(evaluator, "SLO_METRICS", (*SLO_METRICS, memory))
    window = stats(250)
    window.record(10.0, memory_bytes=3 * 2**20)
    analysis = evaluate(window, None, policy(baseline=True))
    assert names(analysis) == ["requests", "error_rate", "memory_peak_mb", "baseline_errors", "baseline_latency"]
    assert metric(analysis, "memory_peak_mb").to_dict() == {
        "name": "memory_peak_mb", "value": 3.0, "threshold": 1.0, "verdict": FAIL,
        "reason": "memory peak 3.0 MiB > 1 MiB over 251 requests"}
    assert metric(evaluate(stats(250), None, policy()), "memory_peak_mb").reason == "the backend reported no memory use"


# decide


FAILING = evaluate(stats(250, errors=50), None, policy())
INCONCLUSIVE_WINDOW = evaluate(stats(20), None, policy())
PASSING = evaluate(stats(250), None, policy())


def limits(failure_limit: int = 0, inconclusive_limit: int = 0) -> RolloutPolicy:
    return RolloutPolicy(failure_limit=failure_limit, inconclusive_limit=inconclusive_limit)


def test_a_failure_beyond_the_limit_fails():
    phase = decide(FAILING, 1, 0, limits())
    assert phase.phase == "failed" and not phase.needs_human
    assert phase.reason.startswith("1 failed measurement > failure_limit 0: error rate 0.200")


def test_earlier_failures_fail_a_passing_window():
    phase = decide(PASSING, 3, 0, limits(failure_limit=2))
    assert phase.phase == "failed"
    assert phase.reason == "3 failed measurements > failure_limit 2: earlier windows failed"


def test_failure_limit_tolerates_one_failure():
    phase = decide(FAILING, 1, 0, limits(failure_limit=1))
    assert phase.phase == "running"
    assert phase.reason.startswith("1 failed measurement, failure_limit 1 tolerates it")


def test_inconclusive_within_the_limit_waits():
    phase = decide(INCONCLUSIVE_WINDOW, 0, 2, limits(inconclusive_limit=2))
    assert (phase.phase, phase.needs_human) == ("inconclusive", False)
    assert phase.reason == "20 of 200 requests so far"


def test_inconclusive_beyond_the_limit_needs_a_human():
    phase = decide(INCONCLUSIVE_WINDOW, 0, 3, limits(inconclusive_limit=2))
    assert (phase.phase, phase.needs_human) == ("inconclusive", True)
    assert "3 inconclusive measurements > inconclusive_limit 2" in phase.reason


def test_passing_window_passes():
    phase = decide(PASSING, 0, 5, limits())
    assert (phase.phase, phase.needs_human) == ("passed", False)
    assert phase.reason == "all 2 metrics pass"
