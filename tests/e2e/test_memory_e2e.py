"""Memory nodes on a real `neira-factory serve`, over HTTP: the whole lifecycle of a memory node (a dry-run
and a draft's run that write nothing, then canary, experimental, stable), puts and searches through /invoke,
a second version in shadow that never writes and whose search results are compared, and the scopes (read
may get and search; put and forget need write; safe-mode makes writes admin-only)."""
from __future__ import annotations

import sqlite3
import time
from typing import Any

import httpx

from e2e_support import metrics

ROUTE, V1, V2 = "memory.facts", "memory.facts.v1", "memory.facts.v2"
OPS = ["put", "get", "search", "forget", "push_metrics"]
WAIT_S = 30.0
FACTS = {
    "newton": "Закон всемирного тяготения сформулировал Исаак Ньютон",
    "boiling": "Water boils at 100 degrees Celsius at sea level",
    "baikal": "Байкал — самое глубокое озеро на планете",
    "everest": "Mount Everest is the highest mountain above sea level",
}
SEARCHES = [("законы тяготения", "newton"), ("boiling waters", "boiling"), ("глубокие озёра", "baikal"),
            ("the highest mountains", "everest")]


def template(node_id: str = V1, version: str = "0.1.0", **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "version": version, "memory_type": "knowledge", "backend": "memory",
            "memory": {"store": "facts", "capacity": 1000, "language": "auto"},
            "limits": {"timeout_ms": 5000}, **extra}  # a write waits for the database's lock: room for a loaded machine


def run(client: httpx.Client, data: dict[str, Any], route: str = ROUTE) -> httpx.Response:
    return client.post(f"/invoke/{route}", json={"input": data})


def output(client: httpx.Client, data: dict[str, Any]) -> dict[str, Any]:
    response = run(client, data)
    assert response.status_code == 200, response.text
    return response.json()["output"]


def records(server) -> dict[str, int]:
    """The shared store's records (id -> version), read from the server's database file."""
    with sqlite3.connect(f"file:{server.var_dir / 'neira.db'}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT rid, version FROM memory_records WHERE store = 'facts'").fetchall())


