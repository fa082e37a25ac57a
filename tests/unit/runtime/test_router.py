"""Router: the sticky bucket, candidate order, split weights, shadows, safe-mode and routes without a stable version."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from neira_factory.domain.errors import Conflict
from neira_factory.domain.templates import NodeTemplate
from neira_factory.runtime.router import Plan, RouteTable, Version, bucket, plan, sort_candidates
from neira_factory.domain.node import Node

ROUTE = "analysis.svc"
KEYS = [f"user-{i}" for i in range(10_000)]
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def version(n: int, state: str, *, age_s: int = 0, **rollout: Any) -> Version:
    """`analysis.svc.v<n>` in `state`, created `age_s` seconds before T0, with these rollout settings."""
    node_id = f"{ROUTE}.v{n}"
    template = NodeTemplate.model_validate({
        "id": node_id, "version": f"0.{n}.0", "analysis_type": "svc",
        "backend": "adapter", "adapter": {"impl": "echo"}, "rollout": rollout,
    })
    created = T0 - timedelta(seconds=age_s)
    record = Node(id=node_id, route=ROUTE, version=f"0.{n}.0", kind="analysis", node_type="svc",
                        backend="adapter", state=state, prev_state=None, artifact_sha256="0" * 64, report=None,
                        created_by="tester", created_at=created, updated_at=created, row_version=1)
    return Version(record, template)


def table(stable: Version | None, *candidates: Version, idle: tuple[str, ...] = ()) -> RouteTable:
    return RouteTable(ROUTE, stable, tuple(candidates), idle=idle)


def share(route_table: RouteTable, target: Version, keys: list[str] = KEYS, *, safe_mode: bool = False) -> float:
    """The fraction of `keys` whose primary is `target`."""
    return sum(plan(route_table, k, safe_mode=safe_mode).primary is target for k in keys) / len(keys)


def keys_of(route_table: RouteTable, target: Version, keys: list[str] = KEYS) -> set[str]:
    return {k for k in keys if plan(route_table, k, safe_mode=False).primary is target}


# bucket


def test_bucket_is_deterministic_per_route_and_key():
    assert [bucket(ROUTE, k) for k in KEYS[:200]] == [bucket(ROUTE, k) for k in KEYS[:200]]


def test_bucket_is_in_unit_interval():
    points = [bucket(ROUTE, k) for k in KEYS] + [bucket(ROUTE, None) for _ in range(1000)]
    assert all(0.0 <= p < 1.0 for p in points)


def test_bucket_differs_between_routes():
    a = [bucket("analysis.one", k) for k in KEYS]
    b = [bucket("analysis.two", k) for k in KEYS]
    assert sum(x == y for x, y in zip(a, b)) == 0
    # independent, not shifted copies: of the keys in the lowest tenth on one route, ≈ a tenth are there on the other
    low_a = {k for k, p in zip(KEYS, a) if p < 0.1}
    low_b = {k for k, p in zip(KEYS, b) if p < 0.1}
    assert 0.05 < len(low_a & low_b) / len(low_a) < 0.15


def test_bucket_route_and_key_are_not_simply_concatenated():
    # ("a.b", "c") and ("a.bc", "") must not share a point by accident of concatenation
    assert bucket("analysis.ab", "c") != bucket("analysis.a", "bc")


def test_bucket_is_roughly_uniform():
    bins = [0] * 10
    for k in KEYS:
        bins[int(bucket(ROUTE, k) * 10)] += 1
    # 1000 expected per bin, standard deviation ≈ 30
    assert all(850 < n < 1150 for n in bins), bins


def test_bucket_without_key_is_random():
    points = {bucket(ROUTE, None) for _ in range(100)}
    assert len(points) > 90


# sort_candidates


def test_sort_candidates_puts_experimental_first_then_newest_first():
    canary_old = version(2, "canary", age_s=300)
    exp_old = version(3, "experimental", age_s=200)
    canary_new = version(4, "canary", age_s=100)
    exp_new = version(5, "experimental", age_s=0)
    ordered = sort_candidates([canary_old, exp_old, canary_new, exp_new])
    assert ordered == (exp_new, exp_old, canary_new, canary_old)


def test_sort_candidates_of_nothing_is_empty():
    assert sort_candidates([]) == ()


# split


def test_version_weight_follows_its_state():
    assert version(2, "canary", canary_weight=0.1, experimental_weight=0.7).weight == 0.1
    assert version(2, "experimental", canary_weight=0.1, experimental_weight=0.7).weight == 0.7
    assert version(2, "canary").weight == 0.05  # defaults
    assert version(2, "experimental").weight == 0.5


def test_canary_gets_its_canary_weight_of_distinct_keys():
    stable, canary = version(1, "stable"), version(2, "canary", canary_weight=0.05)
    assert share(table(stable, canary), canary) == pytest.approx(0.05, abs=0.015)


def test_experimental_gets_its_experimental_weight_of_distinct_keys():
    stable, exp = version(1, "stable"), version(2, "experimental", experimental_weight=0.5, canary_weight=0.01)
    assert share(table(stable, exp), exp) == pytest.approx(0.5, abs=0.03)


def test_the_rest_goes_to_stable():
    stable, canary = version(1, "stable"), version(2, "canary", canary_weight=0.2)
    route_table = table(stable, canary)
    assert share(route_table, stable) + share(route_table, canary) == 1.0
    assert share(route_table, stable) == pytest.approx(0.8, abs=0.03)


def test_plan_reason_names_split_and_stable():
    stable, canary = version(1, "stable"), version(2, "canary", canary_weight=0.2)
    route_table = table(stable, canary)
    reasons = {plan(route_table, k, safe_mode=False).reason for k in KEYS[:500]}
    assert reasons == {"stable", f"split: 20% to canary {canary.record.id}"}


def test_same_key_always_reaches_the_same_version():
    stable, canary = version(1, "stable"), version(2, "canary", canary_weight=0.3)
    route_table = table(stable, canary)
    first = [plan(route_table, k, safe_mode=False).primary for k in KEYS[:1000]]
    for _ in range(3):
        assert [plan(route_table, k, safe_mode=False).primary for k in KEYS[:1000]] == first


def test_larger_weight_keeps_the_keys_of_a_smaller_one():
    stable = version(1, "stable")
    small = version(2, "canary", canary_weight=0.05)
    large = version(2, "canary", canary_weight=0.3)
    small_keys, large_keys = keys_of(table(stable, small), small), keys_of(table(stable, large), large)
    assert small_keys and small_keys < large_keys


def test_weight_zero_never_and_weight_one_always_serves():
    stable = version(1, "stable")
    none = version(2, "canary", canary_weight=0.0)
    every = version(2, "canary", canary_weight=1.0)
    assert share(table(stable, none), none, KEYS[:2000]) == 0.0
    assert share(table(stable, every), every, KEYS[:2000]) == 1.0


def test_several_split_candidates_share_the_key_space_in_order():
    stable = version(1, "stable")
    exp = version(3, "experimental", experimental_weight=0.3)
    canary = version(2, "canary", canary_weight=0.2)
    route_table = table(stable, exp, canary)
    assert share(route_table, exp) == pytest.approx(0.3, abs=0.03)
    assert share(route_table, canary) == pytest.approx(0.2, abs=0.03)
    assert share(route_table, stable) == pytest.approx(0.5, abs=0.03)
    # in order: the first candidate takes the lowest points, the next the ones after it
    for k in KEYS[:2000]:
        point = bucket(ROUTE, k)
        expected = exp if point < 0.3 else canary if point < 0.5 else stable
        assert plan(route_table, k, safe_mode=False).primary is expected


def test_split_candidates_are_capped_at_the_whole_key_space():
    stable = version(1, "stable")
    exp = version(3, "experimental", experimental_weight=0.7)
    canary = version(2, "canary", canary_weight=0.5)
    route_table = table(stable, exp, canary)
    assert share(route_table, stable) == 0.0
    assert share(route_table, exp) == pytest.approx(0.7, abs=0.03)
    assert share(route_table, canary) == pytest.approx(0.3, abs=0.03)


def test_split_without_key_lands_on_both_versions():
    stable, canary = version(1, "stable"), version(2, "canary", canary_weight=0.5)
    primaries = {plan(table(stable, canary), None, safe_mode=False).primary.record.id for _ in range(200)}
    assert primaries == {stable.record.id, canary.record.id}


# shadow


def test_shadow_candidate_is_a_shadow_and_never_primary():
    stable = version(1, "stable")
    shadow = version(2, "experimental", mode="shadow", experimental_weight=1.0)
    route_table = table(stable, shadow)
    for k in KEYS[:2000]:
        result = plan(route_table, k, safe_mode=False)
        assert isinstance(result, Plan)
        assert result.primary is stable
        assert result.shadows == (shadow,)
        assert result.reason == "stable"


def test_shadow_takes_no_key_space_from_split_candidates():
    stable = version(1, "stable")
    shadow = version(3, "experimental", mode="shadow", experimental_weight=0.9)
    canary = version(2, "canary", canary_weight=0.1)
    route_table = table(stable, shadow, canary)
    assert share(route_table, shadow) == 0.0
    assert share(route_table, canary) == pytest.approx(0.1, abs=0.02)
    split = next(k for k in KEYS if plan(route_table, k, safe_mode=False).primary is canary)
    assert plan(route_table, split, safe_mode=False).shadows == (shadow,)


# safe mode


def test_safe_mode_drops_split_and_shadow_candidates():
    stable = version(1, "stable")
    exp = version(3, "experimental", experimental_weight=1.0)
    shadow = version(2, "canary", mode="shadow")
    route_table = table(stable, exp, shadow)
    assert share(route_table, exp, KEYS[:2000]) == 1.0  # without safe mode, exp takes every key
    for k in KEYS[:2000]:
        result = plan(route_table, k, safe_mode=True)
        assert (result.primary, result.shadows, result.reason) == (stable, (), "stable")


# no stable version


def test_no_stable_refuses_and_names_the_candidate():
    canary = version(2, "canary")
    with pytest.raises(Conflict) as caught:
        plan(table(None, canary), "k", safe_mode=False)
    error = caught.value
    assert error.code == "no_stable_version"
    assert error.status == 409
    assert canary.record.id in error.reason
    assert "serve_without_stable" in error.reason
    assert error.extra["route"] == ROUTE
    assert error.extra["candidates"] == [canary.record.id]


def test_no_stable_serves_best_candidate_with_serve_without_stable():
    best = version(3, "experimental", serve_without_stable=True)
    other = version(2, "canary")
    for k in ("a", "b", None):
        result = plan(table(None, best, other), k, safe_mode=False)
        assert result.primary is best
        assert result.shadows == ()
        assert best.record.id in result.reason and "serve_without_stable" in result.reason


def test_no_stable_only_the_best_candidate_may_serve_without_stable():
    best = version(3, "experimental")
    other = version(2, "canary", serve_without_stable=True)
    with pytest.raises(Conflict) as caught:
        plan(table(None, best, other), "k", safe_mode=False)
    assert caught.value.code == "no_stable_version"
    assert best.record.id in caught.value.reason


def test_safe_mode_refuses_a_candidate_even_with_serve_without_stable():
    best = version(3, "experimental", serve_without_stable=True)
    with pytest.raises(Conflict) as caught:
        plan(table(None, best), "k", safe_mode=True)
    assert caught.value.code == "no_stable_version"
    assert "safe-mode" in caught.value.reason
    assert caught.value.extra["candidates"] == [best.record.id]


def test_route_with_only_idle_nodes_names_them():
    idle = (f"{ROUTE}.v1", f"{ROUTE}.v2")
    with pytest.raises(Conflict) as caught:
        plan(table(None, idle=idle), "k", safe_mode=False)
    error = caught.value
    assert error.code == "no_stable_version"
    assert ROUTE in error.reason
    assert all(node_id in error.reason for node_id in idle)


def test_route_with_no_nodes_at_all_refuses():
    with pytest.raises(Conflict) as caught:
        plan(table(None), "k", safe_mode=False)
    assert caught.value.code == "no_stable_version"
    assert "no serving version" in caught.value.reason
