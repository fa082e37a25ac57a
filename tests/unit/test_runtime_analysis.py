"""Canary analysis: each metric's pass / fail / inconclusive path, the baseline comparison and decide()."""
import pytest
from pydantic import ValidationError

from neira_factory.domain.templates import SLO, BaselinePolicy, RolloutPolicy
from neira_factory.runtime import analysis as evaluator
from neira_factory.runtime.analysis import FAIL, INCONCLUSIVE, PASS, Analysis, MetricResult, decide, evaluate
from neira_factory.runtime.measures import VersionStats
from neira_factory.runtime.metrics import BASELINE_METRICS, SLO_METRICS, Ceiling, Rate

NO_SLO = {"error_rate_max": None}


MIB = 2**20


def stats(requests: int, errors: int = 0, ms: float = 10.0, slow: int = 0, slow_ms: float = 500.0,
          kind: str = "exception", ops: int | None = None, mib: float | None = None) -> VersionStats:
    """`requests` invocations: `errors` of them fail with `kind`, `slow` of them take `slow_ms`; each reports
    `ops` operations and a memory peak of `mib` MiB where given."""
    result = VersionStats()
    memory = None if mib is None else int(mib * MIB)
    for i in range(requests):
        result.record(slow_ms if i < slow else ms, error=kind if i < errors else None, operations=ops,
                      memory_bytes=memory)
    return result


def policy(min_requests: int = 200, mode: str = "split", baseline: bool | dict = False, **slo) -> RolloutPolicy:
    """`baseline`: enabled or not, or the BaselinePolicy's fields (enabled)."""
    fields = baseline if isinstance(baseline, dict) else {"enabled": baseline}
    return RolloutPolicy(min_requests=min_requests, mode=mode, slo=SLO(**slo), baseline=BaselinePolicy(**fields))


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
    ok = metric(evaluate(stats(250, ops=1000), None, policy(operations_p95_max=5000)), "operations_p95")
    too_many = metric(evaluate(stats(250, ops=9000), None, policy(operations_p95_max=5000)), "operations_p95")
    assert ok.verdict == PASS and ok.value == pytest.approx(1000, rel=0.1)
    assert too_many.verdict == FAIL and "5000" in too_many.reason


def test_operations_below_minimum_is_inconclusive():
    result = metric(evaluate(stats(10, ops=9000), None, policy(operations_p95_max=5000)), "operations_p95")
    assert result.verdict == INCONCLUSIVE


def test_operations_not_reported_is_inconclusive():
    result = metric(evaluate(stats(250), None, policy(operations_p95_max=5000)), "operations_p95")
    assert result.verdict == INCONCLUSIVE
    assert result.reason == "the backend reported no operation counts"


def test_operations_p95_max_is_the_name_and_max_operations_p95_its_accepted_former_name():
    assert SLO(max_operations_p95=5000).operations_p95_max == 5000
    assert SLO.model_validate({"max_operations_p95": 5000, "operations_p95_max": 5000}).operations_p95_max == 5000
    assert SLO(max_operations_p95=5000).model_dump(exclude_none=True) == {"error_rate_max": 0.05,
                                                                          "operations_p95_max": 5000}
    with pytest.raises(ValidationError, match="operations_p95_max and max_operations_p95"):
        SLO.model_validate({"max_operations_p95": 5000, "operations_p95_max": 100})
    schema = SLO.model_json_schema()["properties"]
    assert schema["max_operations_p95"]["deprecated"] is True
    assert schema["max_operations_p95"]["anyOf"] == schema["operations_p95_max"]["anyOf"]


# memory_peak_mb


