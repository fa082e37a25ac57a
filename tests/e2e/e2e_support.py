"""Helpers for the end-to-end tests: the server process, the CLI as a subprocess, metrics parsing."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from support import ROOT, TOKENS

BIN = Path(sys.executable).with_name("neira-factory")
STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(**extra: str) -> dict[str, str]:
    """The current environment without any NEIRA_* variable (so nothing leaks in from the caller), plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEIRA_")}
    env.update({"PYTHONUNBUFFERED": "1", "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"})
    env.update(extra)
    return env


AUDIT_KEY = "e2e-audit-key-shared-by-every-replica-0123456789"  # replicas on one database share it


def token_env() -> dict[str, str]:
    """The test tokens, and the audit key that replicas of one database must share."""
    return {"NEIRA_ADMIN_TOKEN": TOKENS["admin"], "NEIRA_WRITE_TOKEN": TOKENS["write"],
            "NEIRA_READ_TOKEN": TOKENS["read"], "NEIRA_AUDIT_KEY": AUDIT_KEY}


@dataclass
class Server:
    url: str
    var_dir: Path
    proc: subprocess.Popen
    log_dir: Path
    _clients: list[httpx.Client] = field(default_factory=list)

    def stdout(self) -> str:
        return (self.log_dir / "stdout.txt").read_text(errors="replace")

    def stderr(self) -> str:
        return (self.log_dir / "stderr.txt").read_text(errors="replace")

    def client(self, scope: str | None = None, token: str | None = None) -> httpx.Client:
        """An httpx client on the server, authenticated as `scope` (admin, write, read) or with `token`."""
        token = token or (TOKENS[scope] if scope else None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        c = httpx.Client(base_url=self.url, headers=headers, timeout=15.0)
        self._clients.append(c)
        return c

    def stop(self) -> None:
        for c in self._clients:
            c.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            pytest.fail(f"`neira-factory serve` exited with {server.proc.returncode} before it was healthy.\n"
                        f"stdout:\n{server.stdout()}\nstderr:\n{server.stderr()}", pytrace=False)
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop()
    pytest.fail(f"`neira-factory serve` not healthy after {STARTUP_TIMEOUT_S:.0f} s.\n"
                f"stdout:\n{server.stdout()}\nstderr:\n{server.stderr()}", pytrace=False)


def run_cli(*args: str, token: str | None, url: str, stdin: str | None = None,
            timeout: float = 30.0) -> subprocess.CompletedProcess:
    """The `neira-factory` CLI as a user runs it: NEIRA_URL / NEIRA_TOKEN in the environment."""
    env = base_env(NEIRA_URL=url, **({"NEIRA_TOKEN": token} if token else {}))
    return subprocess.run([str(BIN), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
                          input=stdin if stdin is not None else "")


# ---- what the tests send and check ------------------------------------------------------------

NODE_ID = "analysis.reverse.v1"
TEMPLATE = {"id": NODE_ID, "version": "0.1.0", "analysis_type": "reverse",
            "examples": [{"input": {"text": "abc"}, "expected": {"text": "cba"}}]}
METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)$")


def metrics(client: httpx.Client) -> dict[str, float]:
    """`/metrics` as {'name{labels}': value}, comment lines skipped."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    found = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            match = METRIC_LINE.match(line)
            assert match, f"not a Prometheus sample line: {line!r}"
            found[match.group(1)] = float(match.group(2))
    return found


def to_stable(admin: httpx.Client, body: dict[str, Any]) -> None:
    """Create the node and walk it to stable: approve, then approve with force twice (a first version has
    no baseline traffic to be analysed against)."""
    r = admin.post("/factory/nodes", json=body)
    assert r.status_code == 201, r.text
    assert admin.post(f"/factory/nodes/{body['id']}/approve", json={}).status_code == 200
    for _ in range(2):
        r = admin.post(f"/factory/nodes/{body['id']}/approve", json={"force": True, "reason": "first version"})
        assert r.status_code == 200, r.text


def walk_lifecycle(server: Server, prefix: str = "/factory/nodes") -> None:
    """The whole create → approve path over HTTP: dry-run, create (idempotent), approvals, run, checks."""
    writer, admin, reader = server.client("write"), server.client("admin"), server.client("read")
    nodes = f"{prefix}"

    # dry-run: clean, examples run, nothing created
    r = writer.post(f"{nodes}/dryrun", json=TEMPLATE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True
    assert body["report"]["id"] == NODE_ID and body["report"]["risks"] == []
    assert [e["ok"] for e in body["report"]["examples"]] == [True]
    assert body["report"]["examples"][0]["output"] == {"text": "cba"}
    assert reader.get(nodes).json() == []

    # create, then a retry with the same Idempotency-Key: the same answer, nothing created twice
    key = {"Idempotency-Key": "e2e-create-1"}
    first = writer.post(nodes, json={"template": TEMPLATE, "reason": "e2e"}, headers=key)
    assert first.status_code == 201, first.text
    assert first.json()["id"] == NODE_ID and first.json()["state"] == "draft"
    assert len(first.json()["sha256"]) == 64
    again = writer.post(nodes, json={"template": TEMPLATE, "reason": "e2e"}, headers=key)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    reused = writer.post(nodes, json={"template": {**TEMPLATE, "version": "0.1.1"}}, headers=key)
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused", reused.text
    duplicate = writer.post(nodes, json=TEMPLATE)  # no key: a second create of the same id is a conflict
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "conflict", duplicate.text
    assert [n["id"] for n in reader.get(nodes).json()] == [NODE_ID]
    creates = reader.get("/audit", params={"action": "node.create"}).json()
    assert [e["resource"] for e in creates] == [NODE_ID]

    # a draft runs only as a dry-run
    r = writer.post(f"{nodes}/{NODE_ID}/run", json={"input": {"text": "hello"}})
    assert r.status_code == 200, r.text
    assert r.json()["output"] == {"text": "olleh"} and r.json()["dry_run"] is True

    # draft → canary (write)
    r = writer.post(f"{nodes}/{NODE_ID}/approve", json={"reason": "dry-run clean"})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": NODE_ID, "state": "canary", "previous": "draft", "forced": False,
                        "allowed": ["approve", "rollback", "disable", "quarantine"]}
    status = reader.get("/api/neira/introspection/status").json()
    assert status["factory"] == {"records_total": 1, "active": 1, "nodes_total": 1, "nodes_by_state": {"canary": 1},
                                 "organs_total": 0, "organs_by_state": {}, "modules_by_state": {"stable": 2}}

    # canary → experimental: no traffic analysis yet; write is refused, admin force needs a reason
    r = writer.post(f"{nodes}/{NODE_ID}/approve", json={"reason": "looks fine"})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "analysis_not_passed" and r.json()["reason"]
    r = writer.post(f"{nodes}/{NODE_ID}/approve", json={"reason": "r", "force": True})
    assert r.status_code == 403 and r.json()["code"] == "insufficient_scope", r.text
    r = admin.post(f"{nodes}/{NODE_ID}/approve", json={"force": True})
    assert r.status_code == 422 and r.json().get("field") == "reason", r.text
    assert reader.get(f"{nodes}/{NODE_ID}").json()["state"] == "canary"
    r = admin.post(f"{nodes}/{NODE_ID}/approve", json={"reason": "forced by e2e", "force": True})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["previous"], r.json()["forced"]) == ("experimental", "canary", True)

    # experimental → stable (admin force: still no traffic analysis)
    r = admin.post(f"{nodes}/{NODE_ID}/approve", json={"reason": "graduate", "force": True})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["previous"]) == ("stable", "experimental")
    assert "approve" not in r.json()["allowed"]

    # a stable node runs for real
    r = writer.post(f"{nodes}/{NODE_ID}/run", json={"input": {"text": "привет"}})
    assert r.status_code == 200, r.text
    assert r.json()["output"] == {"text": "тевирп"}
    assert (r.json()["dry_run"], r.json()["state"], r.json()["node_id"]) == (False, "stable", NODE_ID)

    # the node's detail: template, allowed actions, the whole history
    detail = reader.get(f"{nodes}/{NODE_ID}")
    assert detail.status_code == 200, detail.text
    d = detail.json()
    assert d["state"] == "stable" and d["prev_state"] is None and d["created_by"] == "writer"
    assert d["template"]["id"] == NODE_ID and d["artifact_sha256"] == first.json()["sha256"]
    assert d["allowed"] == ["rollback", "disable", "quarantine"]
    history = [(h["action"], h["from_state"], h["to_state"], h["actor"], h["forced"]) for h in d["history"]]
    assert history == [("create", None, "draft", "writer", False),
                       ("approve", "draft", "canary", "writer", False),
                       ("approve", "canary", "experimental", "admin", True),
                       ("approve", "experimental", "stable", "admin", True)]
    assert [h["reason"] for h in d["history"]] == ["e2e", "dry-run clean", "forced by e2e", "graduate"]

    # the audit chain holds and records every step
    verify = reader.get("/audit/verify")
    assert verify.status_code == 200, verify.text
    assert verify.json()["ok"] is True and verify.json()["problems"] == []
    trail = reader.get("/audit", params={"resource": NODE_ID}).json()
    assert [e["action"] for e in reversed(trail)] == ["node.create", "node.approve", "node.approve", "node.approve"]
    assert verify.json()["checked"] >= len(trail)

    # Prometheus metrics
    m = metrics(reader)
    assert m["factory_nodes_created_total"] == 1.0
    assert m["factory_approvals_total"] == 3.0
    assert m['factory_state_transitions_total{from="draft",to="canary"}'] == 1.0
    assert m['factory_state_transitions_total{from="canary",to="experimental"}'] == 1.0
    assert m['factory_state_transitions_total{from="experimental",to="stable"}'] == 1.0
    assert m["factory_nodes_active"] == 1.0
    assert m["factory_dryrun_requests_total"] >= 1.0

    # Neira's introspection: totals by state
    status = reader.get("/api/neira/introspection/status")
    assert status.status_code == 200, status.text
    s = status.json()
    assert s["service"] == "neira-factory" and s["safe_mode"] is False
    assert s["factory"] == {"records_total": 1, "active": 1, "nodes_total": 1, "nodes_by_state": {"stable": 1},
                            "organs_total": 0, "organs_by_state": {}, "modules_by_state": {"stable": 2}}
    assert s["capabilities"]["factory_adapter"] is True
    assert s["capability_states"]["factory_adapter"] == "experimental"
    assert [(n["id"], n["state"]) for n in s["nodes"]] == [(NODE_ID, "stable")]


def wait_run(client: httpx.Client, run_id: str, until: Callable[[dict[str, Any]], bool],
             timeout_s: float = 30.0) -> dict[str, Any]:
    """The training run once `until(run)` holds (polled over HTTP); fails after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        run = client.get(f"/training/{run_id}").json()
        if until(run):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.05)
