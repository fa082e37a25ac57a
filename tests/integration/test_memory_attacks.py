"""Memory nodes under attack, on SQLite and on PostgreSQL where the database matters: input the store cannot
hold (a NUL, a non-finite number, invisible characters in ids), searches made to be expensive or odd, writes
held up by another writer, mass eviction and retention past a driver's parameter limit, names that try to reach
a factory module's store or a path, imports at and past their limits, a batch that fails half-way, and the
gates, scopes and states that must stop every path to a store (invoke, an organ's member, a node's run, an
import). A costly query or a busy store answers at the call's deadline (504, kind `limit`) and never counts as
the node's hard timeout: three of those would quarantine it, and so hand any reader a switch that stops the
route."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from memory_support import facts, jsonl, memory_template
from seeding import to_stable
from sqlalchemy import text

from neira_factory.api.app import create_app
from neira_factory.backends.base import ExecutionError
from neira_factory.backends.memory_access import EVICT_PER_WRITE, row_in
from neira_factory.config.tokens import TokenRegistry
from neira_factory.domain import memory as cells
from neira_factory.domain.actors import SYSTEM, Actor
from neira_factory.domain.errors import BadInput, Conflict, FactoryError, Forbidden
from neira_factory.library import text_search
from neira_factory.services import capabilities, fabricate, invoke, lifecycle, memory, nodes, organs
from neira_factory.services.bootstrap import Services, build_services
from support import auth, make_settings

ADMIN, WRITER, READER = Actor("admin", "admin"), Actor("writer", "write"), Actor("reader", "read")
ROUTE, NODE, STORE = "memory.facts", "memory.facts.v1", "facts"
NDJSON = {"Content-Type": "application/x-ndjson"}
COMMON = " ".join(f"w{i}" for i in range(40))  # forty words every record holds: a query of them matches all


@pytest.fixture
def f(db_url, tmp_path):
    factory = build_services(make_settings(tmp_path, db_url))
    yield factory
    factory.tail.stop()
    factory.db.dispose()


@pytest.fixture
def http(f):
    with TestClient(create_app(f, TokenRegistry.load(f.settings)), raise_server_exceptions=False) as client:
        yield client


def stable(f: Services, node_id: str = NODE, store: str = STORE, timeout_ms: int = 5000, **spec: Any) -> str:
    doc = memory_template(node_id, store)
    doc["memory"].update(spec)
    doc["limits"] = {"timeout_ms": timeout_ms}
    fabricate.create(f.fabricate, SYSTEM, doc)
    to_stable(f, node_id)
    return node_id.rsplit(".", 1)[0]


def call(f: Services, data: Any, actor: Actor = WRITER, route: str = ROUTE) -> Any:
    return invoke.invoke(f.invoke, actor, route, data)["output"]


def refused(f: Services, data: Any, actor: Actor = WRITER, route: str = ROUTE) -> ExecutionError:
    with pytest.raises(ExecutionError) as caught:
        call(f, data, actor, route)
    return caught.value


def state(f: Services, node_id: str = NODE) -> str:
    with f.read() as uow:
        return uow.nodes.get(node_id).state


def records(f: Services, store: str = STORE) -> int:
    return f.memory.memory.count(store)[0]


def fill(f: Services, store: str, n: int, touched: float) -> None:
    """`n` records written straight to the store (normalised once: they all say COMMON), last touched at `touched`."""
    body = row_in(cells.RecordIn(description=COMMON), "en")
    for start in range(0, n, 5000):
        with f.write() as uow:
            uow.memory.put_many(store, [{**body, "rid": f"r{i}"} for i in range(start, min(n, start + 5000))],
                                touched)


# ---- input the store cannot hold ---------------------------------------------------------------------------

@pytest.mark.parametrize("data,field", [
    ({"op": "put", "record": {"description": "a\x00b"}}, "record.description"),
    ({"op": "put", "record": {"description": "ok", "keywords": ["ok", "a\x00"]}}, "record.keywords.1"),
    ({"op": "put", "record": {"description": "ok", "links": ["\x00"]}}, "record.links.0"),
    ({"op": "put", "record": {"description": "ok", "metadata": {"k": ["a\x00"]}}}, "record.metadata"),
    ({"op": "put", "record": {"description": "ok", "metadata": {"k\x00": 1}}}, "record.metadata"),
    ({"op": "put", "record": {"description": "ok", "metadata": {"k": float("nan")}}}, "record.metadata"),
    ({"op": "put", "record": {"description": "ok", "type": "fact\x00"}}, "record.type"),
    ({"op": "put", "record": {"description": "ok", "id": "a\x00b"}}, "record.id"),
    ({"op": "put", "record": {"description": "ok", "id": "admin\u202egnp"}}, "record.id"),  # shown reversed
    ({"op": "put", "record": {"description": "ok", "id": "a\u200bb"}}, "record.id"),  # shown as "ab"
    ({"op": "get", "id": "a\x00b"}, "id"),
    ({"op": "forget", "id": "a\x00b"}, "id"),
    ({"op": "push_metrics", "id": "a\x00b", "demand": 2}, "id"),
    ({"op": "search", "query": "ok", "type": "fact\x00"}, "type"),
])
def test_what_postgresql_cannot_store_is_bad_input_on_either_database(f, data, field):
    stable(f)
    error = refused(f, data)
    assert (error.status, error.kind, error.extra["field"]) == (422, "bad_input", field), error.body()
    assert records(f) == 0 and state(f) == "stable"


def test_a_nul_through_the_api_is_a_422_and_a_route_no_node_can_have_a_404(f, http):
    stable(f)
    put = http.post(f"/invoke/{ROUTE}", json={"input": {"op": "put", "record": {"description": "a\u0000b"}}},
                    headers=auth("write"))
    assert put.status_code == 422 and put.json()["field"] == "record.description", put.text
    body = '{"description": "fine"}\n{"description": "a\\u0000b"}\n'
    imported = http.post(f"/memory/{ROUTE}/import", content=body.encode(), headers={**auth("write"), **NDJSON})
    assert imported.status_code == 422 and (imported.json()["line"], imported.json()["field"]) == (2, "description")
    assert records(f) == 0
    for path in (f"/memory/{ROUTE}%00", f"/memory/{ROUTE}%00/export", "/memory/..", "/memory/%2e%2e",
                 "/memory/a%2Fb/export", "/memory/память", "/memory/%ff"):
        answer = http.get(path, headers=auth("read"))
        assert answer.status_code == 404, (path, answer.status_code, answer.text)
    for route in (f"{ROUTE}%00", "%00", "a%2Fb", "память"):  # routing looks up no name a node cannot have
        answer = http.post(f"/invoke/{route}", json={"input": {"op": "get", "id": "x"}}, headers=auth("read"))
        assert answer.status_code == 404, (route, answer.status_code, answer.text)
    assert http.get("/memory/" + "x" * 201, headers=auth("read")).status_code == 422


@pytest.mark.parametrize("data,field", [
    (None, "op"), ([], "op"), ("put", "op"), (7, "op"), ({"op": 7}, "op"), ({"op": None}, "op"),
    ({"op": ["put"]}, "op"), ({"op": {"put": 1}}, "op"),
    ({"op": "put", "record": "text"}, "record"), ({"op": "put", "record": {"description": 5}}, "record.description"),
    ({"op": "put", "record": {"description": "x", "credibility": float("inf")}}, "record.credibility"),
    ({"op": "put", "record": {"description": "x", "keywords": "one"}}, "record.keywords"),
    ({"op": "put", "record": {"description": "x", "keywords": [1]}}, "record.keywords.0"),
    ({"op": "put", "record": {"description": "x", "metadata": [1]}}, "record.metadata"),
    ({"op": "put", "record": {"description": "x", "id": "i" * 201}}, "record.id"),
    ({"op": "put", "record": {"description": "x\ud800"}}, "record.description"),
    ({"op": "search", "query": "x", "limit": 10**30}, "limit"), ({"op": "search", "query": "x", "limit": 1.5}, "limit"),
    ({"op": "search", "query": "x", "type": "t" * 51}, "type"), ({"op": "search", "query": "x" * 2001}, "query"),
    ({"op": "push_metrics", "id": "a", "demand": -1}, "demand"),
    ({"op": "push_metrics", "id": "a", "demand": 10**20}, "demand"),
    ({"op": "push_metrics", "id": "a", "credibility": float("nan")}, "credibility"),
    ({"op": "push_metrics", "id": "nobody"}, "id"),  # no such record
    ({"op": "get", "id": 5}, "id"), ({"op": "forget", "id": None}, "id"),
])
def test_bad_input_of_any_shape_is_a_422_naming_the_field(factory, data, field):
    stable(factory)
    error = refused(factory, data)
    assert (error.status, error.kind, error.extra["field"]) == (422, "bad_input", field), error.body()


def test_ids_that_do_not_exist_are_answered(factory):
    stable(factory)
    assert call(factory, {"op": "get", "id": "nobody"}, READER) == {"record": None}
    assert call(factory, {"op": "forget", "id": "../../etc/passwd"}) == {"forgotten": False}
    assert call(factory, {"op": "put", "record": {"id": "a/../b%2F", "description": "x"}}) == {"id": "a/../b%2F",
                                                                                                 "version": 1}


# ---- searches made to be expensive or odd ------------------------------------------------------------------

ODD_QUERIES = ['NEAR(a b) AND OR NOT * ^ : " \' ( ) { } - + ~ body:x', "\x00\x00", "_ __ ___", "a" * 2000,
               "я" * 2000, "\u200b\u200f\u202e ок \u0301\u0301 😀 оk ok", "ǅ ᾳ ﬁ İ ß ẞ ℌ ①② ½", "&|!<->:*",
               " ".join(f"слово{i} word{i}" for i in range(100))[:2000]]


def test_odd_queries_are_searched_or_find_nothing_on_either_database(f):
    stable(f, language="auto")
    odd = "é\u0301 ǅ ᾳ ﬁ İ ß ①② Крème brûlée ок"
    call(f, {"op": "put", "record": {"id": "odd", "description": odd}})
    call(f, {"op": "put", "record": {"id": "long", "description": "я" * 30_000}})
    for query in ODD_QUERIES:
        assert isinstance(call(f, {"op": "search", "query": query}, READER)["results"], list), query
    assert [r["id"] for r in call(f, {"op": "search", "query": odd}, READER)["results"]] == ["odd"]
    assert state(f) == "stable"


def test_a_search_past_its_deadline_is_a_limit_and_never_quarantines_the_node(f):
    stable(f, timeout_ms=1, language="en")  # 1 ms: no search of 5 000 matching records fits
    fill(f, STORE, 5000, time.time())
    for _ in range(4):  # three hard timeouts within a minute would quarantine the node
        error = refused(f, {"op": "search", "query": COMMON, "limit": 100}, READER)
        assert (error.kind, error.status) == ("limit", 504), error.body()
        assert "deadline" in error.reason
    assert state(f) == "stable"


def test_the_normalisers_caches_are_bounded():
    # a flood of unique junk words (a 64 KiB description of them, over and over) cannot grow them without end
    for cache in (text_search.russian, text_search.english):
        assert cache.cache_info().maxsize == 100_000
    words = text_search.terms(" ".join(["щъыьэюящъыьэюя" * 4] * 4000 + ["ъ" * 2000]), "ru")
    assert len(words) == 4001 and text_search.russian.cache_info().currsize <= 100_000


# ---- a write held up by another writer ---------------------------------------------------------------------

def puts_while(f: Services, hold, n: int = 4) -> list[Any]:
    """`n` puts from other threads while `hold` (a context manager) holds the store; what each one answered."""
    def one(i: int) -> Any:
        try:
            return call(f, {"op": "put", "record": {"id": f"late-{i}", "description": "late"}})
        except ExecutionError as exc:
            return exc
    with hold, ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_a_write_waiting_for_its_stores_turn_answers_at_its_deadline_and_never_quarantines(f):
    stable(f, timeout_ms=300)
    answers = puts_while(f, f.memory.memory.writing(None, STORE))  # this replica's other writer of the store
    assert all(isinstance(a, ExecutionError) and (a.kind, a.status, a.extra["busy"]) == ("limit", 504, True)
               for a in answers), answers
    assert state(f) == "stable" and records(f) == 0  # nothing written behind the caller's back
    assert call(f, {"op": "put", "record": {"id": "after", "description": "x"}}) == {"id": "after", "version": 1}


def test_a_write_held_up_by_another_replica_stops_at_its_deadline_on_postgresql(fresh_pg_url, tmp_path):
    f = build_services(make_settings(tmp_path, fresh_pg_url))
    try:
        stable(f, timeout_ms=300)

        class OtherReplica:  # a write of the store in another process: it holds the store's row until it commits
            def __enter__(self):
                self.tx = f.write()
                uow = self.tx.__enter__()
                uow.memory.put(STORE, row_in(cells.RecordIn(id="held", description="held"), "en"), time.time())

            def __exit__(self, *exc):
                return self.tx.__exit__(*exc)

        answers = puts_while(f, OtherReplica())
        assert all(isinstance(a, ExecutionError) and (a.kind, a.status) == ("limit", 504) for a in answers), answers
        assert state(f) == "stable" and records(f) == 1  # the other replica's record only
    finally:
        f.db.dispose()


# ---- capacity and retention at scale -----------------------------------------------------------------------

def test_mass_eviction_and_retention_go_past_the_drivers_parameter_limit(f):
    many = 66_000  # PostgreSQL's driver binds at most 65 535 values a statement
    route = stable(f, capacity=10, retention_days=30, language="en")
    fill(f, STORE, many, time.time() - 40 * cells.DAY_S)
    assert f.supervisor.prune_memory(time.time()) == many and records(f) == 0
    with f.read() as uow:
        assert [e.after["records"] for e in uow.audit.list(action="memory.prune")] == [many]

    fill(f, STORE, many, time.time())  # a capacity far below the store: an import evicts all the rest at once
    result = memory.import_records(f.memory, ADMIN, route, jsonl(facts(1)), "test")
    assert (result.imported, result.evicted) == (1, many + 1 - 10) and records(f) == 10


def test_a_single_put_evicts_a_bounded_number_and_the_store_converges(factory):
    stable(factory, capacity=10, language="en")
    fill(factory, STORE, EVICT_PER_WRITE + 500, time.time())  # as after the capacity was lowered
    call(factory, {"op": "put", "record": {"description": "one"}})
    assert records(factory) == 501 and factory.memory.memory.count(STORE)[1] == EVICT_PER_WRITE
    call(factory, {"op": "put", "record": {"description": "two"}})
    assert records(factory) == 10


# ---- names that reach where they should not ----------------------------------------------------------------

def test_a_memory_node_cannot_name_a_factory_modules_store(factory):
    doc = memory_template("memory.notes.v1", "factory.selector")  # would read it without self_edit
    with pytest.raises(BadInput) as caught:
        fabricate.create(factory.fabricate, WRITER, doc)
    risks = {(r["code"], r["severity"], r.get("field")) for r in caught.value.extra["report"]["risks"]}
    assert ("factory_store", "blocking", "memory.store") in risks
    fabricate.create(factory.fabricate, WRITER, memory_template("memory.notes.v1", "factory-like.notes"))


# ---- imports -------------------------------------------------------------------------------------------------

def test_an_import_at_its_limits(client, factory):
    stable(factory)
    headers = {**auth("write"), **NDJSON}
    rid = "i" * 200
    same = jsonl([{"id": rid, "description": f"version {n}"} for n in range(3)])
    answer = client.post(f"/memory/{ROUTE}/import", content=same.encode(), headers=headers)
    assert answer.status_code == 200 and answer.json()["imported"] == 3, answer.text
    assert call(factory, {"op": "get", "id": rid}, READER)["record"]["version"] == 3 and records(factory) == 1
    too_long = client.post(f"/memory/{ROUTE}/import", content=jsonl([{"id": rid + "i", "description": "x"}]).encode(),
                           headers=headers)
    assert too_long.status_code == 422 and too_long.json()["field"] == "id"
    tiny = '{"description":"a"}\n' * 100_000  # 10^5 records in one body: past the body limit
    assert client.post(f"/memory/{ROUTE}/import", content=tiny.encode(), headers=headers).status_code == 413
    assert records(factory) == 1


POISON = {  # a record the database refuses at insert: a failure half-way through an import
    "sqlite": ["CREATE TRIGGER poison BEFORE INSERT ON memory_records WHEN new.rid = 'poison' "
               "BEGIN SELECT RAISE(ABORT, 'poisoned'); END"],
    "postgresql": ["CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.rid = 'poison' THEN "
                   "RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
                   "CREATE TRIGGER poison BEFORE INSERT ON memory_records FOR EACH ROW EXECUTE FUNCTION poison()"]}


def test_a_batch_that_fails_half_way_leaves_no_record_and_no_audit_entry_of_its_own(f):
    route = stable(f)
    with f.write() as uow:
        for statement in POISON["sqlite" if f.db.is_sqlite else "postgresql"]:
            uow.conn.execute(text(statement))
    batch = memory.IMPORT_BATCH
    values = facts(batch + 20)
    values[batch + 10]["id"] = "poison"
    with pytest.raises(FactoryError) as stopped:
        memory.import_records(f.memory, ADMIN, route, values, "test")
    assert (stopped.value.status, stopped.value.code) == (503, "import_interrupted")
    assert stopped.value.extra == {"imported_before": batch, "batches_before": 1}
    assert records(f) == batch  # the first batch, whole
    with f.read() as uow:
        assert [e.after["records"] for e in uow.audit.list(action="memory.import")] == [batch]


# ---- gates, scopes and states on every path to a store -----------------------------------------------------

def organ_of_memory(f: Services) -> str:
    organs.build(f.organs, SYSTEM, {"organ_template": {"id": "organ.remember.v1", "nodes": [NODE],
                                                        "channels": [{"name": "main", "nodes": [NODE]}]},
                                    "dryrun": False})
    to_stable(f, "organ.remember.v1")
    return "organ.remember"


PUT = {"op": "put", "record": {"id": "x", "description": "written"}}


def every_write_path(f: Services, actor: Actor, organ: str) -> list[Any]:
    """What a put answers through invoke, an organ's member, a node's run, and an import (None: it wrote)."""
    answers = []
    for attempt in (lambda: call(f, PUT, actor), lambda: call(f, PUT, actor, organ),
                    lambda: nodes.run_node(f.nodes, actor, NODE, PUT),
                    lambda: memory.import_records(f.memory, actor, ROUTE, [PUT["record"]], "test")):
        try:
            attempt()
            answers.append(None)
        except (ExecutionError, Forbidden, Conflict) as exc:
            answers.append(exc)
    return answers


def test_safe_mode_makes_every_write_path_admin_only(factory):
    stable(factory)
    organ = organ_of_memory(factory)
    capabilities.set_safe_mode(factory.capabilities, SYSTEM, True, reason="attack")
    answers = every_write_path(factory, WRITER, organ)
    # an organ answers its member's refusal with the member's status (403), naming it
    assert all(a is not None and "safe_mode" in (a.code, a.extra.get("refused")) for a in answers), answers
    assert [a.status for a in answers] == [403] * 4, answers
    assert records(factory) == 0
    assert call(factory, {"op": "search", "query": "written"}, READER) == {"results": []}  # reads go on
    assert every_write_path(factory, ADMIN, organ) == [None] * 4 and records(factory) == 1


def test_the_read_scope_cannot_write_through_any_path(factory):
    stable(factory)
    organ = organ_of_memory(factory)
    answers = every_write_path(factory, READER, organ)
    assert all(isinstance(a, Forbidden) and a.code == "insufficient_scope" for a in answers), answers
    assert records(factory) == 0


def test_a_closed_gate_and_a_quarantine_stop_every_path(factory):
    stable(factory)
    organ = organ_of_memory(factory)
    capabilities.set_capability(factory.capabilities, SYSTEM, "factory_memory", "disabled", reason="attack")
    answers = every_write_path(factory, ADMIN, organ)
    assert all(a is not None and a.extra.get("capability") == "factory_memory" for a in answers), answers
    capabilities.set_capability(factory.capabilities, SYSTEM, "factory_memory", "experimental", reason="attack")
    lifecycle.transition(factory.lifecycle, ADMIN, NODE, "quarantine", reason="attack")
    answers = every_write_path(factory, ADMIN, organ)
    assert [a.status for a in answers] == [409, 502, 409, 409], answers  # the organ: its member "is quarantined"
    assert "quarantined" in answers[1].reason and records(factory) == 0


# ---- what goes out -----------------------------------------------------------------------------------------

def test_large_records_past_a_nodes_output_cap_are_bad_output_not_a_crash(factory):
    doc = memory_template(NODE, STORE)
    doc["limits"] = {"timeout_ms": 5000, "memory_mb": 1}  # answers of at most 1 MiB
    fabricate.create(factory.fabricate, SYSTEM, doc)
    to_stable(factory, NODE)
    big = "gravity " * 7000  # 56 KiB: 20 of them are past the cap, 10 are not
    memory.import_records(factory.memory, ADMIN, ROUTE, [{"id": f"big-{i}", "description": big} for i in range(20)],
                          "test")
    assert len(call(factory, {"op": "search", "query": "gravity", "limit": 10}, READER)["results"]) == 10
    error = refused(factory, {"op": "search", "query": "gravity", "limit": 20}, READER)
    assert (error.kind, error.extra["limit_bytes"]) == ("bad_output", 1024 * 1024)
    assert state(factory) == "stable"
    assert len(memory.export(factory.memory, READER, ROUTE, 0, 1000).records) == 20  # an export pages instead
