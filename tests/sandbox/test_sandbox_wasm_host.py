"""WASM modules that ask the host for what they must not have, on a real `neira-factory serve` (one server for
the module, NEIRA_WASM_PATH unset: its module directory is <var_dir>/modules).

* Host calls and growth (tests/wasm_support.py's HOSTILE_WAT): a sleep of 20 s or 2^63 ns, 1024 sleeping
  subscriptions, a sleep until the year 2500, sleeps again and again, stdin polled and read forever,
  sched_yield, random_get of 64 MiB, 16 MiB writes on stderr, the clock, proc_exit; a table.grow of 200M
  elements with memory_mb 1, eight tables and the memory grown full. Each run (POST /factory/nodes/{id}/run)
  ends in its error kind within its timeout_ms + MARGIN_S, with its memory (memory and tables) within its
  cap, while GET /healthz, polled meanwhile, answers each time within HEALTHZ_S.
* Modules that cannot start within their cap (32 memories, a table of 200M elements, nine tables) are
  refused by the dry-run.
* Many dry-runs at once whose examples sleep for 20 s or 2^63 ns: all answer quickly, /healthz too.
* Module paths outside the module directory (/etc/shadow, /etc/passwd, /nonexistent, ../../etc/passwd, a
  symlink out of it to a file that exists and one to a file that does not): the dry-run's findings, the
  module pinned or not, are the same for all of them, so they tell nothing about the host's files (the
  unit tests run them too: tests/unit/test_wasm_limits.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sandbox_support import while_polling_healthz
from wasm_support import (HOSTILE_WAT, POLL, UNSTARTABLE_WAT, HostileWat, build_modules, inline, json_module,
                          sleep)

MARGIN_S = 1.0
HEALTHZ_S = 1.0
MIB = 2**20
CONCURRENT_DRY_RUNS = 42


@dataclass
class Box:
    url: str
    admin: httpx.Client
    writer: httpx.Client
    modules: Path  # the server's module directory


@pytest.fixture(scope="module")
def box(module_server, tmp_path_factory) -> Box:
    server = module_server()
    admin = server.client("admin")
    r = admin.put("/capabilities/factory_wasm", json={"state": "experimental", "reason": "sandbox: wasm host"})
    assert r.status_code == 200, r.text
    modules = server.var_dir / "modules"
    modules.mkdir()
    (modules / "echo.wasm").write_bytes((build_modules(tmp_path_factory) / "echo.wasm").read_bytes())
    return Box(server.url, admin, server.client("write"), modules)


def template(node_id: str, module: str, limits: dict[str, int], abi: str = "neira-json-v1",
             **fields: Any) -> dict[str, Any]:
    return {"id": node_id, "version": "0.1.0", "analysis_type": node_id.split(".")[1], "backend": "wasm",
            "wasm": {"module": module, "abi": abi}, "limits": limits, **fields}


@pytest.mark.parametrize("row", HOSTILE_WAT, ids=[row.name for row in HOSTILE_WAT])
def test_a_hostile_module_is_stopped_within_its_budget_and_healthz_keeps_answering(box, row: HostileWat):
    node_id = f"analysis.wasm_host_{row.name.replace('-', '_').replace('^', '')}.v1".lower()
    r = box.admin.post("/factory/nodes", json=template(node_id, inline(row.wat), row.limits, row.abi))
    assert r.status_code == 201, r.text
    (response,), (elapsed,), slowest = while_polling_healthz(
        box.url, [lambda: box.writer.post(f"/factory/nodes/{node_id}/run", json={"input": {}})])
    body = response.json()
    assert response.status_code == (504 if row.kind == "timeout" else 502), body
    assert (body["code"], body["kind"], body["node"], body.get("error")) == \
        ("execution_failed", row.kind, node_id, row.error), body
    assert elapsed <= row.limits["timeout_ms"] / 1000 + MARGIN_S, f"{row.name}: {elapsed:.2f}s"
    assert slowest < HEALTHZ_S, f"{row.name}: /healthz took {slowest:.2f}s"
    assert body["memory_bytes"] <= row.limits.get("memory_mb", 64) * MIB


@pytest.mark.parametrize("name", sorted(UNSTARTABLE_WAT))
def test_a_module_that_cannot_start_within_its_cap_is_refused_by_the_dry_run(box, name):
    node_id = f"analysis.wasm_host_{name.replace('-', '_')}.v1".lower()
    r = box.writer.post("/factory/nodes/dryrun", json=template(node_id, inline(UNSTARTABLE_WAT[name]),
                                                               {"memory_mb": 1}))
    risks = {risk["code"]: risk for risk in r.json()["report"]["risks"]}
    assert risks["memory_limit"]["severity"] == "blocking", risks


def test_many_dry_runs_of_sleeping_examples_at_once_leave_healthz_answering(box):
    forever = [json_module(sleep(20 * 10**9), imports=POLL), json_module(sleep(-2**63), imports=POLL)]
    bodies = [template(f"analysis.wasm_host_sleeper_{i}.v1", inline(forever[i % 2]), {"timeout_ms": 100},
                       examples=[{"input": {}, "expected": {}}])
              for i in range(CONCURRENT_DRY_RUNS)]
    responses, seconds, slowest = while_polling_healthz(
        box.url, [lambda body=body: box.writer.post("/factory/nodes/dryrun", json=body) for body in bodies])
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200][:1]
    assert max(seconds) < 5.0, f"the slowest dry-run took {max(seconds):.2f}s"
    assert slowest < HEALTHZ_S, f"/healthz took {slowest:.2f}s"


PROBES = ["/etc/shadow", "/etc/passwd", "/nonexistent", "../../etc/passwd", "out-to-passwd.wasm",
          "out-to-nothing.wasm"]


def test_a_path_outside_the_module_directory_tells_nothing_of_the_host(box, tmp_path):
    (box.modules / "out-to-passwd.wasm").symlink_to("/etc/passwd")
    (box.modules / "out-to-nothing.wasm").symlink_to(tmp_path / "nothing.wasm")
    echo = {"limits": {"timeout_ms": 500}, "examples": [{"input": {"a": 1}, "expected": {"a": 1}}]}
    r = box.writer.post("/factory/nodes/dryrun", json=template("analysis.wasm_host_echo.v1", "echo.wasm", **echo))
    assert {risk["code"] for risk in r.json()["report"]["risks"]} >= {"sha256_missing"}  # it was found and read
    findings, errors = set(), set()
    for i, module in enumerate(PROBES):
        node_id = f"analysis.wasm_host_probe_{i}.v1"
        r = box.writer.post("/factory/nodes/dryrun", json=template(node_id, module, **echo))
        findings.add(tuple((risk["code"], risk["severity"], risk["message"]) for risk in r.json()["report"]["risks"]
                           if risk["field"] == "wasm.module"))
        pinned = template(node_id, module, **echo)
        pinned["wasm"]["sha256"] = "0" * 64
        r = box.writer.post("/factory/nodes/dryrun", json=pinned)
        errors.add(tuple((risk["code"], risk["message"].replace(node_id, "NODE"))
                         for risk in r.json()["report"]["risks"]))
    assert len(findings) == 1, findings
    ((code, severity, message),) = findings.pop()
    assert (code, severity) == ("module_unreadable", "blocking") and "outside the module directory" in message
    assert "/etc" not in message and str(box.modules) not in message
    assert len(errors) == 1, errors
