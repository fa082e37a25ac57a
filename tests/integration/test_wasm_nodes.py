"""WASM nodes over HTTP: the locked gate, each C example through the whole lifecycle, each hostile module
stopped by its own limit while the server keeps serving other routes, a forbidden import refused at
dry-run, and a module file changed under an approved node quarantined when it is next loaded.
The modules are built once per session by scripts/build_wasm.sh."""
from __future__ import annotations

import hashlib
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from wasm_support import build_modules
from support import auth

ADMIN, WRITE, READ = auth("admin"), auth("write"), auth("read")
EXAMPLES = ["analysis.wasm_echo.v1", "analysis.wasm_grayscale.v1", "analysis.wasm_word_count.v1"]
MARGIN_S = 2.0  # a busy test machine (2 cores shared with the rest of the suite), the HTTP round trip, the hop
ENOUGH_FUEL = 10**13


@pytest.fixture(scope="session")
def modules(tmp_path_factory) -> Path:
    return build_modules(tmp_path_factory)


def unlock(client) -> None:
    r = client.put("/capabilities/factory_wasm", json={"state": "experimental", "reason": "wasm tests"},
                   headers=ADMIN)
    assert r.status_code == 200, r.text


def example(modules: Path, node_id: str) -> dict[str, Any]:
    """An example template as the build pinned it (module: the built file, sha256: its digest)."""
    return yaml.safe_load((modules / "templates" / f"{node_id}.yaml").read_text(encoding="utf-8"))


def node(module: Path, node_id: str, abi: str = "neira-json-v1", **limits: Any) -> dict[str, Any]:
    name = node_id.split(".")[1]
    return {"id": node_id, "version": "0.1.0", "analysis_type": name, "backend": "wasm",
            "wasm": {"module": str(module), "sha256": hashlib.sha256(module.read_bytes()).hexdigest(), "abi": abi},
            **({"limits": limits} if limits else {})}


def risks(report: dict[str, Any]) -> dict[str, dict]:
    return {r["code"]: r for r in report["risks"]}


def approve(client, node_id: str, **extra: Any):
    return client.post(f"/factory/nodes/{node_id}/approve", json=extra, headers=ADMIN if extra else WRITE)


def make_stable(client, body: dict[str, Any]) -> str:
    """Create, approve to canary, then force (admin, a first version has no baseline) to stable."""
    r = client.post("/factory/nodes", json=body, headers=WRITE)
    assert r.status_code == 201, r.text
    assert approve(client, body["id"]).status_code == 200
    for _ in range(2):
        r = approve(client, body["id"], force=True, reason="first version of the route")
        assert r.status_code == 200, r.text
    assert state(client, body["id"]) == "stable"
    return body["id"]


def state(client, node_id: str) -> str:
    return client.get(f"/factory/nodes/{node_id}", headers=READ).json()["state"]


def invoke(client, route: str, data: Any):
    return client.post(f"/invoke/{route}", json={"input": data}, headers=WRITE)


def test_wasm_nodes_are_refused_while_the_gate_is_locked(client, modules):
    body = example(modules, "analysis.wasm_echo.v1")
    gates = client.get("/capabilities", headers=READ).json()["capabilities"]
    assert gates["factory_wasm"]["state"] == "locked"
    r = client.post("/factory/nodes", json=body, headers=WRITE)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "capability_disabled" and r.json()["capability"] == "factory_wasm"
    r = client.post("/factory/nodes/dryrun", json=body, headers=WRITE)
    assert r.json()["ok"] is False and risks(r.json()["report"])["backend_locked"]["severity"] == "blocking"


