"""Routes under real traffic through the HTTP API: split and sticky keys, graduation with the stable
version deprecated, shadow comparison, quarantine and rollback taking effect on the next request,
safe-mode, and the analysis window. The supervisor's tick is called directly, so each step is exact."""
import os
import time

import pytest
from fastapi.testclient import TestClient
from runtime_support import (
    ADMIN,
    READ,
    ROUTE,
    WRITE,
    analysis,
    approve,
    create,
    invoke,
    make_candidate,
    make_stable,
    metric,
    state,
    template,
    traffic,
)
from support import make_settings

from neira_factory.api.app import create_app
from neira_factory.services.bootstrap import build_services
from neira_factory.services.supervisor import Supervisor
from neira_factory.config.tokens import TokenRegistry


@pytest.fixture
def rt(tmp_path):
    """(client, factory, supervisor) without the app's lifespan: ticks happen when the test says so."""
    f = build_services(make_settings(tmp_path))
    yield TestClient(create_app(f, TokenRegistry.load(f.settings))), f, Supervisor(f.supervisor.f, interval_s=3600)
    f.db.dispose()


def audit_actions(client, resource):
    return [e["action"] for e in audit(client, resource)]


def audit(client, resource):
    return client.get("/audit", params={"resource": resource, "limit": 100}, headers=READ).json()


def test_unknown_route_is_404_and_a_route_without_live_versions_is_409(rt):
    client, _, _ = rt
    assert invoke(client, {}, route="analysis.nothing").status_code == 404
    create(client, template(1))
    response = invoke(client, {"text": "x"})
    assert response.status_code == 409
    assert response.json()["code"] == "no_stable_version"
    assert "draft" in response.json()["reason"]


def test_a_canary_serves_without_stable_only_when_its_policy_says_so(rt):
    client, _, _ = rt
    make_candidate(client, template(1))
    refused = invoke(client, {"text": "x"})
    assert refused.status_code == 409 and "serve_without_stable" in refused.json()["reason"]
    make_candidate(client, template(2, serve_without_stable=True))
    served = invoke(client, {"text": "x"})
    assert served.status_code == 200 and served.json()["node_id"] == f"{ROUTE}.v2"


def test_split_is_sticky_by_key_and_near_its_weight(rt):
    client, _, _ = rt
    make_stable(client, template(1))
    make_candidate(client, template(2, "reverse", canary_weight=0.3))
    served = traffic(client, 600)
    assert set(served) == {f"{ROUTE}.v1", f"{ROUTE}.v2"}
    assert 0.2 < served[f"{ROUTE}.v2"] / 600 < 0.4
    for key in ("alice", "bob", "carol", "dave"):
        first = invoke(client, {"text": "abc"}, key=key).json()
        again = [invoke(client, {"text": "abc"}, key=key).json()["node_id"] for _ in range(5)]
        assert again == [first["node_id"]] * 5
        expected = {"text": "cba"} if first["node_id"].endswith("v2") else {"text": "abc"}
        assert first["output"] == expected


def test_a_healthy_candidate_passes_graduates_and_deprecates_the_old_stable(rt):
    client, f, supervisor = rt
    v1 = make_stable(client, template(1))
    v2 = make_candidate(client, template(2, canary_weight=0.5, experimental_weight=0.5))
    blocked = approve(client, v2)
    assert blocked.status_code == 409 and blocked.json()["code"] == "analysis_not_passed"
    traffic(client, 120)
    report = analysis(client, v2)
    assert report["phase"] == "passed", report
    assert {m["name"]: m["verdict"] for m in report["metrics"]}["baseline_errors"] == "pass"
    assert report["baseline"]["id"] == v1
    assert supervisor.tick() == [{"id": v2, "phase": "passed", "action": None}]
    assert approve(client, v2).json()["state"] == "experimental"
    traffic(client, 120, offset=1000)
    assert approve(client, v2).json()["state"] == "stable"
    assert state(client, v1) == "deprecated"
    assert set(traffic(client, 30, offset=5000)) == {v2}
    assert "node.supersede" in audit_actions(client, v1)


