"""Gates that govern what they say, against a hostile write-scope user, on a real server:

* every way of naming a factory module (`factory.*`) — id, route, link, chain step, routing target,
  fallback, organ member — needs `self_edit`, at create, dry-run, transitions, organ builds and commands;
* dry-runs (a node's examples, an organ's, a command's plan) run under the same watchdog budget as a real
  run: the node's own limits, capped by WATCHDOG_HARD_MS;
* a closed backend gate is a kill switch: runs and invokes answer 403 `capability_disabled` naming the gate
  and the node (a linked node's or an organ member's too), and training pauses until it opens again.
"""
from __future__ import annotations

import time

import pytest
from e2e_support import metrics, to_stable, wait_run
from sandbox_support import healthz_while

HARD_MS = 1500  # the server's WATCHDOG_HARD_MS
MARGIN_S = 1.0
LOOP = "fn run(input) { loop {} }"
ECHO_SCRIPT = "fn run(input) { input }"
ROLLOUT_TAKEOVER = {"auto_graduate": True, "auto_rollback": False, "min_requests": 0}


@pytest.fixture(scope="module")
def server(module_server):
    server = module_server(env={"WATCHDOG_HARD_MS": str(HARD_MS)})
    admin = server.client("admin")
    assert admin.put("/capabilities/factory_script", json={"state": "experimental"}).status_code == 200
    return server


def node(node_id: str, **fields) -> dict:
    return {"id": node_id, "version": "0.1.0", "analysis_type": node_id.split(".")[1], **fields}


def set_gate(server, gate: str, state: str) -> None:
    r = server.client("admin").put(f"/capabilities/{gate}", json={"state": state, "reason": "test"})
    assert r.status_code == 200, r.text


# ---- self_edit: every name of a factory module -----------------------------------------------------------

NAMINGS = [
    ("route", node("analysis.sneaky_route.v1", analysis_type="rollout_defaults", route="factory.rollout",
                   params={k: {"value": v} for k, v in ROLLOUT_TAKEOVER.items()})),
    ("links.0", node("analysis.sneaky_link.v1", links=["factory.selector.v1"])),
    ("adapter.chain.0", node("analysis.sneaky_chain.v1", adapter={"chain": ["factory.rollout.v1"]})),
    ("adapter.routes.0.to", node("analysis.sneaky_routes.v1", analysis_type="echo",
                                 adapter={"impl": "echo", "routes": [{"when": "a", "to": "factory.selector.v1"}]})),
    ("adapter.fallback", node("analysis.sneaky_fallback.v1", analysis_type="echo", confidence_threshold=0.5,
                              adapter={"impl": "echo", "fallback": "factory.rollout.v1"})),
    ("id", node("factory.rollout.v9", analysis_type="rollout_defaults")),
]


@pytest.mark.parametrize("field,body", NAMINGS, ids=[f for f, _ in NAMINGS])
def test_naming_a_factory_module_anywhere_needs_self_edit(server, field, body):
    writer = server.client("write")
    dry = writer.post("/factory/nodes/dryrun", json=body)
    assert dry.status_code == 200, dry.text
    risks = {(r["code"], r["field"]) for r in dry.json()["report"]["risks"] if r["severity"] == "blocking"}
    assert ("self_edit_locked", field) in risks, dry.json()["report"]["risks"]
    for who in (writer, server.client("admin")):
        r = who.post("/factory/nodes", json=body)
        assert r.status_code == 403, r.text
        assert (r.json()["code"], r.json()["capability"]) == ("capability_disabled", "self_edit"), r.text
    assert server.client("read").get(f"/factory/nodes/{body['id']}").status_code == 404


def test_an_organ_naming_a_factory_module_needs_self_edit(server):
    organ = {"id": "organ.sneaky.v1", "nodes": ["factory.rollout.v1"],
             "channels": [{"name": "main", "nodes": ["factory.rollout.v1"]}]}
    r = server.client("write").post("/organs/build", json={"organ_template": organ, "dryrun": False})
    assert r.status_code == 403 and r.json()["capability"] == "self_edit", r.text
    dry = server.client("write").post("/organs/build", json={"organ_template": organ, "dryrun": True})
    assert dry.status_code == 422 and dry.json()["code"] == "self_edit_locked", dry.text


