"""/memory/{route} through the real app in-process: the summary, an export streamed page by page and
imported again as it is, imports checked whole before anything is written (422 naming the line and field),
written in audited batches, the scopes (read reads and searches, write imports, safe-mode makes imports
admin-only, a closed gate stops them), and the routes that are not memory nodes."""
from __future__ import annotations

import json

import pytest
from memory_support import ROUTE, STORE, facts, jsonl, memory_template, stable_memory
from support import auth

from neira_factory.domain.actors import SYSTEM
from neira_factory.domain.memory import MAX_RECORD_BYTES
from neira_factory.services import capabilities, fabricate

NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture
def route(factory) -> str:
    return stable_memory(factory)


def imported(client, route: str, body: str, scope: str = "write", **params):
    return client.post(f"/memory/{route}/import", content=body.encode(), params=params,
                       headers={**auth(scope), **NDJSON})


def records_of(client, route: str) -> int:
    response = client.get(f"/memory/{route}", headers=auth("read"))
    assert response.status_code == 200, response.text
    return response.json()["records"]


def export_of(client, route: str, scope: str = "read") -> list[dict]:
    response = client.get(f"/memory/{route}/export", headers=auth(scope))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def invoked(client, route: str, data: dict, scope: str):
    return client.post(f"/invoke/{route}", json={"input": data}, headers=auth(scope))


def test_the_summary_names_the_node_its_store_and_counts(client, route):
    body = client.get(f"/memory/{route}", headers=auth("read")).json()
    assert body == {"route": ROUTE, "node_id": f"{ROUTE}.v1", "version": "0.1.0", "state": "stable", "store": STORE,
                    "records": 0, "evictions": 0, "capacity": 10_000, "language": "en", "retention_days": None}
    assert imported(client, route, jsonl(facts(3))).json()["imported"] == 3
    assert records_of(client, route) == 3


def test_an_export_imports_as_it_is_into_another_store(client, factory, route):
    assert imported(client, route, jsonl(facts(5)), source="facts.jsonl").status_code == 200
    exported = export_of(client, route)
    assert [r["id"] for r in exported] == [f"fact-{i}" for i in range(5)]  # in the order they were written
    assert {"version", "priority", "created_at", "updated_at", "usage"} <= set(exported[0])
    other = stable_memory(factory, "memory.copy.v1", store="copy")
    answer = imported(client, other, jsonl(exported))  # the export-only fields are dropped, not refused
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"route": other, "store": "copy", "imported": 5, "evicted": 0, "batches": 1}
    copied = {r["id"]: r for r in export_of(client, other)}
    for record in exported:
        for field in ("type", "description", "keywords", "links", "credibility", "metadata"):
            assert copied[record["id"]][field] == record[field]
    # into the same store, an existing id becomes its next version
    again = imported(client, route, jsonl(exported[:1]))
    assert again.status_code == 200 and records_of(client, route) == 5
    assert export_of(client, route)[0]["version"] == 2


def test_a_large_import_is_written_in_audited_batches_and_exported_page_by_page(client, factory, route):
    answer = imported(client, route, jsonl(facts(1200)), scope="admin", source="bulk.jsonl")
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == 1200 and answer.json()["batches"] == 3
    exported = export_of(client, route)
    assert len(exported) == 1200 and len({r["id"] for r in exported}) == 1200  # more than one export page
    entries = client.get("/audit", params={"action": "memory.import"}, headers=auth("read")).json()
    assert sorted(e["after"]["records"] for e in entries) == [200, 500, 500]
    assert {(e["actor"], e["resource"], e["after"]["source"]) for e in entries} == {
        ("admin", f"memory:{STORE}", "bulk.jsonl")}
    with factory.read() as uow:
        assert len(uow.audit.list(action="memory.import")) == 3


def test_a_json_array_is_an_import_body_too(client, route):
    answer = client.post(f"/memory/{route}/import", json=facts(2), headers=auth("write"))
    assert answer.status_code == 200 and answer.json()["imported"] == 2, answer.text


def test_an_import_past_the_capacity_evicts_the_lowest_priority(client, factory):
    small = stable_memory(factory, "memory.small.v1", store="small", capacity=3)
    records = [{"id": f"c{i}", "description": f"credible {i}", "credibility": i / 10} for i in range(1, 6)]
    answer = imported(client, small, jsonl(records))
    assert answer.json()["evicted"] == 2 and records_of(client, small) == 3
    assert sorted(r["id"] for r in export_of(client, small)) == ["c3", "c4", "c5"]


BIG = "x" * (MAX_RECORD_BYTES + 1)


