"""Self-edit: the factory's own modules are nodes. factory.selector.v1 and factory.rollout.v1 are seeded
stable; a change to them is refused while `self_edit` is locked and, once an admin unlocks it, goes through
the lifecycle — a canary of the selector takes a share of the factory's own decisions."""
import pytest
from fastapi.testclient import TestClient

from neira_factory.api.app import create_app
from neira_factory.services.bootstrap import build_services
from neira_factory.config.tokens import TokenRegistry

from support import auth, make_settings

ADMIN, WRITE, READ = auth("admin"), auth("write"), auth("read")


@pytest.fixture
def rt(tmp_path):
    f = build_services(make_settings(tmp_path))
    yield TestClient(create_app(f, TokenRegistry.load(f.settings))), f
    f.db.dispose()


def selector_v2(min_score: float) -> dict:
    return {"id": "factory.selector.v2", "version": "2.0.0", "analysis_type": "selector_weights",
            "adapter": {"impl": "selector_weights"},
            "params": {"min_score": {"value": min_score, "min": 0, "max": 2, "tunable": True}},
            "rollout": {"canary_weight": 1.0, "min_requests": 5}}


def test_the_modules_are_seeded_stable_and_audited(rt):
    client, _ = rt
    for node_id in ("factory.selector.v1", "factory.rollout.v1"):
        node = client.get(f"/factory/nodes/{node_id}", headers=READ).json()
        assert node["state"] == "stable" and node["created_by"] == "system"
        assert node["template"]["params"]
    assert any(e["action"] == "factory.seed" for e in client.get("/audit", headers=READ).json())


def test_a_change_is_refused_while_self_edit_is_locked(rt):
    client, _ = rt
    refused = client.post("/factory/nodes", json=selector_v2(0.5), headers=ADMIN)
    assert refused.status_code == 403, refused.text
    assert (refused.json()["code"], refused.json()["capability"]) == ("capability_disabled", "self_edit")
    for action in ("disable", "rollback"):
        moved = client.post(f"/factory/nodes/factory.selector.v1/{action}", json={"reason": "try"}, headers=ADMIN)
        assert moved.status_code == 403 and moved.json()["capability"] == "self_edit"
    dry = client.post("/factory/nodes/dryrun", json=selector_v2(0.5), headers=WRITE).json()
    assert "self_edit_locked" in [r["code"] for r in dry["report"]["risks"]]


def test_unlocked_a_new_selector_version_goes_through_the_lifecycle_and_decides(rt):
    client, f = rt
    assert client.put("/capabilities/self_edit", json={"state": "experimental"}, headers=ADMIN).status_code == 200
    echo = {"id": "analysis.echo.v1", "version": "0.1.0", "analysis_type": "echo"}
    assert client.post("/factory/nodes", json=echo, headers=WRITE).status_code == 201
    client.post("/factory/nodes/analysis.echo.v1/approve", json={}, headers=WRITE)
    for _ in range(2):
        client.post("/factory/nodes/analysis.echo.v1/approve", json={"force": True, "reason": "t"}, headers=ADMIN)
    wanted = {"id": "analysis.echo.v9", "version": "0.9.0", "analysis_type": "echo"}
    before = client.post("/factory/nodes/dryrun", json=wanted, headers=WRITE).json()["report"]["selector"]
    assert before["decision"] == "reuse"
    # a selector that never reuses: min_score above any score, as a canary taking every decision
    assert client.post("/factory/nodes", json=selector_v2(2.0), headers=WRITE).status_code == 201
    assert client.post("/factory/nodes/factory.selector.v2/approve", json={}, headers=WRITE).json()["state"] == "canary"
    after = client.post("/factory/nodes/dryrun", json=wanted, headers=WRITE).json()["report"]["selector"]
    assert after["decision"] == "create" and "min_score 2" in after["reason"]
    f.flush_stats()
    assert client.get("/factory/nodes/factory.selector.v2/analysis", headers=READ).json()["stats"]["requests"] >= 1
    assert client.post("/factory/nodes/factory.selector.v2/rollback", json={"reason": "too strict"},
                       headers=WRITE).json()["state"] == "rolled_back"
    again = client.post("/factory/nodes/dryrun", json=wanted, headers=WRITE).json()["report"]["selector"]
    assert again["decision"] == "reuse"


def test_the_rollout_module_gives_the_defaults_a_template_leaves_out(rt):
    client, _ = rt
    client.put("/capabilities/self_edit", json={"state": "experimental"}, headers=ADMIN)
    rollout_v2 = {"id": "factory.rollout.v2", "version": "2.0.0", "analysis_type": "rollout_defaults",
                  "adapter": {"impl": "rollout_defaults"}, "rollout": {"canary_weight": 1.0, "min_requests": 5},
                  "params": {"min_requests": {"value": 40, "min": 0, "max": 1000, "step": 10, "tunable": True}}}
    assert client.post("/factory/nodes", json=rollout_v2, headers=WRITE).status_code == 201
    client.post("/factory/nodes/factory.rollout.v2/approve", json={}, headers=WRITE)
    plain = {"id": "analysis.echo.v1", "version": "0.1.0", "analysis_type": "echo",
             "rollout": {"canary_weight": 0.2}}
    assert client.post("/factory/nodes", json=plain, headers=WRITE).status_code == 201
    rollout = client.get("/factory/nodes/analysis.echo.v1", headers=READ).json()["template"]["rollout"]
    assert rollout["min_requests"] == 40 and rollout["canary_weight"] == 0.2  # the author's value stays