@pytest.mark.parametrize("node_id", EXAMPLES)
def test_each_example_goes_through_the_whole_lifecycle(client, modules, node_id):
    unlock(client)
    body = example(modules, node_id)
    sample = body["examples"][0]
    # dry-run: the module listed, no other finding, the examples pass
    r = client.post("/factory/nodes/dryrun", json=body, headers=WRITE)
    assert r.status_code == 200, r.text
    report = r.json()["report"]
    assert r.json()["ok"] is True, report
    assert list(risks(report)) == ["wasm_module"] and "exports:" in risks(report)["wasm_module"]["message"]
    assert all(e["ok"] for e in report["examples"])
    # create: a draft runs as a dry-run
    r = client.post("/factory/nodes", json=body, headers=WRITE)
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "draft"
    r = client.post(f"/factory/nodes/{node_id}/run", json={"input": sample["input"]}, headers=WRITE)
    assert r.status_code == 200, r.text
    assert r.json()["dry_run"] is True and r.json()["output"] == sample["expected"]
    # canary, experimental, stable
    assert approve(client, node_id).json()["state"] == "canary"
    r = client.post(f"/factory/nodes/{node_id}/run", json={"input": sample["input"]}, headers=WRITE)
    assert r.status_code == 200 and r.json()["output"] == sample["expected"] and r.json()["dry_run"] is False
    for want in ("experimental", "stable"):
        r = approve(client, node_id, force=True, reason="first version of the route")
        assert r.status_code == 200 and r.json()["state"] == want, r.text
    # the route serves it, and the statistics carry fuel and memory
    route = node_id.removesuffix(".v1")
    for _ in range(3):
        r = invoke(client, route, sample["input"])
        assert r.status_code == 200, r.text
        assert r.json()["output"] == sample["expected"] and r.json()["node_id"] == node_id
    stats = client.get(f"/factory/nodes/{node_id}/analysis", headers=READ).json()["stats"]
    assert stats["requests"] == 3 and stats["errors"] == {}
    assert stats["operations_p95"] > 0 and stats["memory_peak_bytes"] >= 65536
    # and it can be rolled back like any node
    r = client.post(f"/factory/nodes/{node_id}/rollback", json={"reason": "done"}, headers=WRITE)
    assert r.status_code == 200 and r.json()["state"] == "rolled_back", r.text


def test_a_memory_peak_over_its_slo_fails_the_analysis(client, modules):
    unlock(client)
    body = example(modules, "analysis.wasm_echo.v1")
    sample = body["examples"][0]
    # a stored template may still spell operations_p95_max by its former name, max_operations_p95
    body["rollout"] = {"min_requests": 3, "serve_without_stable": True, "baseline": {"enabled": False},
                       "slo": {"error_rate_max": 0.5, "memory_peak_mb_max": 0.01, "max_operations_p95": ENOUGH_FUEL}}
    r = client.post("/factory/nodes", json=body, headers=WRITE)
    assert r.status_code == 201, r.text
    assert approve(client, body["id"]).json()["state"] == "canary"
    for _ in range(3):
        r = invoke(client, "analysis.wasm_echo", sample["input"])
        assert r.status_code == 200 and r.json()["node_id"] == body["id"], r.text
    report = client.get(f"/factory/nodes/{body['id']}/analysis", headers=READ).json()
    metrics = {m["name"]: m for m in report["metrics"]}
    memory = metrics["memory_peak_mb"]
    assert memory["verdict"] == "fail" and memory["threshold"] == 0.01
    assert memory["value"] == round(report["stats"]["memory_peak_bytes"] / 2**20, 3) >= 0.0625
    assert memory["why"]["code"] == "memory_peak_mb_value" and memory["why"]["params"]["n"] == 3
    assert memory["reason"] == f"memory peak {memory['why']['params']['value']:.2f} MiB > 0.01 MiB over 3 requests"
    assert metrics["operations_p95"]["verdict"] == "pass" and metrics["error_rate"]["verdict"] == "pass"
    assert (report["verdict"], report["phase"]) == ("fail", "failed")
    assert report["reason"] == f"1 failed measurement > failure_limit 0: {memory['reason']}"
    assert report["why"] == {"code": "failed_over_limit", "params": {"n": 1, "limit": 0, "why": memory["why"]}}
    r = approve(client, body["id"])
    assert r.status_code == 409 and r.json()["code"] == "analysis_not_passed", r.text


HOSTILE = [
    # (module, abi, limits, kind, status, words in the reason)
    ("spin", "neira-json-v1", {"fuel": 50_000_000}, "limit_fuel", 502, "used all its fuel"),
    ("spin", "neira-json-v1", {"fuel": ENOUGH_FUEL, "timeout_ms": 700}, "timeout", 504, "timeout of 700 ms"),
    ("grow", "neira-json-v1", {"memory_mb": 32}, "limit_memory", 502, "memory cap of 32 MiB"),
    ("recurse", "neira-json-v1", {}, "limit", 502, "call stack is exhausted"),
    ("read_file", "neira-json-v1", {}, "trap", 502, "Capabilities insufficient"),
    ("read_env", "wasi-command", {}, "exception", 502, "the environment is empty"),
]


