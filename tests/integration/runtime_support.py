"""Helpers for runtime tests: templates on one route, promotion to stable, traffic, supervisor ticks."""
from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from support import auth

ROUTE = "analysis.svc"
# p95 over a few dozen requests on a busy test machine is noise: tests that are not about latency allow
# a wide slack, so that only errors decide
QUIET_LATENCY = {"latency_slack_ms": 250}
ADMIN, WRITE, READ = auth("admin"), auth("write"), auth("read")


def template(version: int, impl: str = "echo", *, params: dict | None = None, limits: dict | None = None,
             **rollout: Any) -> dict[str, Any]:
    """An adapter node `analysis.svc.v<version>` binding `impl`."""
    body: dict[str, Any] = {"id": f"{ROUTE}.v{version}", "version": f"0.{version}.0", "analysis_type": "svc",
                            "backend": "adapter", "adapter": {"impl": impl},
                            "rollout": {"min_requests": 20, "baseline": QUIET_LATENCY, **rollout}}
    if params:
        body["params"] = {k: {"value": v} for k, v in params.items()}
    if limits:
        body["limits"] = limits
    return body


def create(client: TestClient, body: dict[str, Any]) -> str:
    response = client.post("/factory/nodes", json=body, headers=WRITE)
    assert response.status_code == 201, response.text
    return body["id"]


def approve(client: TestClient, node_id: str, **extra: Any):
    return client.post(f"/factory/nodes/{node_id}/approve", json=extra, headers=ADMIN if extra else WRITE)


def make_stable(client: TestClient, body: dict[str, Any]) -> str:
    """Create and walk a first version to stable (admin force: a first version has no baseline traffic)."""
    node_id = create(client, body)
    assert approve(client, node_id).status_code == 200
    for _ in range(2):
        response = approve(client, node_id, force=True, reason="first version of the route")
        assert response.status_code == 200, response.text
    assert state(client, node_id) == "stable"
    return node_id


def make_candidate(client: TestClient, body: dict[str, Any]) -> str:
    node_id = create(client, body)
    assert approve(client, node_id).status_code == 200
    return node_id


def state(client: TestClient, node_id: str) -> str:
    return client.get(f"/factory/nodes/{node_id}", headers=READ).json()["state"]


def invoke(client: TestClient, data: Any, key: str | None = None, route: str = ROUTE):
    return client.post(f"/invoke/{route}", json={"input": data, **({"key": key} if key else {})}, headers=WRITE)


ERRORS: list[dict] = []  # the bodies of the failed requests `traffic` made, for assertion messages


def traffic(client: TestClient, n: int, data: Any = None, offset: int = 0) -> dict[str, int]:
    """n requests with distinct keys; how many each version served (errors counted under 'error:<node>')."""
    served: dict[str, int] = {}
    for i in range(offset, offset + n):
        payload = data(i) if callable(data) else (data if data is not None else {"text": f"t{i}"})
        response = invoke(client, payload, key=f"user-{i}")
        body = response.json()
        name = body["node_id"] if response.status_code == 200 else f"error:{body.get('node')}"
        if response.status_code != 200:
            ERRORS.append(body)
        served[name] = served.get(name, 0) + 1
    return served


def analysis(client: TestClient, node_id: str) -> dict[str, Any]:
    response = client.get(f"/factory/nodes/{node_id}/analysis", headers=READ)
    assert response.status_code == 200, response.text
    return response.json()


def metric(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in report["metrics"] if m["name"] == name)
