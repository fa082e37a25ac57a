"""A script node's `import "route" as m;`: the dry-run reports each import as a link (blocking while the route has
no stable script node), and a run loads the stable version's functions and exported constants."""
from __future__ import annotations

from support import auth

ADMIN, WRITE = auth("admin"), auth("write")
IO = {"input": {"type": "object"}, "output": {"type": "object"}}
UTIL = {"id": "analysis.util.v1", "version": "0.1.0", "analysis_type": "util", "backend": "script", "io": IO,
        "script": {"source": "export const FACTOR = 3;\nfn triple(x) { x * FACTOR_of() }\n"
                             "fn FACTOR_of() { global::FACTOR }\nprivate fn secret() { 42 }\n"
                             "fn run(input) { #{n: triple(input.n)} }"},
        "examples": [{"input": {"n": 2}, "expected": {"n": 6}}]}
USER = {"id": "analysis.user.v1", "version": "0.1.0", "analysis_type": "user", "backend": "script", "io": IO,
        "script": {"source": 'import "analysis.util" as u;\n'
                             "fn run(input) { #{n: u::triple(input.n) + u::FACTOR} }"},
        "examples": [{"input": {"n": 5}, "expected": {"n": 18}}]}


def unlock(client) -> None:
    r = client.put("/capabilities/factory_script", json={"state": "experimental", "reason": "t"}, headers=ADMIN)
    assert r.status_code == 200, r.text


def make_stable(client, body) -> None:
    assert client.post("/factory/nodes", json=body, headers=WRITE).status_code == 201
    assert client.post(f"/factory/nodes/{body['id']}/approve", json={}, headers=WRITE).status_code == 200
    for _ in range(2):
        r = client.post(f"/factory/nodes/{body['id']}/approve", json={"force": True, "reason": "t"}, headers=ADMIN)
        assert r.status_code == 200, r.text


def dry_run(client, body) -> dict:
    r = client.post("/factory/nodes/dryrun", json=body, headers=WRITE)
    assert r.status_code == 200, r.text
    return r.json()


def test_an_import_of_a_route_without_a_stable_script_node_blocks(client):
    unlock(client)
    body = dry_run(client, USER)
    assert body["ok"] is False
    found = [r for r in body["report"]["risks"] if r["code"] == "bad_import"]
    assert found and found[0]["severity"] == "blocking" and found[0]["field"] == "script.imports.0"
    assert "has no node" in found[0]["message"]
    assert {"route": "analysis.util", "ok": False, "import": True} .items() <= body["report"]["links"][0].items()
    # a draft of the route is not its stable version
    assert client.post("/factory/nodes", json=UTIL, headers=WRITE).status_code == 201
    found = [r for r in dry_run(client, USER)["report"]["risks"] if r["code"] == "bad_import"]
    assert "no stable version" in found[0]["message"]


def test_a_script_imports_the_stable_version_of_a_script_node(client):
    unlock(client)
    make_stable(client, UTIL)
    body = dry_run(client, USER)
    assert body["ok"] is True, body
    link = body["report"]["links"][0]
    assert link == {"id": "analysis.util.v1", "route": "analysis.util", "import": True, "state": "stable", "ok": True}
    assert body["report"]["examples"][0]["output"] == {"n": 18}
    assert client.post("/factory/nodes", json=USER, headers=WRITE).status_code == 201
    for n, want in ((1, 6), (10, 33)):  # the second call finds the module in the cache
        r = client.post("/factory/nodes/analysis.user.v1/run", json={"input": {"n": n}}, headers=WRITE)
        assert r.status_code == 200 and r.json()["output"] == {"n": want}, r.text
    # a private function is not part of the module
    hidden = {**USER, "id": "analysis.user.v2",
              "script": {"source": 'import "analysis.util" as u;\nfn run(input) { #{n: u::secret()} }'}}
    assert client.post("/factory/nodes", json={**hidden, "examples": []}, headers=WRITE).status_code == 201
    r = client.post("/factory/nodes/analysis.user.v2/run", json={"input": {"n": 1}}, headers=WRITE)
    assert r.status_code == 502 and r.json()["error"] == "ErrorFunctionNotFound", r.text


def test_a_new_stable_version_of_the_imported_route_is_used_at_once(client):
    unlock(client)
    make_stable(client, UTIL)
    assert client.post("/factory/nodes", json=USER, headers=WRITE).status_code == 201
    run = {"input": {"n": 1}}
    assert client.post("/factory/nodes/analysis.user.v1/run", json=run, headers=WRITE).json()["output"] == {"n": 6}
    v2 = {**UTIL, "id": "analysis.util.v2", "version": "0.2.0",
          "script": {"source": UTIL["script"]["source"].replace("FACTOR = 3", "FACTOR = 4")},
          "examples": [{"input": {"n": 2}, "expected": {"n": 8}}]}
    make_stable(client, v2)
    r = client.post("/factory/nodes/analysis.user.v1/run", json=run, headers=WRITE)
    assert r.status_code == 200 and r.json()["output"] == {"n": 8}, r.text


def test_imports_that_policy_forbids_block_the_dry_run(client):
    unlock(client)
    dynamic = {**USER, "script": {"source": 'fn run(input) { import input.route as m; m::f() }'}}
    assert "dynamic_import" in {r["code"] for r in dry_run(client, dynamic)["report"]["risks"]}
    factory = {**USER, "script": {"source": 'import "factory.selector" as s;\nfn run(input) { input }'}}
    codes = {r["code"]: r for r in dry_run(client, factory)["report"]["risks"]}
    assert codes["self_edit_locked"]["field"] == "script.imports.0" and codes["bad_import"]["severity"] == "blocking"
    itself = {**USER, "script": {"source": 'import "analysis.user" as me;\nfn run(input) { input }'}}
    found = [r for r in dry_run(client, itself)["report"]["risks"] if r["code"] == "bad_import"]
    assert "own route" in found[0]["message"]
