"""WASM nodes on a real `neira-factory serve`: a module named relative to NEIRA_WASM_PATH (the fence), the
echo example walked to stable and served over HTTP while a runaway module on another route is stopped by
its epoch deadline, and the wasm sandbox's fuel and memory in /metrics."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yaml
from e2e_support import metrics, to_stable
from support import ROOT
from wasm_support import build_modules


@pytest.fixture(scope="session")
def modules(tmp_path_factory) -> Path:
    return build_modules(tmp_path_factory)


def digests(modules: Path) -> dict[str, str]:
    lines = (modules / "SHA256SUMS").read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines)}





def test_wasm_nodes_on_a_real_server(start_server, modules, tmp_path):
    server = start_server(env={"NEIRA_WASM_PATH": str(modules)})
    admin = server.client("admin")
    r = admin.put("/capabilities/factory_wasm", json={"state": "experimental", "reason": "e2e"})
    assert r.status_code == 200, r.text
    sums = digests(modules)
    # the repository's template as it is (module: echo.wasm, relative), pinned
    echo = yaml.safe_load((ROOT / "examples" / "wasm" / "analysis.wasm_echo.v1.yaml").read_text(encoding="utf-8"))
    echo["wasm"]["sha256"] = sums["echo.wasm"]
    to_stable(admin, echo)
    spin = {"id": "analysis.spin.v1", "version": "0.1.0", "analysis_type": "spin",
            "wasm": {"module": "hostile/spin.wasm", "sha256": sums["hostile/spin.wasm"]},
            "limits": {"fuel": 10**13, "timeout_ms": 800}}
    to_stable(admin, spin)
    # a path outside NEIRA_WASM_PATH is not read at all
    outside = tmp_path / "echo.wasm"
    outside.write_bytes((modules / "echo.wasm").read_bytes())
    r = admin.post("/factory/nodes/dryrun", json={**echo, "id": "analysis.wasm_echo.v2",
                                                  "wasm": {"module": str(outside), "sha256": sums["echo.wasm"]}})
    unreadable = {x["code"]: x for x in r.json()["report"]["risks"]}["module_unreadable"]
    assert "outside NEIRA_WASM_PATH" in unreadable["message"]

    answer = {}

    def runaway() -> None:
        started = time.monotonic()
        answer["r"] = server.client("write").post("/invoke/analysis.spin", json={"input": {}})
        answer["s"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    writer = server.client("write")
    served = 0
    while thread.is_alive() or served < 5:
        r = writer.post("/invoke/analysis.wasm_echo", json={"input": {"n": served}})
        assert r.status_code == 200 and r.json()["output"] == {"n": served}, r.text
        served += 1
    thread.join(10)
    assert answer["r"].status_code == 504 and answer["r"].json()["kind"] == "timeout", answer["r"].text
    assert answer["s"] < 0.8 + 1.5, answer["s"]
    assert served >= 5
    found = metrics(server.client("read"))
    assert found['factory_exec_errors_total{kind="timeout"}'] >= 1
    assert found['factory_sandbox_operations_count{backend="wasm"}'] >= served
    assert found['factory_sandbox_memory_peak_bytes_sum{backend="wasm"}'] > 0
