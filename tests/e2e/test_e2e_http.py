"""The create → approve path and bad input, over HTTP against a real `neira-factory serve`."""
from __future__ import annotations

import json

import pytest
from e2e_support import NODE_ID, TEMPLATE, metrics, walk_lifecycle
from support import TOKENS

MAX_BODY = 20_000


@pytest.mark.parametrize("prefix", ["/factory/nodes", "/factory/cells"])
def test_create_to_stable_over_http(server, prefix):
    walk_lifecycle(server, prefix)
    # whichever route was used, the node is the same resource under the other one
    other = "/factory/cells" if prefix == "/factory/nodes" else "/factory/nodes"
    assert server.client("read").get(f"{other}/{NODE_ID}").json()["state"] == "stable"


def test_x_auth_token_header_and_unknown_tokens(server):
    anon = server.client()
    r = anon.get("/factory/nodes")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = anon.get("/factory/nodes", headers={"x-auth-token": "not-a-token"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = anon.post("/factory/nodes", json=TEMPLATE, headers={"x-auth-token": TOKENS["write"]})
    assert r.status_code == 201, r.text
    r = server.client("read").post("/factory/nodes/dryrun", json=TEMPLATE)
    assert r.status_code == 403 and r.json()["code"] == "insufficient_scope", r.text


@pytest.fixture
def small_server(start_server):
    return start_server(env={"NEIRA_MAX_BODY_BYTES": str(MAX_BODY)})


def snapshot(server) -> tuple:
    """What a refused request must leave untouched: nodes (id, state, row version), the audit trail, counters."""
    reader = server.client("read")
    nodes = reader.get("/factory/nodes", params={"limit": 1000})
    audit = reader.get("/audit", params={"limit": 1000})
    assert nodes.status_code == audit.status_code == 200
    m = metrics(reader)
    return ([(n["id"], n["state"], n["row_version"]) for n in nodes.json()], [e["hash"] for e in audit.json()],
            m["factory_nodes_created_total"], m["factory_approvals_total"])


def test_bad_input_is_refused_and_nothing_is_half_written(small_server):
    server = small_server
    writer, admin = server.client("write"), server.client("admin")
    assert writer.post("/factory/nodes", json=TEMPLATE).status_code == 201  # one draft to aim transitions at
    before = snapshot(server)
    assert len(before[0]) == 1 and len(before[1]) >= 2

    def refused(response, status: int, code: str, field: str | None = None) -> dict:
        assert response.status_code == status, (response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert body["code"] == code and body["reason"], body
        if field is not None:
            assert body["field"] == field, body
        assert snapshot(server) == before, "a refused request changed the factory"
        return body

    for path in ("/factory/nodes", "/factory/nodes/dryrun", "/factory/cells"):
        # malformed JSON
        refused(writer.post(path, content=b'{"id": "analysis.reverse.v2", ',
                            headers={"content-type": "application/json"}), 422, "invalid_input")
        # an unknown field in an extension: rejected with its path
        body = refused(writer.post(path, json={**TEMPLATE, "id": "analysis.reverse.v2", "rollout": {"bogus": 1}}),
                       422, "invalid_input", "rollout.bogus")
        assert "rollout.bogus" in body["reason"]
        # a bad id
        refused(writer.post(path, json={**TEMPLATE, "id": "Not An Id!"}), 422, "invalid_input", "id")
        # wrong types
        refused(writer.post(path, json={**TEMPLATE, "id": "analysis.reverse.v2", "version": 3}),
                422, "invalid_input", "version")
        refused(writer.post(path, json={**TEMPLATE, "id": "analysis.reverse.v2", "confidence_threshold": "high"}),
                422, "invalid_input", "confidence_threshold")
        refused(writer.post(path, json={**TEMPLATE, "id": "analysis.reverse.v2", "examples": "abc"}),
                422, "invalid_input", "examples")
        refused(writer.post(path, json=["not", "a", "mapping"]), 422, "invalid_input")
        # a body over NEIRA_MAX_BODY_BYTES, with a Content-Length
        big = {**TEMPLATE, "id": "analysis.reverse.v2", "draft_content": "x" * (MAX_BODY + 1)}
        refused(writer.post(path, json=big), 413, "payload_too_large")

    # create refuses what dry-run reports as blocking (an example that does not match)
    failing = {**TEMPLATE, "id": "analysis.reverse.v2", "examples": [{"input": {"text": "ab"}, "expected": {"text": "ab"}}]}
    dry = writer.post("/factory/nodes/dryrun", json=failing)
    assert dry.status_code == 200 and dry.json()["ok"] is False, dry.text
    refused(writer.post("/factory/nodes", json=failing), 422, "dry_run_failed")

    # unknown node
    for method, path, payload in (("GET", "/factory/nodes/analysis.nope.v1", None),
                                  ("POST", "/factory/nodes/analysis.nope.v1/approve", {"reason": "r"}),
                                  ("POST", "/factory/cells/analysis.nope.v1/disable", {}),
                                  ("POST", "/factory/nodes/analysis.nope.v1/run", {"input": {"text": "a"}})):
        refused(writer.request(method, path, json=payload), 404, "not_found")

    # wrong state: a draft cannot be released or rolled back; the answer says what is allowed
    for action in ("release", "rollback"):
        body = refused(admin.post(f"/factory/nodes/{NODE_ID}/{action}", json={"reason": "r"}), 409,
                       "invalid_transition")
        assert body["allowed"] == ["approve", "disable", "quarantine"] and body["state"] == "draft"

    # bad transition bodies
    refused(writer.post(f"/factory/nodes/{NODE_ID}/approve", json={"reason": "r", "bogus": True}),
            422, "invalid_input", "body.bogus")
    refused(writer.post(f"/factory/nodes/{NODE_ID}/approve", json={"force": "sometimes"}),
            422, "invalid_input", "body.force")
    refused(writer.post(f"/factory/nodes/{NODE_ID}/approve", content=b"{not json",
                        headers={"content-type": "application/json"}), 422, "invalid_input")
    # bad run input: the node's io schema is enforced, nothing is counted as created or approved
    refused(writer.post(f"/factory/nodes/{NODE_ID}/run", json={"input": {"text": 5}}), 422, "execution_failed",
            "input.text")
    # bad capability state, unknown gate
    refused(admin.put("/capabilities/factory_script", json={"state": "wide-open"}), 422, "invalid_input",
            "body.state")
    refused(admin.put("/capabilities/no_such_gate", json={"state": "stable"}), 404, "not_found")

    # after all of that: still one draft, an intact audit chain, and the server answers normally
    verify = server.client("read").get("/audit/verify").json()
    assert verify["ok"] is True, verify
    r = writer.post(f"/factory/nodes/{NODE_ID}/approve", json={"reason": "still works"})
    assert r.status_code == 200 and r.json()["state"] == "canary", r.text
    assert "Traceback" not in server.stderr()


def test_oversize_chunked_body_is_413(small_server):
    """A body over the limit sent without Content-Length (chunked) is refused as too large, too."""
    writer = small_server.client("write")
    before = snapshot(small_server)
    payload = json.dumps({**TEMPLATE, "draft_content": "x" * (MAX_BODY * 2)}).encode()

    def chunks():
        for i in range(0, len(payload), 4096):
            yield payload[i:i + 4096]

    r = writer.post("/factory/nodes", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert snapshot(small_server) == before
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large", (r.status_code, r.text)