def test_a_node_on_a_factory_route_takes_nothing_over_once_self_edit_is_locked_again(server):
    """Made while self_edit was open, the node cannot move a step once it is locked (transitions, commands),
    and the factory's rollout defaults stay the built-in ones."""
    writer = server.client("write")
    body = NAMINGS[0][1]
    set_gate(server, "self_edit", "experimental")
    try:
        r = writer.post("/factory/nodes", json=body)
        assert r.status_code == 201, r.text
    finally:
        set_gate(server, "self_edit", "locked")
    r = writer.post(f"/factory/nodes/{body['id']}/approve", json={})
    assert r.status_code == 403 and r.json()["capability"] == "self_edit", r.text
    plan = writer.post("/factory/commands", json={"text": f"approve {body['id']}"})
    assert plan.status_code == 200, plan.text
    assert plan.json()["policy"]["allowed"] is False and plan.json()["confirm_token"] is None, plan.json()
    assert plan.json()["policy"]["steps"][0]["capability"] == "self_edit"
    assert server.client("read").get(f"/factory/nodes/{body['id']}").json()["state"] == "draft"


# ---- dry-runs run under the watchdog ---------------------------------------------------------------------

def test_a_dry_run_example_is_stopped_by_the_nodes_timeout(server):
    body = node("analysis.dry_loop.v1", script={"source": LOOP},
                limits={"timeout_ms": 300, "max_operations": 10_000_000_000}, examples=[{"input": {}}])
    r, elapsed, slowest = healthz_while(server, lambda: server.client("write").post("/factory/nodes/dryrun", json=body))
    assert r.status_code == 200, r.text
    example = r.json()["report"]["examples"][0]
    assert example["ok"] is False and example["error"]["kind"] == "timeout", example
    assert elapsed <= 0.3 + MARGIN_S, elapsed
    assert slowest < 1.0, slowest


def test_a_dry_run_is_capped_by_the_watchdogs_hard_limit(server):
    """A node asking for ten minutes gets WATCHDOG_HARD_MS in a dry-run, as in a real run."""
    body = node("analysis.dry_long.v1", script={"source": LOOP},
                limits={"timeout_ms": 600_000, "max_operations": 10_000_000_000}, examples=[{"input": {}}])
    r, elapsed, slowest = healthz_while(server, lambda: server.client("write").post("/factory/nodes/dryrun", json=body))
    assert r.status_code == 200, r.text
    assert r.json()["report"]["examples"][0]["error"]["kind"] == "timeout"
    assert elapsed <= HARD_MS / 1000 + MARGIN_S, elapsed
    assert slowest < 1.0, slowest


def test_an_organ_dry_run_runs_its_nodes_under_their_budgets(server):
    admin = server.client("admin")
    to_stable(admin, node("analysis.organ_loop.v1", script={"source": LOOP},
                          limits={"timeout_ms": 300, "max_operations": 10_000_000_000}))
    organ = {"id": "organ.looping.v1", "nodes": ["analysis.organ_loop.v1"],
             "channels": [{"name": "main", "nodes": ["analysis.organ_loop.v1"]}], "examples": [{"input": {}}]}
    r, elapsed, slowest = healthz_while(server, lambda: server.client("write").post(
        "/organs/build", json={"organ_template": organ, "dryrun": True}))
    assert r.status_code == 422 and r.json()["code"] == "example_failed", r.text
    assert "analysis.organ_loop.v1" in r.json()["reason"]
    assert elapsed <= 0.3 + MARGIN_S, elapsed
    assert slowest < 1.0, slowest


