"""Required integrations through the real API: the dry-run reports each requirement (the implicit metrics and
immune with their evidence, then what the template declares) as satisfied or missing with a reason; a missing
one is a blocking risk that stops create, and is judged again when the draft is approved; a bad entry is a
422 naming it; a `factory.*` name in it is looked up like any other and opens no gate."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from support import auth, make_settings

from neira_factory.api.app import create_app
from neira_factory.config.tokens import TokenRegistry
from neira_factory.services.bootstrap import build_services

ADMIN, WRITE, READ = auth("admin"), auth("write"), auth("read")
FAMILIES = ["factory_node_requests_total", "factory_node_duration_seconds"]


@pytest.fixture
def client(tmp_path):
    f = build_services(make_settings(tmp_path))
    with TestClient(create_app(f, TokenRegistry.load(f.settings))) as c:
        yield c
    f.db.dispose()


def echo(node_id: str, *requires: str) -> dict:
    return {"id": node_id, "version": "0.1.0", "analysis_type": "echo", "requires": list(requires)}


def dry_run(client: TestClient, body: dict) -> dict:
    answer = client.post("/factory/nodes/dryrun", json=body, headers=WRITE)
    assert answer.status_code == 200, answer.text
    return answer.json()


def integrations(client: TestClient, *requires: str) -> dict[str, dict]:
    report = dry_run(client, echo("analysis.needs.v1", *requires))["report"]
    return {i["requirement"]: i for i in report["integrations"]}


def verdict(client: TestClient, requirement: str) -> tuple[bool, str, dict]:
    found = integrations(client, requirement)[requirement]
    return found["satisfied"], found["code"], found["evidence"]


def create(client: TestClient, body: dict) -> dict:
    answer = client.post("/factory/nodes", json=body, headers=WRITE)
    assert answer.status_code == 201, answer.text
    return answer.json()


def move(client: TestClient, node_id: str, action: str, scope: dict = WRITE) -> dict:
    answer = client.post(f"/factory/nodes/{node_id}/{action}", json={"reason": "test"}, headers=scope)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_every_node_has_metrics_and_immune_satisfied_with_their_evidence(client):
    plain = echo("analysis.plain.v1") | {"rollout": {"serve_without_stable": True}}  # a canary that serves alone
    report = dry_run(client, plain)["report"]
    metrics, immune = report["integrations"]
    assert (metrics["requirement"], metrics["implicit"], metrics["satisfied"]) == ("metrics", True, True)
    assert metrics["evidence"] == {"families": FAMILIES, "route": "analysis.plain", "version": "0.1.0"}
    assert (immune["requirement"], immune["implicit"], immune["satisfied"]) == ("immune", True, True)
    assert "missing_integration" not in [r["code"] for r in report["risks"]]
    # the digest is the one create pins, and the families are the ones that count the version once it serves
    created = create(client, plain)
    assert immune["evidence"] == {"sha256": created["sha256"]} and created["sha256"] in immune["reason"]
    assert client.get("/factory/nodes/analysis.plain.v1", headers=READ).json()["artifact_sha256"] == created["sha256"]
    move(client, "analysis.plain.v1", "approve")
    assert client.post("/invoke/analysis.plain", json={"input": {"x": 1}}, headers=WRITE).status_code == 200
    exposition = client.get("/metrics").text
    for family in FAMILIES:
        series = re.findall(rf"^{family}(?:_count)?\{{([^}}]*)\}}", exposition, re.M)
        assert any('route="analysis.plain"' in labels and 'version="0.1.0"' in labels for labels in series), family
    # declared, they are the same checks, not implicit
    declared = integrations(client, "immune", "metrics")
    assert [(i["implicit"], i["satisfied"]) for i in declared.values()] == [(False, True), (False, True)]


def test_memory_needs_a_live_memory_node_on_the_route(client):
    assert verdict(client, "memory:memory.facts")[:2] == (False, "memory_not_served")
    assert verdict(client, "memory:memory.facts")[2]["why"] == "not_found"
    create(client, {"id": "memory.facts.v1", "version": "0.1.0", "memory_type": "knowledge", "backend": "memory"})
    assert verdict(client, "memory:memory.facts")[2]["why"] == "no_live_version"  # a draft serves nothing
    move(client, "memory.facts.v1", "approve")
    assert verdict(client, "memory:memory.facts") == (True, "memory_served", {
        "route": "memory.facts", "node": "memory.facts.v1", "state": "canary", "store": "memory.facts"})
    create(client, echo("analysis.other.v1"))
    move(client, "analysis.other.v1", "approve")
    assert verdict(client, "memory:analysis.other")[2]["why"] == "not_memory_node"
    found = integrations(client, "memory:analysis.other")["memory:analysis.other"]
    assert found["reason"].startswith("no memory node serves route analysis.other: route analysis.other is not "
                                      "a memory node")


def test_node_by_id_or_by_route(client):
    assert verdict(client, "node:analysis.dep.v1") == (False, "node_unknown", {"node": "analysis.dep.v1"})
    create(client, echo("analysis.dep.v1"))
    assert verdict(client, "node:analysis.dep.v1") == (True, "node_present", {"node": "analysis.dep.v1",
                                                                              "state": "draft"})
    assert verdict(client, "node:analysis.dep") == (False, "route_not_live", {
        "route": "analysis.dep", "node": "analysis.dep.v1", "state": "draft"})
    move(client, "analysis.dep.v1", "approve")
    assert verdict(client, "node:analysis.dep") == (True, "route_live", {
        "route": "analysis.dep", "node": "analysis.dep.v1", "state": "canary"})
    move(client, "analysis.dep.v1", "disable")
    assert verdict(client, "node:analysis.dep.v1") == (False, "node_gone", {"node": "analysis.dep.v1",
                                                                           "state": "disabled"})
    assert verdict(client, "node:analysis.dep")[:2] == (False, "route_not_live")


def test_capability_needs_the_gate_open(client):
    found = integrations(client, "capability:factory_memory", "capability:self_edit", "capability:nope")
    assert [(i["satisfied"], i["code"], i["reason"]) for i in found.values()][2:] == [
        (True, "gate_open", "gate factory_memory is experimental"),
        (False, "gate_closed", "gate self_edit is locked"), (False, "gate_unknown", "no such gate: nope")]


def test_a_missing_requirement_is_a_blocking_risk_and_create_refuses_it(client):
    body = echo("analysis.needs.v1", "capability:factory_memory", "node:analysis.nowhere.v1")
    result = dry_run(client, body)
    assert result["ok"] is False
    missing = [r for r in result["report"]["risks"] if r["code"] == "missing_integration"]
    assert missing == [{"code": "missing_integration", "severity": "blocking", "field": "requires.1",
                        "message": "requires node:analysis.nowhere.v1: no node or route is called "
                                   "analysis.nowhere.v1"}]
    refused = client.post("/factory/nodes", json=body, headers=WRITE)
    assert refused.status_code == 422 and refused.json()["code"] == "dry_run_failed", refused.text
    assert "missing_integration" in [r["code"] for r in refused.json()["report"]["risks"]]
    assert client.get("/factory/nodes/analysis.needs.v1", headers=READ).status_code == 404


def test_a_requirement_gone_since_create_keeps_the_node_in_draft(client):
    create(client, echo("analysis.dep.v1"))
    move(client, "analysis.dep.v1", "approve")
    create(client, echo("analysis.needs.v1", "capability:organ_echo", "node:analysis.dep"))
    # the gate is locked after create: approve refuses, naming it, and the node stays a draft
    assert client.put("/capabilities/organ_echo", json={"state": "locked"}, headers=ADMIN).status_code == 200
    refused = client.post("/factory/nodes/analysis.needs.v1/approve", json={}, headers=WRITE)
    assert refused.status_code == 409 and refused.json()["code"] == "missing_integration", refused.text
    assert [(i["requirement"], i["code"]) for i in refused.json()["integrations"]] == [
        ("capability:organ_echo", "gate_closed")]
    assert "requires capability:organ_echo: gate organ_echo is locked" in refused.json()["reason"]
    # unlocked, but the route it needs no longer has a live version
    client.put("/capabilities/organ_echo", json={"state": "experimental"}, headers=ADMIN)
    move(client, "analysis.dep.v1", "disable")
    refused = client.post("/factory/nodes/analysis.needs.v1/approve", json={}, headers=WRITE)
    assert refused.status_code == 409 and [i["code"] for i in refused.json()["integrations"]] == ["route_not_live"]
    assert client.get("/factory/nodes/analysis.needs.v1", headers=READ).json()["state"] == "draft"
    # a new version serves the route again: the draft leaves
    create(client, echo("analysis.dep.v2"))
    move(client, "analysis.dep.v2", "approve")
    assert move(client, "analysis.needs.v1", "approve")["state"] == "canary"


def test_a_factory_name_is_looked_up_like_any_other_and_opens_no_gate(client):
    body = echo("analysis.needs.v1", "node:factory.selector", "memory:factory.selector")
    report = dry_run(client, body)["report"]
    found = {i["requirement"]: i for i in report["integrations"]}
    assert found["node:factory.selector"]["evidence"] == {"route": "factory.selector", "node": "factory.selector.v1",
                                                          "state": "stable"}
    assert found["memory:factory.selector"]["evidence"]["why"] == "not_memory_node"
    assert "self_edit_locked" not in [r["code"] for r in report["risks"]]  # self_edit stays locked, not needed
    refused = client.post("/factory/nodes", json=body, headers=WRITE)
    assert refused.status_code == 422 and [r["field"] for r in refused.json()["report"]["risks"]
                                           if r["severity"] == "blocking"] == ["requires.1"]
    assert create(client, echo("analysis.needs.v1", "node:factory.selector"))["state"] == "draft"


@pytest.mark.parametrize(("requires", "field"), [
    (["metrics", "cache:redis"], "requires.1"), (["node:"], "requires.0"), (["capability:"], "requires.0"),
    (["memory:memory.facts", "memory:"], "requires.1"), (["node:analysis.x.v1", 7], "requires.1"),
    ("metrics", "requires"), ([f"node:analysis.n{i}.v1" for i in range(33)], "requires")])
def test_a_bad_requires_is_a_422_naming_the_field(client, requires, field):
    for path in ("/factory/nodes/dryrun", "/factory/nodes"):
        answer = client.post(path, json=echo("analysis.needs.v1") | {"requires": requires}, headers=WRITE)
        assert answer.status_code == 422, answer.text
        assert (answer.json()["code"], answer.json()["field"]) == ("invalid_input", field)
    wrapped = client.post("/factory/nodes/dryrun", json={"template": echo("analysis.needs.v1", "node:")},
                          headers=WRITE)
    assert wrapped.status_code == 422 and wrapped.json()["field"] == "template.requires.0"
