"""The keyed audit chain through a real server and the real CLI: the key and the checkpoint live in the var directory,
`neira-factory audit verify` exits 1 on a truncated trail and on a server holding another key."""
from __future__ import annotations

import json
import sqlite3

from e2e_support import NODE_ID, TEMPLATE, run_cli
from support import TOKENS

OTHER_KEY = "a-key-the-first-server-never-had-0123456789abcdef"


def verify_cli(url: str, *args: str):
    return run_cli(*args, "audit", "verify", token=TOKENS["read"], url=url)


def test_audit_verify_cli_catches_truncation_and_a_foreign_key(start_server, tmp_path):
    var_dir = tmp_path / "var"
    server = start_server(var_dir=var_dir, env={"NEIRA_AUDIT_KEY": ""})  # none given: generated under var
    assert server.client("write").post("/factory/nodes", json={"template": TEMPLATE}).status_code == 201
    head = server.client("read").get("/audit", params={"limit": 1}).json()[0]

    done = verify_cli(server.url)
    assert done.returncode == 0 and "audit chain intact" in done.stdout, done.stdout
    assert "keyed from entry 1" in done.stdout and f"checkpoint at entry {head['seq']}" in done.stdout
    assert (var_dir / "audit-key").stat().st_mode & 0o777 == 0o600
    assert json.loads((var_dir / "audit-checkpoint.json").read_text())["hash"] == head["hash"]

    with sqlite3.connect(var_dir / "neira.db") as db:  # a writer to the database, not to the var directory
        db.execute("DELETE FROM audit WHERE seq = ?", (head["seq"],))
    done = verify_cli(server.url)
    assert done.returncode == 1 and "audit chain BROKEN" in done.stdout, done.stdout
    assert "truncated: the chain ends at entry" in done.stdout and f"node {NODE_ID} has no audited" in done.stdout
    answer = json.loads(verify_cli(server.url, "--json").stdout)
    assert answer["ok"] is False and answer["checkpoint"]["seq"] == head["seq"]
    server.stop()

    other = start_server(var_dir=tmp_path / "elsewhere", database_url=f"sqlite:///{var_dir / 'neira.db'}",
                         env={"NEIRA_AUDIT_KEY": OTHER_KEY})
    done = verify_cli(other.url)
    assert done.returncode == 1 and "not this process's key" in done.stdout, done.stdout
    assert "no audit checkpoint" in done.stdout  # its var directory has none