def test_a_dry_run_answers_a_locked_gate_before_compiling(server):
    """With factory_script locked, a script that would take long to parse is not parsed at all."""
    set_gate(server, "factory_script", "locked")
    try:
        source = "fn run(input) { " + "a.b.c = 1; " * 15_000 + "}"
        started = time.monotonic()
        r = server.client("write").post("/factory/nodes/dryrun", json=node("analysis.dry_locked.v1",
                                                                            script={"source": source}))
        elapsed = time.monotonic() - started
    finally:
        set_gate(server, "factory_script", "experimental")
    assert r.status_code == 200, r.text
    codes = [risk["code"] for risk in r.json()["report"]["risks"]]
    assert "backend_locked" in codes and "syntax_error" not in codes, codes
    assert r.json()["report"]["examples"] == []
    assert elapsed < 1.0, elapsed


# ---- a closed gate is a kill switch ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def running_script(server):
    """A stable script node, an adapter node that links to it, and an organ that contains it."""
    admin = server.client("admin")
    to_stable(admin, node("analysis.kill_me.v1", script={"source": ECHO_SCRIPT}))
    to_stable(admin, node("analysis.kill_link.v1", analysis_type="linker", adapter={"chain": ["analysis.kill_me.v1"]},
                          links=["analysis.kill_me.v1"]))
    organ = {"id": "organ.killable.v1", "nodes": ["analysis.kill_me.v1"],
             "channels": [{"name": "main", "nodes": ["analysis.kill_me.v1"]}]}
    r = admin.post("/organs/build", json={"organ_template": organ, "dryrun": False})
    assert r.status_code == 200 and r.json()["state"] == "draft", r.text
    for _ in range(3):
        r = admin.post("/factory/nodes/organ.killable.v1/approve", json={"force": True, "reason": "test"})
        assert r.status_code == 200, r.text
    return server


CALLS = [
    ("invoke", "/invoke/analysis.kill_me", "analysis.kill_me.v1"),
    ("run", "/factory/nodes/analysis.kill_me.v1/run", "analysis.kill_me.v1"),
    ("a linked node", "/invoke/analysis.kill_link", "analysis.kill_me.v1"),
    ("organ run", "/organs/organ.killable.v1/run", "analysis.kill_me.v1"),
    ("organ invoke", "/invoke/organ.killable", "analysis.kill_me.v1"),
]


@pytest.mark.parametrize("state", ["locked", "disabled"])
def test_a_closed_backend_gate_stops_every_way_of_running_its_nodes(running_script, state):
    server = running_script
    writer = server.client("write")
    for _, path, _ in CALLS:
        r = writer.post(path, json={"input": {"a": 1}})
        assert r.status_code == 200 and r.json()["output"] == {"a": 1}, (path, r.text)
    set_gate(server, "factory_script", state)
    try:
        for name, path, culprit in CALLS:
            r = writer.post(path, json={"input": {"a": 1}})
            assert r.status_code == 403, (name, r.text)
            body = r.json()
            assert (body["code"], body["capability"], body["node"]) == \
                ("capability_disabled", "factory_script", culprit), (name, body)
            assert state in body["reason"], body
    finally:
        set_gate(server, "factory_script", "experimental")
    assert writer.post("/invoke/analysis.kill_me", json={"input": {"a": 2}}).json()["output"] == {"a": 2}


def test_training_pauses_while_its_backend_gate_is_closed(running_script):
    server = running_script
    admin = server.client("admin")
    body = node("analysis.kill_train.v1", script={"source": "fn run(input) { #{label: if input.x > global::k { \"hi\" } "
                                                          "else { \"lo\" }} }"},
                params={"k": {"value": 5, "min": 0, "max": 10, "step": 1, "tunable": True}})
    assert admin.post("/factory/nodes", json=body).status_code == 201
    set_gate(server, "factory_script", "locked")
    try:
        data = [{"input": {"x": x}, "expected": "hi" if x > 2 else "lo"} for x in range(6)]
        r = admin.post(f"/factory/nodes/{body['id']}/train", json={"dataset": data, "objective": "accuracy",
                                                                   "field": "label"})
        assert r.status_code == 202, r.text
        run_id = r.json()["run_id"]
        run = wait_run(admin, run_id, lambda run: run["state"] == "paused")
        assert run["iterations"] == [], run
    finally:
        set_gate(server, "factory_script", "experimental")
    run = wait_run(admin, run_id, lambda run: run["state"] not in ("queued", "running", "paused"))
    assert run["iterations"] and run["state"] != "failed", run