def test_memory_peak_pass_and_fail():
    ok = metric(evaluate(stats(250, mib=3), None, policy(memory_peak_mb_max=4)), "memory_peak_mb")
    over = metric(evaluate(stats(250, mib=6), None, policy(memory_peak_mb_max=4)), "memory_peak_mb")
    assert (ok.verdict, ok.value, ok.threshold) == (PASS, 3.0, 4)
    assert ok.reason == "memory peak 3.00 MiB ≤ 4 MiB over 250 requests"
    assert (over.verdict, over.value) == (FAIL, 6.0)
    assert over.reason == "memory peak 6.00 MiB > 4 MiB over 250 requests"
    assert over.why.to_dict() == {"code": "memory_peak_mb_value",
                                  "params": {"value": 6.0, "sign": ">", "limit": 4, "n": 250}}


def test_memory_fails_the_analysis_within_every_other_slo():
    analysis = evaluate(stats(250, mib=6), None, policy(memory_peak_mb_max=4, p95_ms_max=100))
    assert [m.verdict for m in analysis.metrics if m.name != "memory_peak_mb"] == [PASS, PASS, PASS]
    assert analysis.verdict == FAIL and analysis.reason == metric(analysis, "memory_peak_mb").reason


def test_memory_below_minimum_is_inconclusive():
    result = metric(evaluate(stats(10, mib=6), None, policy(memory_peak_mb_max=4)), "memory_peak_mb")
    assert result.verdict == INCONCLUSIVE and result.reason == "10 of 200 requests so far"


@pytest.mark.parametrize("mib", [None, 0])
def test_no_memory_measured_is_inconclusive(mib):
    result = metric(evaluate(stats(250, mib=mib), None, policy(memory_peak_mb_max=4)), "memory_peak_mb")
    assert (result.verdict, result.value) == (INCONCLUSIVE, None)
    assert result.reason == "no memory was measured" and result.why.code == "no_memory"


def test_memory_unset_is_not_checked():
    assert "memory_peak_mb" not in names(evaluate(stats(250, mib=600), None, policy()))


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


def test_no_baseline_passes_every_comparison():
    analysis = evaluate(stats(250), None, policy(baseline=True))
    for name in ("baseline_errors", "baseline_latency", "baseline_memory", "baseline_operations"):
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


# baseline: resources


def test_resource_comparisons_default_to_a_ratio_with_a_slack():
    defaults = BaselinePolicy()
    assert (defaults.memory_ratio_max, defaults.memory_slack_mb) == (1.5, 8.0)
    assert (defaults.operations_ratio_max, defaults.operations_slack) == (1.5, 1000)


def test_more_memory_than_stable_fails_beyond_the_slack():
    result = metric(evaluate(stats(300, mib=40), stats(300, mib=20), policy(baseline=True)), "baseline_memory")
    assert (result.verdict, result.value, result.threshold) == (FAIL, 2.0, 1.5)
    assert result.reason == ("memory peak 40.00 MiB vs stable 20.00 MiB: ratio 2.00 > 1.5 and 20.00 MiB more, "
                             "beyond the 8 MiB slack")


def test_more_memory_within_the_slack_passes():
    result = metric(evaluate(stats(300, mib=3), stats(300, mib=1), policy(baseline=True)), "baseline_memory")
    assert (result.verdict, result.value) == (PASS, 3.0)
    assert result.reason.endswith("but only 2.00 MiB more, within the 8 MiB slack")


def test_memory_within_the_ratio_passes_and_the_policy_sets_both_limits():
    candidate, stable = stats(300, mib=24), stats(300, mib=20)
    assert metric(evaluate(candidate, stable, policy(baseline=True)), "baseline_memory").verdict == PASS
    strict = policy(baseline={"memory_ratio_max": 1.1, "memory_slack_mb": 1})
    result = metric(evaluate(candidate, stable, strict), "baseline_memory")
    assert (result.verdict, result.threshold) == (FAIL, 1.1)


@pytest.mark.parametrize("mine, theirs, side", [(None, 20, "the candidate"), (20, None, "the stable version")])
def test_memory_not_measured_on_a_side_leaves_nothing_to_compare(mine, theirs, side):
    result = metric(evaluate(stats(300, mib=mine), stats(300, mib=theirs), policy(baseline=True)), "baseline_memory")
    assert (result.verdict, result.value) == (PASS, None)
    assert result.reason == f"{side} reports no memory peak: nothing to compare"