def test_auto_graduation_from_experimental(rt):
    client, _, supervisor = rt
    make_stable(client, template(1))
    v2 = make_candidate(client, template(2, canary_weight=0.5, auto_graduate=True))
    traffic(client, 100)
    supervisor.tick()
    assert approve(client, v2).json()["state"] == "experimental"
    traffic(client, 100, offset=500)
    done = supervisor.tick()
    assert done == [{"id": v2, "phase": "passed", "action": "approve"}]
    assert state(client, v2) == "stable"
    assert "watchdog" in [e["actor"] for e in audit(client, v2)]


def test_shadow_records_mismatches_and_never_returns_the_candidates_output(rt):
    client, f, supervisor = rt
    make_stable(client, template(1))
    v2 = make_candidate(client, template(2, "reverse", mode="shadow", slo={"mismatch_rate_max": 0.1}))
    outputs = [invoke(client, {"text": f"abc{i}"}, key=str(i)).json() for i in range(40)]
    assert all(o["node_id"] == f"{ROUTE}.v1" and o["output"] == {"text": f"abc{i}"} for i, o in enumerate(outputs))
    f.runtime.shadows.drain()
    report = analysis(client, v2)
    assert report["stats"]["shadow_compared"] == 40
    assert report["stats"]["mismatch_rate"] == 1.0
    assert metric(report, "mismatch_rate")["verdict"] == "fail"
    assert supervisor.tick() == [{"id": v2, "phase": "failed", "action": "rollback"}]
    assert state(client, v2) == "rolled_back"
    metrics = client.get("/metrics").text
    assert 'factory_shadow_comparisons_total{outcome="mismatch",route="analysis.svc"} 40.0' in metrics


def test_identical_shadow_matches(rt):
    client, f, _ = rt
    make_stable(client, template(1))
    v2 = make_candidate(client, template(2, mode="shadow", slo={"mismatch_rate_max": 0.1}))
    traffic(client, 30)
    f.runtime.shadows.drain()
    report = analysis(client, v2)
    assert report["stats"]["shadow_compared"] == 30 and report["stats"]["mismatch_rate"] == 0.0
    assert metric(report, "mismatch_rate")["verdict"] == "pass"


def test_quarantine_stops_traffic_with_the_next_request_and_release_restores_it(rt):
    client, _, _ = rt
    v1 = make_stable(client, template(1))
    v2 = make_candidate(client, template(2, "reverse", canary_weight=1.0))
    assert invoke(client, {"text": "ab"}, key="k").json()["node_id"] == v2
    assert client.post(f"/factory/nodes/{v2}/quarantine", json={"reason": "suspect"}, headers=ADMIN).status_code == 200
    assert invoke(client, {"text": "ab"}, key="k").json()["node_id"] == v1
    assert client.post(f"/factory/nodes/{v2}/release", json={}, headers=ADMIN).json()["state"] == "canary"
    assert invoke(client, {"text": "ab"}, key="k").json()["node_id"] == v2
    assert 'immune_quarantines_total{cause="admin"} 1.0' in client.get("/metrics").text


def test_rollback_of_a_candidate_and_of_a_stable_version_puts_the_previous_stable_back_at_once(rt):
    client, _, _ = rt
    v1 = make_stable(client, template(1))
    v2 = make_candidate(client, template(2, "reverse", canary_weight=1.0))
    assert invoke(client, {"text": "ab"}).json()["node_id"] == v2
    client.post(f"/factory/nodes/{v2}/rollback", json={"reason": "bad"}, headers=WRITE)
    assert invoke(client, {"text": "ab"}).json()["node_id"] == v1
    v3 = make_stable(client, template(3, "reverse"))
    assert state(client, v1) == "deprecated"
    assert invoke(client, {"text": "ab"}).json()["node_id"] == v3
    assert client.post(f"/factory/nodes/{v3}/rollback", json={"reason": "regression"},
                       headers=WRITE).json()["state"] == "rolled_back"
    assert state(client, v1) == "stable"
    assert invoke(client, {"text": "ab"}).json() | {"ms": 0} == {
        "output": {"text": "ab"}, "route": ROUTE, "node_id": v1, "version": "0.1.0", "state": "stable", "ms": 0}
    assert "node.reinstate" in audit_actions(client, v1)