@pytest.mark.parametrize("body,reason,field,line", [
    ('{"description": "ok"}\n{"description": "broken",\n', "line 2: body: malformed JSON", "body", 2),
    ('{"description": "ok"}\n\n{"id": "no-text"}\n', "line 3: description: Field required", "description", 3),
    ('{"description": "ok", "credibility": 2}\n', "line 1: credibility: ", "credibility", 1),
    ('{"description": "ok", "bogus": 1}\n', "line 1: bogus: Extra inputs", "bogus", 1),
    ('["not", "an", "object"]\n', "record 1: record: a record is a JSON object", "record", None),
    ('{"description": "ok"}\n42\n', "line 2: record: a record is a JSON object", "record", 2),
    (json.dumps({"description": "big", "metadata": {"blob": BIG}}) + "\n", "bytes as JSON; a record is at most",
     "record", 1),
])
def test_a_bad_record_is_422_naming_its_line_and_field_and_nothing_is_written(client, route, body, reason, field,
                                                                               line):
    answer = imported(client, route, body)
    assert answer.status_code == 422, answer.text
    refusal = answer.json()
    assert refusal["code"] == "invalid_input" and reason in refusal["reason"], refusal
    assert refusal["field"] == field and refusal.get("line") == line
    assert records_of(client, route) == 0
    assert client.get("/audit", params={"action": "memory.import"}, headers=auth("read")).json() == []


def test_a_body_that_is_not_text_or_past_the_body_limit_is_refused_not_500(client, route):
    assert imported(client, route, "").json()["imported"] == 0  # nothing to import: nothing written or audited
    answer = client.post(f"/memory/{route}/import", content=b'{"description": "\xff"}\n', headers=auth("write"))
    assert answer.status_code == 422 and "UTF-8" in answer.json()["reason"] and answer.json()["line"] == 1
    line = jsonl(facts(1))
    too_big = line * (client.app.state.services.settings.max_body_bytes // len(line) + 1)
    assert imported(client, route, too_big).status_code == 413
    assert records_of(client, route) == 0


def test_read_reads_and_searches_write_writes(client, route):
    assert imported(client, route, jsonl(facts(3))).status_code == 200
    assert records_of(client, route) == 3
    assert len(export_of(client, route, scope="read")) == 3
    got = invoked(client, route, {"op": "get", "id": "fact-1"}, "read")
    assert got.status_code == 200 and got.json()["output"]["record"]["id"] == "fact-1"
    found = invoked(client, route, {"op": "search", "query": "gravitation number 2"}, "read")
    assert found.status_code == 200 and found.json()["output"]["results"][0]["id"] == "fact-2"
    for op in ({"op": "put", "record": {"description": "new"}}, {"op": "forget", "id": "fact-1"}):
        refused = invoked(client, route, op, "read")
        assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope", refused.text
    refused = imported(client, route, jsonl(facts(1, "other")), scope="read")
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert records_of(client, route) == 3
    assert invoked(client, route, {"op": "forget", "id": "fact-1"}, "write").json()["output"] == {"forgotten": True}
    assert client.get(f"/memory/{route}").status_code == 401


def test_safe_mode_makes_an_import_admin_only(client, factory, route):
    capabilities.set_safe_mode(factory.capabilities, SYSTEM, True, reason="test")
    refused = imported(client, route, jsonl(facts(2)))
    assert refused.status_code == 403 and refused.json()["code"] == "safe_mode"
    assert records_of(client, route) == 0  # reads go on
    assert imported(client, route, jsonl(facts(2)), scope="admin").json()["imported"] == 2


def test_a_closed_memory_gate_stops_imports_but_not_reads(client, factory, route):
    capabilities.set_capability(factory.capabilities, SYSTEM, "factory_memory", "disabled", reason="test")
    refused = imported(client, route, jsonl(facts(2)), scope="admin")
    assert refused.status_code == 403 and refused.json()["capability"] == "factory_memory", refused.text
    assert records_of(client, route) == 0 and export_of(client, route) == []


def test_routes_that_are_not_memory_nodes(client, factory):
    for path in ("/memory/memory.nope", "/memory/memory.nope/export"):
        answer = client.get(path, headers=auth("read"))
        assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert imported(client, "memory.nope", jsonl(facts(1))).status_code == 404
    fabricate.create(factory.fabricate, SYSTEM, {"id": "analysis.reverse.v1", "version": "0.1.0",
                                                 "analysis_type": "reverse"})
    answer = client.get("/memory/analysis.reverse", headers=auth("read"))
    assert answer.status_code == 409 and answer.json()["code"] == "not_memory_node"
    assert "adapter" in answer.json()["reason"]
    fabricate.create(factory.fabricate, SYSTEM, memory_template("memory.draft.v1", store="draft"))
    answer = client.get("/memory/memory.draft/export", headers=auth("read"))
    assert answer.status_code == 409 and answer.json()["code"] == "no_live_version", answer.text


def test_the_openapi_document_describes_the_memory_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/memory/{route}/import"]["post"]["requestBody"]["content"]) == {
        "application/x-ndjson", "application/json"}
    for path, method in (("/memory/{route}", "get"), ("/memory/{route}/export", "get"),
                         ("/memory/{route}/import", "post")):
        assert paths[path][method]["summary"] and paths[path][method]["description"], path