def test_more_operations_than_stable_fail_beyond_the_slack():
    result = metric(evaluate(stats(300, ops=9000), stats(300, ops=3000), policy(baseline=True)),
                    "baseline_operations")
    assert result.verdict == FAIL and result.value == pytest.approx(3.0, rel=0.1) and result.threshold == 1.5
    assert "beyond the slack of 1000" in result.reason and result.why.code == "baseline_operations_beyond"


def test_more_operations_within_the_slack_or_the_ratio_pass():
    slack = metric(evaluate(stats(300, ops=900), stats(300, ops=100), policy(baseline=True)), "baseline_operations")
    assert slack.verdict == PASS and slack.why.code == "baseline_operations_slack"
    ratio = metric(evaluate(stats(300, ops=11000), stats(300, ops=10000), policy(baseline=True)),
                   "baseline_operations")
    assert ratio.verdict == PASS and ratio.why.code == "baseline_operations_within"


def test_operations_not_counted_leave_nothing_to_compare():
    result = metric(evaluate(stats(300), stats(300, ops=10), policy(baseline=True)), "baseline_operations")
    assert result.verdict == PASS and result.reason == "the candidate reports no operation counts: nothing to compare"


def test_resource_comparisons_wait_for_both_samples():
    analysis = evaluate(stats(300, ops=9000, mib=40), stats(100, ops=10, mib=1), policy(baseline=True))
    for name in ("baseline_memory", "baseline_operations"):
        assert metric(analysis, name).verdict == INCONCLUSIVE
        assert metric(analysis, name).reason == "the stable version has 100 of 200 requests so far"


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
                                  "reason": "50 of 200 requests so far",
                                  "why": {"code": "too_few_requests", "params": {"n": 50, "min": 200}}}
    assert data["why"] == data["metrics"][1]["why"] and data["why"]["code"] == "error_rate_early"


def test_all_pass():
    analysis = evaluate(stats(300, ops=10, mib=2), stats(300, ops=10, mib=2),
                        policy(baseline=True, p95_ms_max=50, p99_ms_max=50, operations_p95_max=100,
                               memory_peak_mb_max=4))
    assert analysis.verdict == PASS
    assert names(analysis) == ["requests", "error_rate", "p95_ms", "p99_ms", "operations_p95", "memory_peak_mb",
                               "baseline_errors", "baseline_latency", "baseline_memory", "baseline_operations"]
    assert analysis.to_dict()["reason"] == "all 10 metrics pass"
    assert analysis.to_dict()["why"] == {"code": "all_pass", "params": {"n": 10}}


# the metrics' table


def test_metric_names_are_distinct_and_a_rate_names_its_slo_field():
    names_ = [m.name for m in (*SLO_METRICS, *BASELINE_METRICS)]
    assert len(set(names_)) == len(names_) and "requests" not in names_
    for rate in (m for m in SLO_METRICS if isinstance(m, Rate)):
        assert f"{rate.name}_max" in SLO.model_fields


def test_a_new_metric_is_one_entry(monkeypatch):
    median = Ceiling("p50_ms", lambda rollout: 5.0, lambda s: s.latency_ms.quantile(0.5), "latency_value",
                     "no_latency", label="p50")
    monkeypatch.setattr(evaluator, "SLO_METRICS", (*SLO_METRICS, median))
    analysis = evaluate(stats(250), None, policy(baseline=True))
    assert names(analysis) == ["requests", "error_rate", "p50_ms", "baseline_errors", "baseline_latency",
                               "baseline_memory", "baseline_operations"]
    result = metric(analysis, "p50_ms")
    assert (result.verdict, result.threshold) == (FAIL, 5.0) and result.value == pytest.approx(10, rel=0.1)
    assert result.reason == f"p50 {result.why.params['value']:.1f} ms > 5 ms over 250 requests"
    assert result.why.params["label"] == "p50"


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
