"""`neira-factory memory ...` as a user runs it, against a real server: records one at a time through the route
(put, get, search, forget), the store as a whole (show, export, import) with the scopes the policy gives."""
from __future__ import annotations

import json

import pytest
from e2e_support import run_cli
from memory_support import ROUTE, facts, jsonl, memory_template
from support import TOKENS


@pytest.fixture
def memory_server(server):
    """A server with a stable memory node on ROUTE (created and approved over HTTP)."""
    admin = server.client("admin")
    node_id = f"{ROUTE}.v1"
    created = admin.post("/factory/nodes", json=memory_template())
    assert created.status_code == 201, created.text
    for body in ({"reason": "e2e"}, {"reason": "e2e", "force": True}, {"reason": "e2e", "force": True}):
        moved = admin.post(f"/factory/nodes/{node_id}/approve", json=body)
        assert moved.status_code == 200, moved.text
    return server


def cli_on(server):
    def cli(*args: str, scope: str = "write", code: int = 0):
        done = run_cli(*args, token=TOKENS[scope], url=server.url)
        assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
        return done
    return cli


def test_records_one_at_a_time(memory_server):
    cli = cli_on(memory_server)
    out = cli("memory", "put", ROUTE, "-d", "Newton's law of universal gravitation", "-k", "physics",
              "-k", "newton", "--credibility", "0.9", "--id", "newton").stdout
    assert "stored newton version 1 in memory.facts" in out
    out = cli("memory", "put", ROUTE, "--json", '{"description": "Kepler: planets move in ellipses", "type": "x"}',
              "--type", "rule", "--id", "kepler").stdout  # the options override the record's fields
    assert "stored kepler version 1" in out
    assert "error: bad_input: --json is a record" in cli("memory", "put", ROUTE, "--json", "[1]", code=1).stderr
    err = cli("memory", "put", ROUTE, "--type", "fact", code=1).stderr
    assert "record.description: Field required" in err and "kind: bad_input" in err
    err = cli("memory", "put", ROUTE, "-d", "no", scope="read", code=1).stderr
    assert "error: insufficient_scope" in err

    out = cli("memory", "get", ROUTE, "newton", scope="read").stdout
    assert "record newton" in out and "Newton's law of universal gravitation" in out
    record = json.loads(cli("--json", "memory", "get", ROUTE, "newton", scope="read").stdout)["output"]["record"]
    assert record["credibility"] == 0.9 and record["keywords"] == ["physics", "newton"]
    assert "error: not_found: no record 'halley'" in cli("memory", "get", ROUTE, "halley", scope="read", code=1).stderr

    out = cli("memory", "search", ROUTE, "gravitation", scope="read").stdout
    assert "1 record(s)" in out and "newton" in out and "kepler" not in out
    found = json.loads(cli("--json", "memory", "search", ROUTE, "planets ellipses", "--type", "rule",
                           scope="read").stdout)
    assert [r["id"] for r in found["output"]["results"]] == ["kepler"]

    assert "confirmation_required" in cli("memory", "forget", ROUTE, "newton", code=1).stderr
    assert "insufficient_scope" in cli("memory", "forget", ROUTE, "newton", "--yes", scope="read", code=1).stderr
    assert "forgot newton" in cli("memory", "forget", ROUTE, "newton", "--yes").stdout
    assert "nothing to forget" in cli("memory", "forget", ROUTE, "newton", "--yes").stdout
    cli("memory", "get", ROUTE, "newton", scope="read", code=1)
    summary = json.loads(cli("--json", "memory", "show", ROUTE, scope="read").stdout)
    assert summary["records"] == 1 and summary["store"] == "facts" and summary["node_id"] == f"{ROUTE}.v1"
    assert "memory memory.facts" in cli("memory", "show", ROUTE, scope="read").stdout


def test_export_and_import_a_store(memory_server, tmp_path):
    cli = cli_on(memory_server)
    source = tmp_path / "facts.jsonl"
    source.write_text(jsonl(facts(2500)), encoding="utf-8")
    done = cli("memory", "import", ROUTE, str(source))
    assert "imported 2500 record(s) into facts" in done.stdout and "3 request(s)" in done.stdout
    assert "records" in done.stderr  # the progress bar
    entries = memory_server.client("read").get("/audit", params={"action": "memory.import"}).json()
    assert sum(e["after"]["records"] for e in entries) == 2500 and {e["after"]["source"] for e in entries} == {
        "facts.jsonl"}

    exported = tmp_path / "export.jsonl"
    done = cli("memory", "export", ROUTE, "-o", str(exported), scope="read")
    assert f"exported 2500 record(s) of {ROUTE} to {exported}" in done.stderr
    lines = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in lines] == [f"fact-{i}" for i in range(2500)]
    streamed = cli("memory", "export", ROUTE, scope="read").stdout.splitlines()
    assert [json.loads(line)["id"] for line in streamed] == [r["id"] for r in lines]

    # the export imports as it is: each record's next version
    done = cli("--json", "memory", "import", ROUTE, str(exported), "--chunk", "1500", scope="admin")
    assert json.loads(done.stdout) == {"route": ROUTE, "store": "facts", "imported": 2500, "evicted": 0,
                                       "requests": 2}
    record = json.loads(cli("--json", "memory", "get", ROUTE, "fact-7", scope="read").stdout)["output"]["record"]
    assert record["version"] == 2

    bad = tmp_path / "bad.jsonl"
    bad.write_text(jsonl([{"id": "ok", "description": "fine"}]) + "\n" + jsonl([{"id": "nope"}]), encoding="utf-8")
    err = cli("memory", "import", ROUTE, str(bad), code=1).stderr
    assert f"error: invalid_file: {bad}: line 3: description: Field required" in err
    assert "insufficient_scope" in cli("memory", "import", ROUTE, str(source), scope="read", code=1).stderr
    summary = json.loads(cli("--json", "memory", "show", ROUTE, scope="read").stdout)
    assert summary["records"] == 2500  # neither the bad file nor the refused import wrote anything
    assert "error: not_found" in cli("memory", "export", "memory.nope", scope="read", code=1).stderr
