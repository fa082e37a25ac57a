"""Histogram and VersionStats: quantile accuracy, merging, storage round trips, edge cases."""
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neira_factory.runtime.histogram import GROWTH, MIN_VALUE, Histogram, bucket_of, upper_bound
from neira_factory.runtime.measures import ERROR_KINDS, VersionStats

RNG_SEED = 20240601
QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0)
values = st.floats(min_value=0, max_value=1e12, allow_nan=False)


def histogram_of(data) -> Histogram:
    histogram = Histogram()
    for value in data:
        histogram.add(float(value))
    return histogram


def samples(kind: str) -> np.ndarray:
    rng = np.random.default_rng(RNG_SEED)
    return {
        "lognormal_ms": rng.lognormal(mean=3, sigma=1.2, size=20_000),
        "uniform": rng.uniform(0.5, 2_000, size=20_000),
        "exponential": rng.exponential(40, size=20_000),
        "operations": rng.integers(1, 5_000_000, size=5_000).astype(float),
    }[kind]


@pytest.mark.parametrize("kind", ["lognormal_ms", "uniform", "exponential", "operations"])
def test_quantiles_match_numpy_within_ten_percent(kind):
    data = samples(kind)
    histogram = histogram_of(data)
    for q in QUANTILES:
        estimate, true = histogram.quantile(q), np.percentile(data, q * 100)
        assert abs(estimate - true) <= 0.10 * true, (q, estimate, true)


@pytest.mark.parametrize("kind", ["lognormal_ms", "exponential"])
def test_quantile_never_under_reports_the_observation_at_its_rank(kind):
    data = samples(kind)
    histogram = histogram_of(data)
    for q in QUANTILES:
        estimate, observed = histogram.quantile(q), np.percentile(data, q * 100, method="inverted_cdf")
        assert observed <= estimate < GROWTH * observed, (q, estimate, observed)


@given(values)
def test_bucket_upper_bound_holds_the_value_within_growth(value):
    bound = upper_bound(bucket_of(value))
    assert bound >= value * (1 - 1e-12)
    assert bound < GROWTH * max(value, MIN_VALUE) * (1 + 1e-12)


def test_lowest_bucket_holds_zero_and_tiny_values():
    histogram = histogram_of([0.0, 1e-9, MIN_VALUE])
    assert histogram.to_dict() == {"0": 3}
    assert histogram.quantile(0.5) == MIN_VALUE
    assert histogram.quantile(1.0) == MIN_VALUE
    assert bucket_of(MIN_VALUE * 1.01) == 1


def test_empty_histogram():
    histogram = Histogram()
    assert histogram.count == 0
    assert histogram.quantile(0.5) is None
    assert histogram.to_dict() == {}


@pytest.mark.parametrize("q", [-0.01, 1.01, math.nan])
def test_quantile_outside_zero_one_is_an_error(q):
    with pytest.raises(ValueError):
        histogram_of([1.0]).quantile(q)
    with pytest.raises(ValueError):
        Histogram().quantile(q)


@pytest.mark.parametrize("value", [-1.0, -1e-9, math.nan, math.inf])
def test_negative_or_non_finite_values_are_rejected(value):
    histogram = Histogram()
    with pytest.raises(ValueError):
        histogram.add(value)
    assert histogram.count == 0


def test_add_with_n_counts_n_times():
    repeated = Histogram()
    repeated.add(12.5, n=4)
    assert repeated == histogram_of([12.5] * 4)
    assert repeated.count == 4
    with pytest.raises(ValueError):
        repeated.add(1.0, n=0)


def test_quantile_rank_picks_the_right_bucket():
    histogram = histogram_of([1.0] * 95 + [1000.0] * 5)
    assert histogram.quantile(0.95) == pytest.approx(1.0, rel=0.1)
    assert histogram.quantile(0.951) == pytest.approx(1000.0, rel=0.1)  # the 96th observation
    assert histogram.quantile(0) == pytest.approx(1.0, rel=0.1)


@given(st.lists(values, max_size=50), st.lists(values, max_size=50))
def test_merge_equals_adding_everything(left, right):
    merged = histogram_of(left)
    other = histogram_of(right)
    merged.merge(other)
    assert merged == histogram_of(left + right)
    assert merged.count == len(left) + len(right)
    assert other == histogram_of(right)


def test_merged_combines_many_and_keeps_inputs():
    parts = [histogram_of(chunk) for chunk in np.array_split(samples("lognormal_ms"), 7)]
    assert Histogram.merged(parts) == histogram_of(samples("lognormal_ms"))
    assert Histogram.merged([]) == Histogram()


