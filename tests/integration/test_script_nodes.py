"""Script (Rhai) nodes over HTTP: the locked gate, dry-run findings, create → approve → run, and a runaway
script stopped at its timeout."""
from __future__ import annotations

import time
from pathlib import Path

import yaml

from support import auth

ADMIN, WRITE, READ = auth("admin"), auth("write"), auth("read")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "script" / "analysis.word_count.v1.yaml"
GOOD = {
    "id": "analysis.shout.v1", "version": "0.1.0", "analysis_type": "shout", "backend": "script",
    "script": {"source": 'fn run(input) {\n  print("shouting");\n  #{text: input.text.to_upper() + global::suffix}\n}'},
    "params": {"suffix": {"value": "!"}},
    "io": {"input": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
           "output": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}},
    "examples": [{"input": {"text": "hi"}, "expected": {"text": "HI!"}}],
}
BROKEN = {**GOOD, "id": "analysis.shout.v2", "script": {"source": "fn run(input) {\n  let x = ;\n}"}}
RUNAWAY = {"id": "analysis.spin.v1", "version": "0.1.0", "analysis_type": "spin", "backend": "script",
           "script": {"source": "fn run(input) { loop {} }"},
           "limits": {"timeout_ms": 200, "max_operations": 10_000_000_000}}


def unlock(client) -> None:
    r = client.put("/capabilities/factory_script", json={"state": "experimental", "reason": "script tests"},
                   headers=ADMIN)
    assert r.status_code == 200, r.text


def risks(body) -> dict[str, dict]:
    return {r["code"]: r for r in body["report"]["risks"]}


def test_script_nodes_are_refused_while_the_gate_is_locked(client):
    gates = client.get("/capabilities", headers=READ).json()["capabilities"]
    assert gates["factory_script"]["state"] == "locked"
    r = client.post("/factory/nodes", json=GOOD, headers=WRITE)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "capability_disabled" and r.json()["capability"] == "factory_script"
    assert client.get("/factory/nodes/analysis.shout.v1", headers=READ).status_code == 404
    # the dry-run says the same, as a blocking risk, and still checks the script
    r = client.post("/factory/nodes/dryrun", json=GOOD, headers=WRITE)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is False
    assert risks(r.json())["backend_locked"]["severity"] == "blocking"


