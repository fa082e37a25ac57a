"""The Training Orchestrator over the HTTP API, with real runs on real nodes (no mocks): a keyword_classify
threshold converges to its known best; an unreachable target stops at max_iterations; nothing changes on
the node until a human approves; approving an earlier iteration restores its params; safe-mode pauses a
run and it resumes; approve_every waits for a human; bad bodies are 422 naming the field; scopes; the plot;
a run in progress survives a restart of its replica (it is resumed, not re-evaluated)."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from support import auth, make_settings

from neira_factory.api.app import create_app
from neira_factory.domain.actors import Actor
from neira_factory.services import capabilities, training
from neira_factory.services.bootstrap import build_services
from neira_factory.store.repositories import now
from neira_factory.config.tokens import TokenRegistry

ADMIN, WRITE, READ = auth("admin"), auth("write"), auth("read")
NODE = "analysis.spam.v1"
PARAMS = {"keywords": {"value": {"spam": ["free", "win", "prize", "cash"]}},
          "threshold": {"value": 0.5, "min": 0, "max": 1, "tunable": True},
          "prior": {"value": 0.5}}
# With prior 0.5 the confidence of n hits is n / (n + 0.5): 1 → .667, 2 → .8, 3 → .857, 4 → .889. Three
# hits or more are spam here, fewer are not: accuracy is 1.0 exactly for thresholds in (0.8, 0.857].
DATA = [{"input": {"text": "free win prize"}, "expected": "spam"},
        {"input": {"text": "free cash win prize"}, "expected": "spam"},
        {"input": {"text": "free win"}, "expected": "uncertain"},
        {"input": {"text": "win"}, "expected": "uncertain"},
        {"input": {"text": "hello there"}, "expected": "uncertain"}]
BEST = (0.8, 6 / 7)
ACTIVE = ("queued", "running", "paused")


def app_for(f):
    return TestClient(create_app(f, TokenRegistry.load(f.settings)))


@pytest.fixture
def rt(tmp_path):
    f = build_services(make_settings(tmp_path))
    yield app_for(f), f
    f.trainers.stop()
    f.db.dispose()


def make_node(client, node_id=NODE, **extra):
    body = {"id": node_id, "version": "0.1.0", "analysis_type": node_id.split(".")[1],
            "adapter": {"impl": "keyword_classify"}, "params": PARAMS, **extra}
    response = client.post("/factory/nodes", json=body, headers=WRITE)
    assert response.status_code == 201, response.text
    return node_id


def train(client, node_id=NODE, headers=WRITE, **body):
    body = {"dataset": DATA, "objective": "accuracy", **body}
    return client.post(f"/factory/nodes/{node_id}/train", json=body, headers=headers)


def started(client, node_id=NODE, **body) -> str:
    response = train(client, node_id, **body)
    assert response.status_code == 202, response.text
    assert response.json()["state"] == "queued"
    return response.json()["run_id"]


def wait(client, run_id, until=lambda run: run["state"] not in ACTIVE, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        run = client.get(f"/training/{run_id}", headers=READ).json()
        if until(run):
            return run
        assert time.monotonic() < deadline, f"run stuck: {run['state']} after {run['iterations_done']} iterations"
        time.sleep(0.05)


def template_of(client, node_id):
    response = client.get(f"/factory/nodes/{node_id}", headers=READ)
    assert response.status_code == 200, response.text
    return response.json()


def metric(f, name):
    for family in f.metrics.registry.collect():
        for sample in family.samples:
            if sample.name == name:
                yield sample.labels, sample.value


def events(f, prefix="training."):
    return [e for _, e in f.bus.recent if e.type.startswith(prefix)]


# ---- runs, iterations, convergence ------------------------------------------------------------------

def test_a_keyword_classify_threshold_converges_to_its_known_best(rt):
    client, f = rt
    make_node(client)
    run_id = started(client, patience=6, max_iterations=40)
    run = wait(client, run_id)
    assert run["state"] == "converged" and run["outcome"] == "converged", run["reason"]
    assert run["best"]["metric"] == 1.0
    assert BEST[0] < run["best"]["params"]["threshold"] <= BEST[1]
    assert run["needs_decision"] and "no improvement" in run["reason"]
    iterations = run["iterations"]
    assert [it["n"] for it in iterations] == list(range(1, run["iterations_done"] + 1))
    assert iterations[0]["params"] == {"threshold": 0.5}  # the baseline: the node's own value
    assert iterations[0]["metric"] == 0.6 and iterations[0]["failed"] == 2
    assert {(fl["input"]["text"], fl["expected"], fl["got"]["label"]) for fl in iterations[0]["failures"]} == {
        ("free win", "uncertain", "spam"), ("win", "uncertain", "spam")}
    assert all(it["examples"] == len(DATA) and it["ms"] > 0 for it in iterations)
    best = max(iterations, key=lambda it: it["metric"])
    assert run["best"]["iteration"] == best["n"]
    counted = {labels["outcome"]: value for labels, value in metric(f, "training_iterations_total")}
    assert counted == {"ok": len(iterations), "error": 0}
    assert {labels["cause"]: value for labels, value in metric(f, "training_converged_total")}["patience"] == 1
    types = [e.type for e in events(f)]
    assert types[0] == "training.started" and types[-1] == "training.converged"
    assert types.count("training.progress") == len(iterations)
    progress = [e for e in events(f) if e.type == "training.progress"]
    assert progress[-1].data["best_metric"] == 1.0 and progress[0].data["iteration"] == 1


def test_a_run_that_cannot_reach_its_target_stops_not_converged_at_max_iterations(rt):
    client, _ = rt
    make_node(client)
    contradictory = [*DATA, {"input": {"text": "free win prize"}, "expected": "uncertain"}]
    run = wait(client, started(client, dataset=contradictory, target=1.0, patience=100, max_iterations=5))
    assert run["state"] == "not_converged" and run["iterations_done"] == 5 and len(run["iterations"]) == 5
    assert "max_iterations 5" in run["reason"] and run["best"]["metric"] < 1.0


def test_a_reached_target_converges_at_once(rt):
    client, f = rt
    make_node(client)
    run = wait(client, started(client, target=0.8, patience=100))
    assert run["state"] == "converged" and "target 0.8 reached" in run["reason"]
    assert run["best"]["metric"] >= 0.8 and run["iterations"][-1]["metric"] >= 0.8
    assert {labels["cause"]: value for labels, value in metric(f, "training_converged_total")}["target"] == 1


def test_repeated_evaluation_errors_fail_the_run(rt):
    client, _ = rt
    make_node(client)
    numbers = [{"input": d["input"], "expected": 1.0} for d in DATA]  # mse on a classifier: no `value`
    run = wait(client, started(client, dataset=numbers, objective="mse", max_errors=3, patience=100))
    assert run["state"] == "failed" and run["iterations_done"] == 3 and run["best"] is None
    assert "3 evaluations failed in a row" in run["reason"] and "value" in run["reason"]
    assert all(it["metric"] is None and it["error"] for it in run["iterations"])
    approve = client.post(f"/training/{run['run_id']}/approve", json={}, headers=WRITE)
    assert approve.status_code == 409 and approve.json()["code"] == "nothing_to_approve"


def test_f1_on_a_field_of_the_output(rt):
    client, _ = rt
    make_node(client)
    labelled = [{"input": d["input"], "expected": {"label": d["expected"]}} for d in DATA]
    run = wait(client, started(client, dataset=labelled, objective="f1", field="label", target=1.0))
    assert run["state"] == "converged" and run["best"]["metric"] == 1.0
    assert BEST[0] < run["best"]["params"]["threshold"] <= BEST[1]


# ---- the human in the loop ------------------------------------------------------------------------

def test_nothing_changes_on_the_node_until_a_human_approves(rt):
    client, f = rt
    make_node(client)
    before = template_of(client, NODE)
    run = wait(client, started(client, patience=6, max_iterations=40))
    assert run["state"] == "converged"
    after = template_of(client, NODE)
    assert after["artifact_sha256"] == before["artifact_sha256"] and after["state"] == "draft"
    assert after["template"]["params"]["threshold"]["value"] == 0.5
    assert client.get("/factory/nodes/analysis.spam.v2", headers=READ).status_code == 404
    assert [n["id"] for n in client.get("/factory/nodes?route=analysis.spam", headers=READ).json()] == [NODE]

    approved = client.post(f"/training/{run['run_id']}/approve", json={"reason": "looks right"}, headers=WRITE)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["state"] == "approved" and body["result_node"] == "analysis.spam.v2"
    assert body["created"]["id"] == "analysis.spam.v2" and body["created"]["state"] == "draft"
    assert body["created"]["route"] == "analysis.spam"
    v2 = template_of(client, "analysis.spam.v2")
    assert v2["state"] == "draft" and v2["version"] == "0.1.1"
    assert v2["template"]["params"]["threshold"]["value"] == run["best"]["params"]["threshold"]
    assert v2["template"]["params"]["threshold"]["tunable"] is True
    assert v2["template"]["params"]["keywords"]["value"] == PARAMS["keywords"]["value"]
    assert v2["template"]["metadata"]["training"]["run_id"] == run["run_id"]
    assert template_of(client, NODE)["artifact_sha256"] == before["artifact_sha256"]  # v1 still as it was
    # the new version follows the normal lifecycle
    assert client.post("/factory/nodes/analysis.spam.v2/approve", json={}, headers=WRITE).json()["state"] == "canary"
    ran = client.post("/factory/nodes/analysis.spam.v2/run", json={"input": {"text": "free win"}}, headers=WRITE)
    assert ran.json()["output"]["label"] == "uncertain"  # v1 said spam: the trained threshold is in force

    audit = client.get(f"/audit?resource=training:{run['run_id']}", headers=READ).json()
    assert [a["action"] for a in audit] == ["training.approve", "training.start"]
    assert audit[0]["actor"] == "writer" and audit[0]["reason"] == "looks right"
    assert audit[0]["after"]["draft"] == "analysis.spam.v2"
    decided = [e for e in events(f) if e.type == "training.decided"]
    assert decided[-1].data["decision"] == "approve" and decided[-1].data["draft"] == "analysis.spam.v2"


def test_approving_an_earlier_iteration_restores_its_params(rt):
    client, _ = rt
    make_node(client)
    run = wait(client, started(client, patience=6, max_iterations=40))
    run_id = run["run_id"]
    assert client.post(f"/training/{run_id}/approve", json={}, headers=WRITE).status_code == 200
    fourth = run["iterations"][3]
    back = client.post(f"/training/{run_id}/approve", json={"iteration": 4, "reason": "roll back"}, headers=WRITE)
    assert back.status_code == 200, back.text
    assert back.json()["created"]["id"] == "analysis.spam.v3"
    v3 = template_of(client, "analysis.spam.v3")["template"]
    assert v3["params"]["threshold"]["value"] == fourth["params"]["threshold"]
    assert v3["metadata"]["training"]["iteration"] == 4
    assert [d["iteration"] for d in back.json()["decisions"] if d["action"] == "approve"] == [run["best"]["iteration"], 4]
    first = client.post(f"/training/{run_id}/approve", json={"iteration": 1}, headers=WRITE)
    assert template_of(client, first.json()["created"]["id"])["template"]["params"]["threshold"]["value"] == 0.5
    missing = client.post(f"/training/{run_id}/approve", json={"iteration": 999}, headers=WRITE)
    assert missing.status_code == 422 and missing.json()["field"] == "iteration"
    assert client.post(f"/training/{run_id}/reject", json={}, headers=WRITE).status_code == 409


def test_reject_discards_and_nothing_is_created(rt):
    client, _ = rt
    make_node(client)
    run = wait(client, started(client))
    rejected = client.post(f"/training/{run['run_id']}/reject", json={"reason": "no"}, headers=WRITE)
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert rejected.json()["outcome"] == run["outcome"]
    again = client.post(f"/training/{run['run_id']}/approve", json={}, headers=WRITE)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert client.get("/factory/nodes/analysis.spam.v2", headers=READ).status_code == 404
    assert client.get(f"/audit?resource=training:{run['run_id']}", headers=READ).json()[0]["action"] == "training.reject"


def test_approve_every_waits_for_a_human(rt):
    client, f = rt
    make_node(client)
    run_id = started(client, approve_every=2, patience=100, max_iterations=5)
    run = wait(client, run_id)
    assert run["state"] == "waiting" and run["iterations_done"] == 2 and run["needs_decision"]
    early = client.post(f"/training/{run_id}/approve", json={}, headers=WRITE)
    assert early.status_code == 409 and early.json()["code"] == "invalid_transition"
    assert client.post(f"/training/{run_id}/continue", json={}, headers=WRITE).json()["state"] == "queued"
    assert wait(client, run_id)["iterations_done"] == 4
    assert client.post(f"/training/{run_id}/continue", json={}, headers=WRITE).status_code == 200
    run = wait(client, run_id)
    assert run["state"] == "not_converged" and run["iterations_done"] == 5
    refused = client.post(f"/training/{run_id}/continue", json={}, headers=WRITE)
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_transition"
    assert [d["action"] for d in run["decisions"]] == ["continue", "continue"]
    assert [e.type for e in events(f)].count("training.waiting") == 2


def test_rejecting_a_waiting_run_stops_it(rt):
    client, _ = rt
    make_node(client)
    run_id = started(client, approve_every=1, patience=100)
    wait(client, run_id)
    assert client.post(f"/training/{run_id}/reject", json={}, headers=WRITE).json()["state"] == "rejected"
    assert client.post(f"/training/{run_id}/continue", json={}, headers=WRITE).status_code == 409


def test_safe_mode_pauses_a_run_and_it_resumes_after(rt):
    client, f = rt
    make_node(client)
    capabilities.set_safe_mode(f.capabilities, Actor("admin", "admin"), True)
    assert train(client).json()["code"] == "safe_mode"  # a writer cannot start one in safe-mode
    run_id = started(client, headers=ADMIN, approve_every=3, patience=100, max_iterations=6)
    run = wait(client, run_id, lambda r: r["state"] == "paused")
    time.sleep(0.5)
    assert client.get(f"/training/{run_id}", headers=READ).json() | {"updated_at": None} == run | {"updated_at": None}
    assert run["iterations_done"] == 0
    assert client.get(f"/training/{run_id}/plot.png", headers=READ).status_code == 404  # no iteration yet
    capabilities.set_safe_mode(f.capabilities, Actor("admin", "admin"), False)
    run = wait(client, run_id)
    assert run["state"] == "waiting" and run["iterations_done"] == 3
    # paused in the middle: at a checkpoint, safe-mode on, a human (admin in safe-mode) lets it go on
    capabilities.set_safe_mode(f.capabilities, Actor("admin", "admin"), True)
    assert client.post(f"/training/{run_id}/continue", json={}, headers=WRITE).json()["code"] == "safe_mode"
    assert client.post(f"/training/{run_id}/continue", json={}, headers=ADMIN).status_code == 200
    run = wait(client, run_id, lambda r: r["state"] == "paused")
    time.sleep(0.3)
    assert client.get(f"/training/{run_id}", headers=READ).json()["iterations_done"] == 3
    capabilities.set_safe_mode(f.capabilities, Actor("admin", "admin"), False)
    run = wait(client, run_id)
    assert run["state"] == "not_converged" and run["iterations_done"] == 6
    types = [e.type for e in events(f)]
    assert types.count("training.paused") == 2 and types.count("training.resumed") == 2


def test_the_training_gate_refuses_new_runs_and_pauses_running_ones(rt):
    client, f = rt
    make_node(client)
    lock = {"state": "locked", "reason": "no training now"}
    run_id = started(client, approve_every=2, patience=100, max_iterations=4)
    run = wait(client, run_id)
    assert run["state"] == "waiting" and run["iterations_done"] == 2
    assert client.put("/capabilities/training", json=lock, headers=ADMIN).status_code == 200
    refused = train(client, headers=ADMIN)  # the gate stops everyone, an admin too
    assert refused.status_code == 403 and refused.json()["capability"] == "training", refused.text
    assert client.post(f"/training/{run_id}/continue", json={}, headers=WRITE).status_code == 200
    run = wait(client, run_id, lambda r: r["state"] == "paused")
    time.sleep(0.3)
    assert client.get(f"/training/{run_id}", headers=READ).json()["iterations_done"] == 2
    assert client.put("/capabilities/training", json={"state": "stable"}, headers=ADMIN).status_code == 200
    run = wait(client, run_id)
    assert run["state"] == "not_converged" and run["iterations_done"] == 4
    paused = [e for e in events(f) if e.type == "training.paused"]
    assert [e.data["why"] for e in paused] == ["capability training is off"]


def test_four_eyes_the_starter_cannot_approve(tmp_path):
    f = build_services(make_settings(tmp_path, four_eyes=True))
    try:
        client = app_for(f)
        make_node(client)
        run = wait(client, started(client))
        refused = client.post(f"/training/{run['run_id']}/approve", json={}, headers=WRITE)
        assert refused.status_code == 403 and refused.json()["code"] == "four_eyes"
        assert client.post(f"/training/{run['run_id']}/approve", json={}, headers=ADMIN).status_code == 200
    finally:
        f.trainers.stop()
        f.db.dispose()


# ---- datasets, defaults, bad bodies, scopes ------------------------------------------------------

def test_a_dataset_file_under_var_datasets(rt, tmp_path):
    client, _ = rt
    make_node(client)
    directory = tmp_path / "datasets"
    directory.mkdir()
    (directory / "spam.jsonl").write_text("# labelled\n" + "\n".join(json.dumps(d) for d in DATA) + "\n")
    run = wait(client, started(client, dataset={"file": "spam.jsonl"}, target=1.0))
    assert run["state"] == "converged" and run["dataset"]["source"] == "file:spam.jsonl"
    assert run["dataset"]["size"] == len(DATA)
    (directory / "escape.jsonl").symlink_to(tmp_path / "factory.db")
    for name in ("escape.jsonl", "../factory.db", str(tmp_path / "factory.db"), "/etc/passwd", "missing.jsonl"):
        response = train(client, dataset={"file": name})
        assert response.status_code == 422 and response.json()["field"] == "dataset.file", (name, response.text)


def test_train_a_node_with_an_empty_body_uses_its_examples_and_the_defaults(rt):
    client, f = rt
    examples = [{"input": {"text": "free win prize"}, "expected": {"label": "spam"}},
                {"input": {"text": "hello"}, "expected": {"label": "uncertain"}}]
    make_node(client, examples=examples)
    body = training.start(f.training, Actor("writer", "write"), NODE, {})  # what the command "train a node" calls
    assert body.state == "queued" and body.run_id
    assert (body.objective, body.max_iterations, body.tolerance, body.patience) == ("exact_match", 20, 1e-3, 3)
    assert body.dataset["source"] == "examples" and body.dataset["size"] == 2
    assert body.params == ["threshold"]
    run = wait(client, body.run_id)
    assert run["state"] == "converged" and run["best"]["metric"] == 1.0


@pytest.mark.parametrize("body,field", [
    ({"objective": "r2"}, "body.objective"),
    ({"params": ["nope"]}, "params"),
    ({"params": ["keywords"]}, "params"),
    ({"params": ["threshold", "threshold"]}, "body.params"),
    ({"max_iterations": 0}, "body.max_iterations"),
    ({"patience": 0}, "body.patience"),
    ({"tolerance": -1}, "body.tolerance"),
    ({"approve_every": 0}, "body.approve_every"),
    ({"surprise": 1}, "body.surprise"),
    ({"field": "label["}, "field"),
    ({"dataset": []}, "dataset"),
    ({"dataset": "spam.jsonl"}, "dataset"),
    ({"dataset": [{"input": {"text": "a"}}]}, "dataset.0.expected"),
    ({"dataset": {"file": "x.jsonl", "more": 1}}, "dataset"),
    ({"dataset": None}, "dataset"),  # and the node has no examples
])
def test_bad_bodies_are_422_naming_the_field(rt, body, field):
    client, _ = rt
    make_node(client)
    response = client.post(f"/factory/nodes/{NODE}/train", json={"dataset": DATA, **body}, headers=WRITE)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field and response.json()["reason"]
    if field == "params":
        assert response.json()["param"] == body["params"][0] and body["params"][0] in response.json()["reason"]
    assert client.get("/training", headers=READ).json() == []


def test_nodes_that_cannot_be_trained(rt):
    client, _ = rt
    assert train(client, "analysis.none.v1").status_code == 404
    make_node(client, "analysis.plain.v1", params={"keywords": PARAMS["keywords"]})
    response = train(client, "analysis.plain.v1")
    assert response.status_code == 422 and "no tunable params" in response.json()["reason"]
    make_node(client)
    assert client.post(f"/factory/nodes/{NODE}/quarantine", json={"reason": "t"}, headers=ADMIN).status_code == 200
    assert train(client).status_code == 409 and train(client).json()["code"] == "not_trainable"


def test_read_scope_reads_runs_but_cannot_start_or_decide(rt):
    client, _ = rt
    make_node(client)
    refused = train(client, headers=READ)
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert client.post(f"/factory/nodes/{NODE}/train", json={}).status_code == 401
    run_id = started(client)
    run = wait(client, run_id)
    for action in ("approve", "reject", "continue"):
        response = client.post(f"/training/{run_id}/{action}", json={}, headers=READ)
        assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"
    listed = client.get(f"/training?node={NODE}", headers=READ).json()
    assert [r["run_id"] for r in listed] == [run_id] and "iterations" not in listed[0]
    assert client.get("/training?node=analysis.other.v1", headers=READ).json() == []
    assert client.get(f"/training?state={run['state']}", headers=READ).json()[0]["run_id"] == run_id
    assert client.get("/training?state=bogus", headers=READ).status_code == 422
    assert client.get("/training/tr-missing", headers=READ).status_code == 404
    assert client.post(f"/factory/cells/{NODE}/train", json={"dataset": DATA}, headers=WRITE).status_code == 202


def test_the_plot_is_a_png_of_the_metric(rt):
    client, _ = rt
    make_node(client)
    run_id = started(client, target=1.0)
    wait(client, run_id)
    response = client.get(f"/training/{run_id}/plot.png", headers=READ)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n" and len(response.content) > 5000
    assert client.get("/training/tr-nope/plot.png", headers=READ).status_code == 404


# ---- restarts --------------------------------------------------------------------------------------

def iterations_of(f, run_id):
    with f.read() as uow:
        return uow.training.iterations(run_id)


def test_a_run_in_progress_is_resumed_after_a_restart_without_re_evaluating(tmp_path):
    """Replica A drives a run, has recorded 3 iterations and is paused (safe-mode) when it shuts down: it gives
    the run up. Replica B starts on the same database, takes the run over, replays the 3 recorded iterations
    and goes on; the run ends exactly as one that was never interrupted."""
    admin = Actor("admin", "admin")
    reference_factory = build_services(make_settings(tmp_path / "ref"))
    with app_for(reference_factory) as reference:
        make_node(reference)
        expected = wait(reference, started(reference, patience=6, max_iterations=40))
    reference_factory.trainers.stop()
    reference_factory.db.dispose()

    a = build_services(make_settings(tmp_path, replica="replica-a"))
    with app_for(a) as client:
        make_node(client)
        run_id = started(client, patience=6, max_iterations=40, approve_every=3)
        assert wait(client, run_id)["state"] == "waiting"
        capabilities.set_safe_mode(a.capabilities, admin, True)
        assert client.post(f"/training/{run_id}/continue", json={}, headers=ADMIN).status_code == 200
        wait(client, run_id, lambda r: r["state"] == "paused")
        before = iterations_of(a, run_id)
    # the lifespan has ended: A gave the run up, still paused, for the next replica
    with a.read() as uow:
        stored = uow.training.get_run(run_id)
    assert stored["state"] == "paused" and stored["owner"] is None and len(before) == 3
    capabilities.set_safe_mode(a.capabilities, admin, False)
    a.db.dispose()

    b = build_services(make_settings(tmp_path, replica="replica-b"))
    try:
        with app_for(b) as client:
            run = wait(client, run_id, lambda r: r["state"] in ("waiting", "converged"))
            while run["state"] == "waiting":
                assert client.post(f"/training/{run_id}/continue", json={}, headers=WRITE).status_code == 200
                run = wait(client, run_id, lambda r: r["state"] not in ACTIVE)
        after = iterations_of(b, run_id)
        assert after[:3] == before  # replayed, not evaluated again
        assert [it["params"] for it in run["iterations"]] == [it["params"] for it in expected["iterations"]]
        assert run["best"] == expected["best"] and run["state"] == expected["state"] == "converged"
        assert any(e.type == "training.resumed" and e.data.get("why") == "taken over" for _, e in b.bus.recent)
    finally:
        b.trainers.stop()
        b.db.dispose()


def test_a_crashed_replicas_run_is_taken_over_once_its_lease_expires(rt):
    client, f = rt
    make_node(client)
    run_id = started(client, approve_every=2, patience=100, max_iterations=4)
    wait(client, run_id)
    with f.write() as uow:  # as if a replica died while it drove the run: owner set, heartbeat old
        uow.training.update_run(run_id, state="running", owner="dead-replica",
                                heartbeat_at=now() - timedelta(seconds=training.LEASE_S - 5))
    assert f.trainers.current().recover() == []  # its lease has not expired yet
    with f.write() as uow:
        uow.training.update_run(run_id, heartbeat_at=now() - timedelta(seconds=training.LEASE_S + 5))
    assert f.trainers.current().recover() == [run_id]
    run = wait(client, run_id)
    assert run["state"] == "not_converged" and run["iterations_done"] == 4 and len(run["iterations"]) == 4


def test_a_run_and_its_approval_on_each_store(tmp_path, db_url):
    f = build_services(make_settings(tmp_path, url=db_url))
    try:
        client = app_for(f)
        make_node(client)
        run = wait(client, started(client, patience=6, max_iterations=40))
        assert run["state"] == "converged" and BEST[0] < run["best"]["params"]["threshold"] <= BEST[1]
        assert client.post(f"/training/{run['run_id']}/approve", json={}, headers=WRITE).json()["result_node"] == \
            "analysis.spam.v2"
        with f.write() as uow:
            uow.training.update_run(run["run_id"], state="running", owner=None)
        assert f.trainers.current().recover() == [run["run_id"]]  # claims an ownerless active run at once
    finally:
        f.trainers.stop()
        f.db.dispose()


# ---- the authorization matrix of the training endpoints (as tests/integration/test_api_authorization.py) ----

MATRIX = [  # (method, path, body, policy action); {done}: a finished run, {waiting}: one at a checkpoint
    ("POST", f"/factory/nodes/{NODE}/train", {"dataset": DATA, "max_iterations": 1}, "training.start"),
    ("GET", "/training", None, "training.read"),
    ("GET", "/training/{done}", None, "training.read"),
    ("GET", "/training/{done}/plot.png", None, "training.read"),
    ("POST", "/training/{done}/approve", {"reason": "ok"}, "training.decide"),
    ("POST", "/training/{done}/reject", {}, "training.decide"),
    ("POST", "/training/{waiting}/continue", {}, "training.decide"),
]


@pytest.mark.parametrize("safe_mode", [False, True], ids=["normal", "safe-mode"])
@pytest.mark.parametrize("scope", [None, "read", "write", "admin"], ids=["no-token", "read", "write", "admin"])
@pytest.mark.parametrize("method,path,body,action", MATRIX, ids=[f"{m} {p}" for m, p, *_ in MATRIX])
def test_matrix(rt, method, path, body, action, scope, safe_mode):
    from neira_factory.policy import ACTIONS

    client, f = rt
    make_node(client)
    done = wait(client, started(client, max_iterations=2))["run_id"]
    waiting = wait(client, started(client, approve_every=1, patience=100))["run_id"]
    if safe_mode:
        capabilities.set_safe_mode(f.capabilities, Actor("admin", "admin"), True)
    response = client.request(method, path.format(done=done, waiting=waiting), json=body,
                              headers=auth(scope) if scope else {})
    rule, rank = ACTIONS[action], {"read": 0, "write": 1, "admin": 2}
    if scope is None:
        assert response.status_code == 401
    elif rank[scope] < rank[rule.scope]:
        assert response.status_code == 403 and response.json()["code"] == "insufficient_scope", response.text
    elif rule.mutates and safe_mode and scope != "admin":
        assert response.status_code == 403 and response.json()["code"] == "safe_mode", response.text
    else:
        assert response.status_code in (200, 202), response.text


def test_the_matrix_covers_every_training_action():
    from neira_factory.policy import ACTIONS

    assert {action for *_, action in MATRIX} == {a for a in ACTIONS if a.startswith("training.")}