def test_dict_round_trip_through_json():
    histogram = histogram_of(samples("exponential")[:2000])
    data = json.loads(json.dumps(histogram.to_dict()))
    assert all(isinstance(key, str) for key in data)
    restored = Histogram.from_dict(data)
    assert restored == histogram
    assert restored.count == 2000
    assert restored.quantile(0.95) == histogram.quantile(0.95)


@pytest.mark.parametrize("data", [None, {}])
def test_from_dict_tolerates_nothing(data):
    assert Histogram.from_dict(data) == Histogram()


def test_equality_is_by_counts():
    assert histogram_of([1.0, 2.0]) == histogram_of([2.0, 1.0])
    assert histogram_of([1.0]) != histogram_of([2.0])
    assert histogram_of([1.0]) != {"0": 1}


# VersionStats


def test_record_counts_requests_errors_latency_and_resources():
    stats = VersionStats()
    stats.record(10.0)
    stats.record(20.0, error="timeout", operations=500, memory_bytes=4096)
    stats.record(5.0, error="bad_input", memory_bytes=1024)
    assert stats.requests == 3
    assert stats.errors == {"timeout": 1, "bad_input": 1}
    assert stats.latency_ms.count == 3
    assert stats.operations.count == 1
    assert stats.memory_peak_bytes == 4096


def test_unknown_error_kind_is_rejected():
    stats = VersionStats()
    with pytest.raises(ValueError, match="oops"):
        stats.record(1.0, error="oops")
    assert stats.requests == 0


def test_error_rate_excludes_bad_input():
    stats = VersionStats()
    for kind in (None, None, "bad_input", "bad_input", "exception", "limit", None, None):
        stats.record(1.0, error=kind)
    assert stats.error_count == 2
    assert stats.error_rate == pytest.approx(2 / 8)
    assert set(ERROR_KINDS) >= set(stats.errors)


def test_rates_are_none_without_data():
    stats = VersionStats()
    assert stats.error_rate is None
    assert stats.mismatch_rate is None
    assert stats.summary()["p95_ms"] is None


def test_record_shadow():
    stats = VersionStats()
    for mismatch in (True, False, False, False):
        stats.record_shadow(mismatch)
    assert (stats.shadow_compared, stats.shadow_mismatched) == (4, 1)
    assert stats.mismatch_rate == 0.25


def recorded(invocations) -> VersionStats:
    stats = VersionStats()
    for ms, error, ops, memory in invocations:
        stats.record(ms, error=error, operations=ops, memory_bytes=memory)
    return stats


INVOCATIONS = [(3.5, None, 100, 2048), (7.0, "exception", None, 8192), (1.2, "bad_input", 40, None),
               (250.0, "timeout", 9000, 1024), (0.0, None, None, None), (15.0, "policy", 12, 512)]


def test_merge_sums_and_keeps_the_memory_peak():
    left, right = recorded(INVOCATIONS[:3]), recorded(INVOCATIONS[3:])
    left.record_shadow(True)
    right.record_shadow(False)
    left.merge(right)
    whole = recorded(INVOCATIONS)
    whole.record_shadow(True)
    whole.record_shadow(False)
    assert left == whole
    assert left.memory_peak_bytes == 8192
    assert VersionStats.merged([recorded([i]) for i in INVOCATIONS]) == recorded(INVOCATIONS)


def test_row_round_trip_through_json():
    stats = recorded(INVOCATIONS)
    stats.record_shadow(True)
    row = json.loads(json.dumps(stats.to_row()))
    assert set(row) == {"requests", "errors", "latency_hist", "ops_hist", "memory_peak_bytes",
                        "shadow_compared", "shadow_mismatched"}
    assert VersionStats.from_row(row) == stats


def test_from_row_tolerates_missing_and_null_fields():
    assert VersionStats.from_row({}) == VersionStats()
    assert VersionStats.from_row({"requests": 3, "errors": None, "latency_hist": None}) == VersionStats(requests=3)


def test_summary():
    stats = recorded([(10.0, None, 1000, 64)] * 90 + [(100.0, "exception", None, None)] * 10)
    stats.record_shadow(False)
    summary = stats.summary()
    assert set(summary) == {"requests", "errors", "error_rate", "p50_ms", "p95_ms", "p99_ms", "operations_p95",
                            "memory_peak_bytes", "shadow_compared", "mismatch_rate"}
    assert summary["requests"] == 100
    assert summary["errors"] == {"exception": 10}
    assert summary["error_rate"] == 0.1
    assert summary["p50_ms"] == pytest.approx(10.0, rel=0.1)
    assert summary["p95_ms"] == pytest.approx(100.0, rel=0.1)
    assert summary["operations_p95"] == pytest.approx(1000, rel=0.1)
    assert summary["memory_peak_bytes"] == 64
    assert summary["mismatch_rate"] == 0.0
    assert summary["p99_ms"] == round(summary["p99_ms"], 3)