def test_dry_run_shows_a_syntax_error_with_its_position(client):
    unlock(client)
    r = client.post("/factory/nodes/dryrun", json=BROKEN, headers=WRITE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is False
    found = risks(body)["syntax_error"]
    assert found["severity"] == "blocking" and found["field"] == "script.source"
    assert found["message"].startswith("line 2, column ")
    r = client.post("/factory/nodes", json=BROKEN, headers=WRITE)
    assert r.status_code == 422 and r.json()["code"] == "dry_run_failed"


def test_dry_run_runs_the_examples_of_a_good_script(client):
    unlock(client)
    r = client.post("/factory/nodes/dryrun", json=GOOD, headers=WRITE)
    body = r.json()
    assert body["ok"] is True, body
    assert body["report"]["backend"] == "script"
    assert [e["ok"] for e in body["report"]["examples"]] == [True]
    assert body["report"]["examples"][0]["output"] == {"text": "HI!"}


def test_a_failing_example_blocks_with_the_scripts_error(client):
    unlock(client)
    failing = {**GOOD, "id": "analysis.shout.v3",
               "script": {"source": 'fn run(input) {\n  throw "no shouting today";\n}'}}
    body = client.post("/factory/nodes/dryrun", json=failing, headers=WRITE).json()
    assert body["ok"] is False
    example = body["report"]["examples"][0]
    assert example["ok"] is False and example["error"]["kind"] == "exception"
    assert "no shouting today" in example["error"]["reason"] and example["error"]["line"] == 2


def test_a_script_node_is_created_approved_and_run(client):
    unlock(client)
    r = client.post("/factory/nodes", json=GOOD, headers=WRITE)
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "draft"
    # a draft runs as a dry-run
    r = client.post("/factory/nodes/analysis.shout.v1/run", json={"input": {"text": "draft"}}, headers=WRITE)
    assert r.status_code == 200, r.text
    assert r.json()["output"] == {"text": "DRAFT!"} and r.json()["dry_run"] is True
    r = client.post("/factory/nodes/analysis.shout.v1/approve", json={"reason": "looks right"}, headers=WRITE)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "canary"
    r = client.post("/factory/nodes/analysis.shout.v1/run", json={"input": {"text": "hello"}}, headers=WRITE)
    assert r.status_code == 200, r.text
    assert r.json()["output"] == {"text": "HELLO!"}
    assert r.json()["state"] == "canary" and r.json()["dry_run"] is False
    # a script error is the node's failure, with its kind, never a 500
    r = client.post("/factory/nodes/analysis.shout.v1/run", json={"input": {"text": 5}}, headers=WRITE)
    assert r.status_code == 502, r.text
    assert r.json()["kind"] == "exception" and r.json()["node"] == "analysis.shout.v1"


def test_the_word_count_example_is_created_and_run(client):
    unlock(client)
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    r = client.post("/factory/nodes", json=doc, headers=WRITE)
    assert r.status_code == 201, r.text
    detail = client.get(f"/factory/nodes/{doc['id']}", headers=READ).json()
    assert detail["report"]["risks"] == [] and all(e["ok"] for e in detail["report"]["examples"])
    r = client.post(f"/factory/nodes/{doc['id']}/run", json={"input": {"text": "a b a"}}, headers=WRITE)
    assert r.status_code == 200, r.text
    assert r.json()["output"] == {"words": 3, "counted": 3, "unique": 2, "longest": "a"}


def test_a_runaway_script_answers_504_at_its_timeout(client):
    unlock(client)
    r = client.post("/factory/nodes", json=RUNAWAY, headers=WRITE)
    assert r.status_code == 201, r.text
    report = client.get("/factory/nodes/analysis.spin.v1", headers=READ).json()["report"]
    risk_codes = [x["code"] for x in report["risks"]]
    assert "no_examples" in risk_codes
    r = client.post("/factory/nodes/analysis.spin.v1/approve", json={"reason": "try it"}, headers=WRITE)
    assert r.status_code == 200, r.text
    started = time.monotonic()
    r = client.post("/factory/nodes/analysis.spin.v1/run", json={"input": {}}, headers=WRITE)
    elapsed = time.monotonic() - started
    assert r.status_code == 504, r.text
    assert r.json()["kind"] == "timeout" and r.json()["node"] == "analysis.spin.v1"
    assert elapsed < 0.2 + 1.0, f"the script should stop at its 200 ms timeout, took {elapsed:.2f} s"


def test_a_script_node_goes_through_the_whole_lifecycle_on_its_own_traffic(client):
    unlock(client)
    body = {**GOOD, "rollout": {"min_requests": 20, "serve_without_stable": True, "experimental_weight": 1.0,
                                "slo": {"error_rate_max": 0.01, "max_operations_p95": 10_000},
                                "baseline": {"latency_slack_ms": 250}}}
    assert client.post("/factory/nodes", json=body, headers=WRITE).status_code == 201
    node = "/factory/nodes/analysis.shout.v1"

    def traffic(n: int) -> None:
        for i in range(n):
            r = client.post("/invoke/analysis.shout", json={"input": {"text": f"t{i}"}, "key": str(i)}, headers=WRITE)
            assert r.status_code == 200 and r.json()["output"] == {"text": f"T{i}!"}, r.text

    assert client.post(f"{node}/approve", json={}, headers=WRITE).json()["state"] == "canary"
    traffic(25)
    analysis = client.get(f"{node}/analysis", headers=READ).json()
    assert analysis["phase"] == "passed", analysis
    operations = next(m for m in analysis["metrics"] if m["name"] == "operations_p95")
    assert operations["verdict"] == "pass" and 0 < operations["value"] <= 10_000
    assert client.post(f"{node}/approve", json={}, headers=WRITE).json()["state"] == "experimental"
    traffic(25)
    assert client.post(f"{node}/approve", json={}, headers=WRITE).json()["state"] == "stable"
    traffic(3)
    history = [h["to_state"] for h in client.get(node, headers=READ).json()["history"]]
    assert history == ["draft", "canary", "experimental", "stable"]