def test_safe_mode_stops_candidate_traffic(rt):
    client, _, _ = rt
    v1 = make_stable(client, template(1))
    v2 = make_candidate(client, template(2, canary_weight=1.0))
    assert invoke(client, {"text": "x"}).json()["node_id"] == v2
    client.post("/immune/safe-mode", json={"on": True}, headers=ADMIN)
    assert invoke(client, {"text": "x"}).json()["node_id"] == v1
    client.post("/immune/safe-mode", json={"on": False}, headers=ADMIN)
    assert invoke(client, {"text": "x"}).json()["node_id"] == v2


def test_a_hard_timeout_abandons_the_worker_counts_and_repeated_ones_quarantine(rt):
    client, _, _ = rt
    slow = template(1, "regex_extract", params={"pattern": "(x|x)+y"}, limits={"timeout_ms": 60},
                    serve_without_stable=True)
    v1 = make_candidate(client, slow)
    for attempt in range(3):
        response = invoke(client, {"text": "x" * 40})
        assert response.status_code == 504, response.text
        assert response.json()["kind"] == "timeout" and response.json()["node"] == v1
    assert state(client, v1) == "quarantined"
    assert invoke(client, {"text": "x" * 40}).status_code == 409
    metrics = client.get("/metrics").text
    assert 'watchdog_timeouts_total{kind="hard"} 3.0' in metrics
    assert 'immune_quarantines_total{cause="timeouts"} 1.0' in metrics
    assert "node.quarantine" in audit_actions(client, v1)


def test_analysis_reports_windows_and_requests_metrics(rt):
    client, _, _ = rt
    make_stable(client, template(1))
    v2 = make_candidate(client, template(2, canary_weight=0.5, slo={"p95_ms_max": 1000}))
    traffic(client, 60)
    report = analysis(client, v2)
    served = report["stats"]["requests"]
    assert served == sum(w["requests"] for w in report["windows"]) > 0
    assert metric(report, "p95_ms")["threshold"] == 1000
    metrics = client.get("/metrics").text
    assert f'factory_node_requests_total{{outcome="ok",route="{ROUTE}",state="canary",version="0.2.0"}} {served}.0' \
        in metrics
    assert "factory_node_duration_seconds_bucket" in metrics


def script_template(version: int, source: str, **rollout):
    body = template(version, **rollout)
    body.pop("adapter")
    return {**body, "backend": "script", "script": {"source": source}}


@pytest.fixture
def scripts(rt):
    client, f, supervisor = rt
    response = client.put("/capabilities/factory_script", json={"state": "experimental"}, headers=ADMIN)
    assert response.status_code == 200
    return rt


def test_a_candidate_erring_a_fifth_of_the_time_is_rolled_back_with_evidence(scripts):
    client, f, supervisor = scripts
    make_stable(client, template(1))
    flaky = 'fn run(input) { if input.n % 5 == 0 { throw "boom"; } input }'
    v2 = make_candidate(client, script_template(2, flaky, canary_weight=0.5, min_requests=40))
    served = traffic(client, 200, data=lambda i: {"n": i})
    assert served.get(f"error:{v2}", 0) > 0
    assert served.get(f"error:{ROUTE}.v1", 0) == 0
    report = analysis(client, v2)
    assert report["phase"] == "failed" and metric(report, "error_rate")["verdict"] == "fail"
    assert 0.1 < metric(report, "error_rate")["value"] < 0.3
    assert supervisor.tick() == [{"id": v2, "phase": "failed", "action": "rollback"}]
    assert state(client, v2) == "rolled_back"
    entry = next(e for e in audit(client, v2) if e["action"] == "node.rollback")
    assert entry["actor"] == "watchdog" and entry["reason"].startswith("analysis failed")
    assert entry["after"]["evidence"]["analysis"]["verdict"] == "fail"
    events = [e for _, e in f.bus.since(0) if e.resource == v2]
    assert any(e.type == "analysis.verdict" and e.data["phase"] == "failed" for e in events)
    assert any(e.type == "node.transition" and e.data["action"] == "rollback" for e in events)
    metrics = client.get("/metrics").text
    assert "factory_rollbacks_total 1.0" in metrics
    assert 'factory_analysis_verdicts_total{phase="failed"} 1.0' in metrics
    assert f'factory_node_requests_total{{outcome="exception",route="{ROUTE}",state="canary",version="0.2.0"}} ' \
        f'{served[f"error:{v2}"]}.0' in metrics
    assert set(traffic(client, 20, offset=900)) == {f"{ROUTE}.v1"}


