"""The runtime on a real `neira-factory serve`: its own supervisor measures canary traffic sent over
HTTP and acts — a failing candidate is rolled back, a passing experimental one graduates."""
from __future__ import annotations

import time

import httpx
from e2e_support import metrics

ROUTE = "analysis.svc"
FAST = {"NEIRA_STATS_FLUSH_MS": "200", "NEIRA_STATS_WINDOW_S": "2"}


def node(version: int, **extra) -> dict:
    # p95 of a few dozen requests on a busy machine is noise: only errors decide here
    rollout = {"min_requests": 40, "canary_weight": 0.5, "baseline": {"latency_slack_ms": 250},
               **extra.pop("rollout", {})}
    return {"id": f"{ROUTE}.v{version}", "version": f"0.{version}.0", "analysis_type": "svc",
            "adapter": {"impl": "echo"}, "rollout": rollout, **extra}


def create_and_approve(writer: httpx.Client, body: dict) -> str:
    assert writer.post("/factory/nodes", json=body).status_code == 201
    assert writer.post(f"/factory/nodes/{body['id']}/approve", json={}).status_code == 200
    return body["id"]


def stable_v1(server) -> str:
    admin = server.client("admin")
    node_id = create_and_approve(admin, node(1))
    for _ in range(2):
        r = admin.post(f"/factory/nodes/{node_id}/approve", json={"force": True, "reason": "first version"})
        assert r.status_code == 200, r.text
    return node_id


def send(writer: httpx.Client, n: int, offset: int = 0) -> dict[str, int]:
    served: dict[str, int] = {}
    for i in range(offset, offset + n):
        r = writer.post(f"/invoke/{ROUTE}", json={"input": {"n": i}, "key": f"user-{i}"})
        assert r.status_code in (200, 502), r.text
        who = r.json()["node_id"] if r.status_code == 200 else f"error:{r.json()['node']}"
        served[who] = served.get(who, 0) + 1
    return served


def wait_state(reader: httpx.Client, node_id: str, wanted: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reader.get(f"/factory/nodes/{node_id}").json()["state"] == wanted:
            return
        time.sleep(0.1)
    raise AssertionError(f"{node_id} did not become {wanted} within {timeout} s")


def test_the_server_rolls_back_a_failing_canary_by_itself(start_server):
    server = start_server(env=FAST)
    admin, writer, reader = server.client("admin"), server.client("write"), server.client("read")
    assert admin.put("/capabilities/factory_script", json={"state": "experimental"}).status_code == 200
    v1 = stable_v1(server)
    flaky = {"backend": "script", "adapter": None,
             "script": {"source": 'fn run(input) { if input.n % 5 == 0 { throw "boom"; } input }'}}
    v2 = create_and_approve(writer, {**node(2), **flaky})
    served = send(writer, 200)
    assert served.get(f"error:{v2}", 0) > 0 and served.get(f"error:{v1}", 0) == 0
    wait_state(reader, v2, "rolled_back")
    rollback = next(e for e in reader.get("/audit", params={"resource": v2}).json() if e["action"] == "node.rollback")
    assert rollback["actor"] == "watchdog" and "analysis failed" in rollback["reason"]
    assert set(send(writer, 30, offset=1000)) == {v1}
    m = metrics(reader)
    assert m["factory_rollbacks_total"] == 1.0
    assert m['factory_analysis_verdicts_total{phase="failed"}'] >= 1.0


def test_the_server_graduates_a_healthy_experimental_version_by_itself(start_server):
    server = start_server(env=FAST)
    writer, reader = server.client("write"), server.client("read")
    v1 = stable_v1(server)
    v2 = create_and_approve(writer, node(2, rollout={"auto_graduate": True}))
    send(writer, 150)
    deadline = time.monotonic() + 20
    while (r := writer.post(f"/factory/nodes/{v2}/approve", json={})).status_code == 409:
        assert r.json()["code"] == "analysis_not_passed" and time.monotonic() < deadline, r.text
        time.sleep(0.2)
    assert r.json()["state"] == "experimental"
    send(writer, 150, offset=1000)
    wait_state(reader, v2, "stable")
    assert reader.get(f"/factory/nodes/{v1}").json()["state"] == "deprecated"
    assert set(send(writer, 20, offset=5000)) == {v2}