@pytest.mark.parametrize("name, abi, limits, kind, status, words", HOSTILE,
                         ids=[f"{h[0]}-{h[3]}" for h in HOSTILE])
def test_a_hostile_module_is_stopped_by_its_limit_while_others_are_served(client, modules, name, abi, limits,
                                                                          kind, status, words):
    unlock(client)
    make_stable(client, example(modules, "analysis.wasm_echo.v1"))
    hostile_id = f"analysis.hostile_{name}.v1"
    make_stable(client, node(modules / "hostile" / f"{name}.wasm", hostile_id, abi, **limits))
    answer: dict[str, Any] = {}

    def attack() -> None:
        started = time.monotonic()
        answer["response"] = invoke(client, f"analysis.hostile_{name}", {"x": 1})
        answer["s"] = time.monotonic() - started

    attacker = threading.Thread(target=attack)
    attacker.start()
    served = []
    while attacker.is_alive() or len(served) < 3:
        started = time.monotonic()
        r = invoke(client, "analysis.wasm_echo", {"n": len(served)})
        assert r.status_code == 200 and r.json()["output"] == {"n": len(served)}, r.text
        served.append(time.monotonic() - started)
    attacker.join(30)
    r = answer["response"]
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == "execution_failed" and body["kind"] == kind and body["node"] == hostile_id
    assert words in body["reason"] and "violation" not in body
    budget_s = limits.get("timeout_ms", 1000) / 1000
    assert answer["s"] < budget_s + MARGIN_S, answer["s"]
    assert max(served) < MARGIN_S, served
    assert state(client, hostile_id) == "stable"  # its own failure, not a reason to quarantine
    metrics = client.get("/metrics", headers=READ).text
    assert f'factory_exec_errors_total{{kind="{kind}"}} 1.0' in metrics


def test_a_module_with_a_forbidden_import_is_refused_at_dry_run(client, modules):
    unlock(client)
    body = node(modules / "hostile" / "forbidden.wasm", "analysis.hostile_forbidden.v1")
    r = client.post("/factory/nodes/dryrun", json=body, headers=WRITE)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is False
    found = risks(r.json()["report"])["forbidden_import"]
    assert found["severity"] == "blocking" and found["field"] == "wasm.module"
    assert "env.neira_host_exec" in found["message"]
    assert "imports: env.neira_host_exec" in risks(r.json()["report"])["wasm_module"]["message"]
    r = client.post("/factory/nodes", json=body, headers=WRITE)
    assert r.status_code == 422 and r.json()["code"] == "dry_run_failed", r.text
    assert client.get("/factory/nodes/analysis.hostile_forbidden.v1", headers=READ).status_code == 404


def test_a_sha256_that_does_not_match_blocks_the_dry_run(client, modules):
    unlock(client)
    body = example(modules, "analysis.wasm_echo.v1")
    body["wasm"]["sha256"] = "0" * 64
    r = client.post("/factory/nodes/dryrun", json=body, headers=WRITE)
    found = risks(r.json()["report"])["sha256_mismatch"]
    assert found["severity"] == "blocking" and found["field"] == "wasm.sha256"


def test_a_module_file_changed_under_a_stable_node_is_quarantined_at_load(client, modules, tmp_path):
    unlock(client)
    module = tmp_path / "echo.wasm"
    shutil.copy(modules / "echo.wasm", module)
    node_id = make_stable(client, node(module, "analysis.pinned.v1"))
    assert invoke(client, "analysis.pinned", {"a": 1}).json()["output"] == {"a": 1}
    shutil.copy(modules / "hostile" / "spin.wasm", module)  # someone swaps the file
    r = invoke(client, "analysis.pinned", {"a": 1})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "integrity_mismatch" and r.json()["actual"] != r.json()["expected"]
    assert state(client, node_id) == "quarantined"
    last = client.get(f"/factory/nodes/{node_id}", headers=READ).json()["history"][-1]
    assert last["action"] == "quarantine" and last["actor"] == "immune" and "sha256" in last["reason"]
    r = invoke(client, "analysis.pinned", {"a": 1})
    assert r.status_code == 409 and r.json()["code"] == "no_stable_version"  # no longer served