def test_within_absolute_thresholds_but_worse_than_stable_fails_on_the_baseline(scripts):
    client, _, supervisor = scripts
    make_stable(client, template(1))
    rare = 'fn run(input) { if input.n % 40 == 0 { throw "rare"; } input }'
    v2 = make_candidate(client, script_template(2, rare, canary_weight=0.5, min_requests=100))
    traffic(client, 1000, data=lambda i: {"n": i})
    report = analysis(client, v2)
    assert metric(report, "error_rate")["verdict"] == "pass", report["metrics"]
    assert metric(report, "baseline_errors")["verdict"] == "fail", report["metrics"]
    assert report["phase"] == "failed"
    supervisor.tick()
    assert state(client, v2) == "rolled_back"


def test_a_slower_candidate_fails_the_latency_comparison(scripts):
    client, _, _ = scripts
    make_stable(client, template(1))
    slow = "fn run(input) { let x = 0; while x < 60000 { x += 1; } input }"
    v2 = make_candidate(client, script_template(2, slow, canary_weight=0.5, min_requests=20,
                                                baseline={"latency_slack_ms": 1}))
    traffic(client, 80)
    report = analysis(client, v2)
    latency = metric(report, "baseline_latency")
    assert latency["verdict"] == "fail" and latency["value"] > 1.5, report["metrics"]
    assert metric(report, "error_rate")["verdict"] == "pass"


def test_script_operations_reach_the_statistics(scripts):
    client, _, _ = scripts
    source = "fn run(input) { let x = 0; while x < 100 { x += 1; } input }"
    v1 = make_candidate(client, script_template(1, source, serve_without_stable=True, min_requests=5,
                                                slo={"operations_p95_max": 10}))
    traffic(client, 10)
    report = analysis(client, v1)
    assert report["stats"]["operations_p95"] > 100
    assert metric(report, "operations_p95")["verdict"] == "fail"


def test_old_windows_are_pruned_and_recent_ones_kept(rt):
    client, f, supervisor = rt
    make_stable(client, template(1))
    v2 = make_candidate(client, template(2, canary_weight=1.0))
    traffic(client, 5)
    f.flush_stats()
    old = f.runtime.stats.window() - f.settings.stats_retention_h * 3600 - 3 * f.settings.stats_window_s
    with f.db.unit_of_work() as uow:
        uow.stats.put([{"node_id": v2, "state": "canary", "window_start": old, "replica": "gone", "requests": 7,
                        "errors": {}, "latency_hist": {}, "ops_hist": {}, "memory_peak_bytes": 0,
                        "shadow_compared": 0, "shadow_mismatched": 0}])
        uow.measurements.put(v2, "canary", old, "fail", 7, "long ago")
    assert supervisor.prune() == 2
    with f.read() as uow:
        assert [r["requests"] for r in uow.stats.rows(v2, "canary")] == [5]
        assert uow.measurements.counts(v2, "canary") == {}


def test_old_output_files_are_pruned_and_recent_ones_kept(rt):
    _client, f, supervisor = rt
    out = f.settings.output_dir
    out.mkdir(parents=True, exist_ok=True)
    old, recent = out / "old.wav", out / "recent.wav"
    old.write_bytes(b"RIFF")
    recent.write_bytes(b"RIFF")
    long_ago = time.time() - f.settings.output_retention_h * 3600 - 60
    os.utime(old, (long_ago, long_ago))
    assert supervisor.prune() == 1
    assert not old.exists() and recent.exists()