def approve(client: httpx.Client, node_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/factory/nodes/{node_id}/approve", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def compared(reader: httpx.Client) -> float:
    m = metrics(reader)
    return sum(m.get(f'factory_shadow_comparisons_total{{outcome="{o}",route="{ROUTE}"}}', 0.0)
               for o in ("match", "mismatch"))


def wait_compared(reader: httpx.Client, n: float) -> float:
    """The shadow comparisons once n are counted (the server compares in the background)."""
    deadline = time.monotonic() + WAIT_S
    while (seen := compared(reader)) < n:
        assert time.monotonic() < deadline, f"{seen} of {n} shadow comparisons after {WAIT_S} s"
        time.sleep(0.05)
    return seen


def stable_v1(server) -> None:
    """A memory node's whole way to stable over HTTP; what it writes on the way."""
    writer, admin = server.client("write"), server.client("admin")
    examples = [{"input": {"op": "put", "record": {"id": "example", "description": "Луна — спутник Земли"}},
                 "expected": {"id": "example", "version": 1}},
                {"input": {"op": "search", "query": "спутники Земли"}, "expected": {"results": [{"id": "example"}]}}]
    dry = writer.post("/factory/nodes/dryrun", json=template(examples=examples))
    assert dry.status_code == 200, dry.text
    assert dry.json()["ok"] is True and [e["ok"] for e in dry.json()["report"]["examples"]] == [True, True]
    created = writer.post("/factory/nodes", json={"template": template(examples=examples), "reason": "e2e"})
    assert created.status_code == 201 and created.json()["state"] == "draft", created.text

    ran = writer.post(f"/factory/nodes/{V1}/run", json={"input": {"op": "put", "record": {
        "id": "draft", "description": "Запись черновика"}}})
    assert ran.status_code == 200, ran.text
    assert ran.json()["dry_run"] is True and ran.json()["output"] == {"id": "draft", "version": 1}
    assert records(server) == {}  # neither the dry-run's examples nor the draft's run wrote

    assert approve(writer, V1, reason="dry-run clean")["state"] == "canary"
    assert approve(admin, V1, reason="no traffic yet", force=True)["state"] == "experimental"
    done = approve(admin, V1, reason="first version of the route", force=True)
    assert (done["state"], done["previous"]) == ("stable", "experimental")


def test_a_memory_node_lives_its_lifecycle_and_its_shadow_never_writes(server):
    writer, reader, admin = server.client("write"), server.client("read"), server.client("admin")
    stable_v1(server)
    for rid, text in FACTS.items():
        assert output(writer, {"op": "put", "record": {"id": rid, "description": text}}) == {"id": rid, "version": 1}
    for query, expected in SEARCHES:
        assert [r["id"] for r in output(reader, {"op": "search", "query": query})["results"]][:1] == [expected]
    assert output(reader, {"op": "get", "id": "draft"}) == {"record": None}

    # a second version in shadow: it gets the reads, never the writes
    v2 = template(V2, "0.2.0", rollout={"mode": "shadow", "slo": {"mismatch_rate_max": 0.5}},
                  params={"text_weight": {"value": 0.0}})  # ranks by priority alone: its results may differ
    assert writer.post("/factory/nodes", json=v2).status_code == 201
    assert approve(writer, V2, reason="shadow it")["state"] == "canary"
    before = compared(reader)
    puts = metrics(reader)['memory_ops_total{op="put",outcome="ok",store="facts"}']
    for i in range(10):
        answer = run(writer, {"op": "put", "record": {"id": f"shadowed-{i}", "description": f"Запись {i} о кометах"}})
        assert answer.status_code == 200 and answer.json()["node_id"] == V1, answer.text
    assert output(writer, {"op": "put", "record": {"id": "newton", "description": FACTS["newton"],
                                                   "credibility": 0.9}}) == {"id": "newton", "version": 2}
    for query, expected in SEARCHES:
        answer = run(reader, {"op": "search", "query": query})
        assert answer.json()["node_id"] == V1 and answer.json()["output"]["results"][0]["id"] == expected
    assert wait_compared(reader, before + len(SEARCHES)) == before + len(SEARCHES)  # reads only: no put compared

    stored = records(server)
    assert len(stored) == len(FACTS) + 10 and stored["newton"] == 2  # one write per put: the shadow's never ran
    assert all(stored[f"shadowed-{i}"] == 1 for i in range(10))
    m = metrics(reader)
    assert m['memory_records{store="facts"}'] == len(FACTS) + 10
    assert m['memory_ops_total{op="put",outcome="ok",store="facts"}'] == puts + 11  # the stable version's only
    analysis = reader.get(f"/factory/nodes/{V2}/analysis").json()
    assert analysis["stats"]["shadow_compared"] == len(SEARCHES)

    # taking versions out deletes no record
    assert admin.post(f"/factory/nodes/{V2}/rollback", json={"reason": "enough"}).status_code == 200
    assert admin.post(f"/factory/nodes/{V1}/quarantine", json={"reason": "e2e"}).status_code == 200
    assert records(server) == stored


def test_reads_need_read_writes_need_write_and_safe_mode_makes_writes_admin_only(server):
    writer, reader, admin = server.client("write"), server.client("read"), server.client("admin")
    stable_v1(server)
    assert output(writer, {"op": "put", "record": {"id": "x", "description": "Вода кипит при ста градусах"}})
    assert output(reader, {"op": "get", "id": "x"})["record"]["id"] == "x"
    assert output(reader, {"op": "search", "query": "кипение воды"})["results"][0]["id"] == "x"
    for data in ({"op": "put", "record": {"description": "нельзя"}}, {"op": "forget", "id": "x"},
                 {"op": "push_metrics", "id": "x", "credibility": 1.0}):
        refused = run(reader, data)
        assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope", refused.text
    assert set(records(server)) == {"x"}

    bad = run(writer, {"op": "put", "record": {"type": "fact"}})
    assert bad.status_code == 422 and bad.json()["field"] == "record.description" and bad.json()["ops"] == OPS
    bad = run(writer, {"op": "put", "record": {"description": "я" * 40_000}})
    assert bad.status_code == 422 and bad.json()["field"] == "record", bad.text
    bad = run(writer, {"op": "recall"})
    assert bad.status_code == 422 and bad.json()["field"] == "op" and "put, get, search" in bad.json()["reason"]

    assert admin.post("/immune/safe-mode", json={"on": True}).status_code == 200
    try:
        for data in ({"op": "put", "record": {"id": "y", "description": "в безопасном режиме"}},
                     {"op": "forget", "id": "x"}):
            refused = run(writer, data)
            assert refused.status_code == 403, refused.text
        assert output(reader, {"op": "get", "id": "x"})["record"]["id"] == "x"  # reads go on
        assert output(admin, {"op": "put", "record": {"id": "y", "description": "администратор пишет"}}) == {
            "id": "y", "version": 1}
    finally:
        assert admin.post("/immune/safe-mode", json={"on": False}).status_code == 200
    assert output(writer, {"op": "forget", "id": "y"}) == {"forgotten": True}
    assert set(records(server)) == {"x"}
    forgets = reader.get("/audit", params={"action": "memory.forget"}).json()
    assert [(e["actor"], e["resource"], e["after"]["id"]) for e in forgets] == [("writer", "memory:facts", "y")]