def test_a_factory_modules_route_takes_no_outside_traffic_while_self_edit_is_locked(server):
    """Requests counted on `factory.*` routes would feed its candidates' analysis: only the factory's own."""
    r = server.client("write").post("/invoke/factory.rollout", json={"input": {}})
    assert r.status_code == 403 and r.json()["capability"] == "self_edit", r.text


def test_a_blocked_organ_dry_run_runs_nothing(server):
    """An organ naming a factory module is refused before its examples would run that module."""
    organ = {"id": "organ.peek.v1", "cells": ["factory.selector.v1"], "examples": [{"input": {}}]}
    r = server.client("write").post("/organs/build", json={"organ_template": organ, "dryrun": True})
    assert r.status_code == 422 and r.json()["code"] == "self_edit_locked", r.text
    assert "examples" not in r.json()["report"], r.json()["report"]


@pytest.mark.parametrize("action", ["run", "train"])
def test_a_writer_neither_runs_nor_trains_a_factory_module(server, action):
    body = {"input": {}} if action == "run" else {"dataset": [{"input": {}, "expected": 1}]}
    for prefix in ("/factory/nodes", "/factory/cells"):
        r = server.client("write").post(f"{prefix}/factory.selector.v1/{action}", json=body)
        assert r.status_code == 403 and r.json()["capability"] == "self_edit", r.text
    if action == "train":
        plan = server.client("write").post("/factory/commands", json={"text": "train factory.selector.v1"})
        assert plan.status_code == 200, plan.text
        assert plan.json()["policy"]["allowed"] is False and plan.json()["confirm_token"] is None, plan.json()
        assert plan.json()["policy"]["steps"][0]["capability"] == "self_edit"


# ---- in-process implementations stop themselves: an abandoned worker does not burn on -------------------

def test_an_abandoned_library_call_stops_at_its_deadline_and_frees_its_worker(server):
    """keyword_classify with a thousand near-miss phrases over a long text: the watchdog abandons the call at
    its timeout, and the implementation itself stops there too (no worker stays busy, /healthz stays fast)."""
    keywords = {"spam": ["a " * 15 + f"b{i}" for i in range(1_000)]}
    body = node("analysis.slow_classify.v1", analysis_type="keyword_classify", params={"keywords": {"value": keywords}},
                limits={"timeout_ms": 300}, examples=[{"input": {"text": "a " * 49_000}}])
    r, elapsed, slowest = healthz_while(server, lambda: server.client("write").post("/factory/nodes/dryrun",
                                                                                    json=body))
    assert r.status_code == 200, r.text
    assert r.json()["report"]["examples"][0]["error"]["kind"] == "timeout"
    assert elapsed <= 0.3 + MARGIN_S and slowest < 1.0, (elapsed, slowest)
    deadline = time.monotonic() + 2.0
    while metrics(server.client("read"))["factory_sandbox_workers_busy"] > 0:
        assert time.monotonic() < deadline, "a worker is still busy with the abandoned call"
        time.sleep(0.05)


def test_a_dry_runs_examples_share_one_budget(server):
    """A hundred looping examples of 300 ms each: the dry-run stops running them at WATCHDOG_HARD_MS."""
    body = node("analysis.dry_many.v1", script={"source": LOOP},
                limits={"timeout_ms": 300, "max_operations": 10_000_000_000}, examples=[{"input": {}}] * 100)
    r, elapsed, slowest = healthz_while(server, lambda: server.client("write").post("/factory/nodes/dryrun",
                                                                                    json=body))
    assert r.status_code == 200, r.text
    examples = r.json()["report"]["examples"]
    assert len(examples) == 100 and all(e["error"]["kind"] == "timeout" for e in examples)
    assert "were spent before this one" in examples[-1]["error"]["reason"], examples[-1]
    assert elapsed <= HARD_MS / 1000 + MARGIN_S, elapsed
    assert slowest < 1.0, slowest
