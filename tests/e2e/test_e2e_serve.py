"""`neira-factory serve` as a user starts it: examples loaded, a generated admin token; and on PostgreSQL."""
from __future__ import annotations

import re

from e2e_support import NODE_ID, walk_lifecycle
from support import ROOT

EXAMPLE_NODES = {"analysis.text_normalize.v1", "analysis.reverse.v1"}


def _one_line(text: str) -> str:
    """The banner with its table wrapping undone (wrapped cells continue on indented lines)."""
    return re.sub(r"\s+", " ", text)


def test_serve_loads_examples_and_generates_an_admin_token(start_server):
    server = start_server(tokens=False, examples=ROOT / "examples")
    token_file = server.var_dir / "admin-token"
    assert token_file.is_file()
    assert token_file.stat().st_mode & 0o077 == 0, "the generated admin token must be private (0600)"
    token = token_file.read_text().strip()
    assert len(token) >= 32

    out = _one_line(server.stdout())
    assert f"serving at {server.url}" in out
    assert f"admin UI {server.url}/admin" in out  # where an operator goes first
    assert f"generated, in {token_file}" in out, server.stdout()
    loaded = re.search(r"examples (\d+) loaded from", out)
    assert loaded, server.stdout()

    # no built-in secret: without the token the API refuses; with it, the examples are there as drafts
    assert server.client().get("/factory/nodes").status_code == 401
    assert server.client(token="admin").get("/factory/nodes").status_code == 401
    admin = server.client(token=token)
    nodes = admin.get("/factory/nodes", params={"limit": 1000})
    assert nodes.status_code == 200, nodes.text
    states = {n["id"]: n["state"] for n in nodes.json()}
    assert EXAMPLE_NODES <= set(states), states
    assert all(state == "draft" for state in states.values()), states
    organs = {o["id"]: o["state"] for o in admin.get("/organs").json()}
    assert {"organ.voice.v1", "organ.vision.v2", "organ.speak-pipeline.v1"} <= set(organs), organs
    assert set(organs.values()) == {"draft"}
    assert int(loaded.group(1)) == len(states) + len(organs)
    assert all(n["created_by"] == "examples" for n in nodes.json())
    # every example was dry-run at load: clean, its examples pass
    detail = admin.get(f"/factory/nodes/{NODE_ID}").json()
    assert detail["report"]["risks"] == [] and detail["report"]["examples"]
    assert all(e["ok"] for e in detail["report"]["examples"])
    # and an example is usable straight away: approve it with the generated admin token
    r = admin.post(f"/factory/nodes/{NODE_ID}/approve", json={"reason": "example looks right"})
    assert r.status_code == 200 and r.json()["state"] == "canary", r.text
    assert admin.get("/audit/verify").json()["ok"] is True


def test_banner_names_the_admin_token_file_when_stdout_is_a_log(start_server, tmp_path):
    """Under a service manager stdout is a file (no terminal width); the token's path must still be there in full."""
    var_dir = tmp_path / "srv" / "neira-factory-production-instance" / "var"
    server = start_server(tokens=False, env={"COLUMNS": ""}, var_dir=var_dir)
    token_file = server.var_dir / "admin-token"
    assert token_file.is_file()
    assert str(token_file) in _one_line(server.stdout()), server.stdout()


def test_create_to_stable_on_postgresql(start_server, fresh_pg_url):
    server = start_server(database_url=fresh_pg_url)
    walk_lifecycle(server)
    status = server.client("read").get("/api/neira/introspection/status").json()
    assert status["database"] == "postgresql"
    assert "postgresql" in server.stdout() and "***" in server.stdout(), "the banner masks the database password"
