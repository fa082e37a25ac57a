"""Introspection in Neira's shape on SQLite and PostgreSQL: Neira's fields (capabilities as booleans, watchdogs,
factory records, queues, backpressure), the nodes and organs with their health over the window, the
fabricators with their load and last error; ?limit= and ?state= filters; one database statement per answer."""
import threading
import time
import unicodedata

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event

from neira_factory.api.app import create_app
from neira_factory.config.tokens import TokenRegistry
from neira_factory.domain.actors import Actor
from neira_factory.runtime.backend_load import BackendLoad
from neira_factory.runtime.watchdog import Budget, Watchdog
from neira_factory.services import introspection
from neira_factory.services.bootstrap import build_services

from support import auth, make_settings

ADMIN, WRITE, READ = auth("admin"), auth("write"), auth("read")
STATUS = "/api/neira/introspection/status"


@pytest.fixture
def rt(tmp_path, db_url):
    f = build_services(make_settings(tmp_path, db_url))
    with TestClient(create_app(f, TokenRegistry.load(f.settings))) as client:
        yield client, f
    f.db.dispose()


def node(client, node_id, impl, *, stable=False):
    body = {"id": node_id, "version": "0.1.0", "analysis_type": node_id.split(".")[1], "adapter": {"impl": impl}}
    assert client.post("/factory/nodes", json=body, headers=WRITE).status_code == 201
    if stable:
        assert client.post(f"/factory/nodes/{node_id}/approve", json={}, headers=WRITE).status_code == 200
        for _ in range(2):
            r = client.post(f"/factory/nodes/{node_id}/approve", json={"force": True, "reason": "test"}, headers=ADMIN)
            assert r.status_code == 200, r.text
    return node_id


def statements_during(f, call):
    """What `call` runs, and the statements this thread sent meanwhile (not the background workers': the event
    tail polls on its own thread)."""
    seen: list[str] = []
    me = threading.get_ident()

    def note(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == me:
            seen.append(statement)
    sa_event.listen(f.db.engine, "before_cursor_execute", note)
    try:
        result = call()
    finally:
        sa_event.remove(f.db.engine, "before_cursor_execute", note)
    return result, seen


def test_neiras_fields_the_lists_with_health_and_the_fabricators(rt):
    client, f = rt
    stable = node(client, "analysis.intro_up.v1", "reverse", stable=True)
    node(client, "analysis.intro_draft.v1", "echo")
    for text in ("a", "b", "c"):
        assert client.post("/invoke/analysis.intro_up", json={"input": {"text": text}},
                           headers=WRITE).status_code == 200
    failed = client.post("/invoke/analysis.intro_up", json={"input": {"text": 5}}, headers=WRITE)
    assert failed.status_code >= 400
    assert client.put("/capabilities/factory_wasm", json={"state": "stable", "reason": "t"},
                      headers=ADMIN).status_code == 200

    s = client.get(STATUS, headers=READ).json()
    assert s["capabilities"]["factory_adapter"] is True and s["capabilities"]["factory_script"] is False
    assert s["capabilities"]["factory_wasm"] is True and s["capability_states"]["factory_wasm"] == "stable"
    assert s["watchdogs"] == {"soft_ms": f.settings.watchdog_soft_ms, "hard_ms": f.settings.watchdog_hard_ms}
    assert s["factory"]["records_total"] == 2 and s["factory"]["active"] == 2
    assert s["factory"]["nodes_by_state"] == {"stable": 1, "draft": 1}
    assert s["queues"] == {"busy": 0, "queued": 0, "workers": f.runtime.watchdog.workers}
    assert s["backpressure"] == 0
    by_id = {n["id"]: n for n in s["nodes"]}
    assert list(by_id) == ["analysis.intro_draft.v1", stable]  # by id
    up = by_id[stable]
    assert (up["state"], up["route"], up["version"], up["backend"]) == ("stable", "analysis.intro_up", "0.1.0",
                                                                        "adapter")
    # this replica's calls count before their flush, once after it
    assert up["health"]["requests"] == 4 and up["health"]["errors"] == {"bad_input": 1}
    assert up["health"]["error_rate"] == 0.0  # a client's bad input is not the node's error
    assert up["health"]["p95_ms"] > 0
    f.flush_stats()
    assert {n["id"]: n["health"] for n in client.get(STATUS, headers=READ).json()["nodes"]}[stable] == up["health"]
    assert by_id["analysis.intro_draft.v1"]["health"] == {"requests": 0, "errors": {}, "error_rate": None,
                                                               "p95_ms": None}
    fabricators = {fab["backend"]: fab for fab in s["fabricators"]}
    assert set(fabricators) >= {"adapter", "script", "wasm", "memory", "organ"}
    adapter = fabricators["adapter"]
    assert (adapter["gate"], adapter["gate_state"], adapter["enabled"]) == ("factory_adapter", "experimental", True)
    assert (adapter["busy"], adapter["queued"]) == (0, 0)
    assert adapter["last_error"] is None  # a client's bad input is not its backend's failure
    assert fabricators["script"]["enabled"] is False and fabricators["script"]["last_error"] is None
    assert fabricators["organ"]["gate"] == "organs_builder"


def test_limit_and_state_filter_the_lists_but_not_the_counts(rt):
    client, _ = rt
    for name in ("c", "a", "b"):
        node(client, f"analysis.intro_{name}.v1", "echo")
    node(client, "analysis.intro_s.v1", "echo", stable=True)
    s = client.get(STATUS, params={"limit": 2}, headers=READ).json()
    assert [n["id"] for n in s["nodes"]] == ["analysis.intro_a.v1", "analysis.intro_b.v1"]
    assert s["factory"]["nodes_total"] == 4
    s = client.get(STATUS, params={"state": "stable"}, headers=READ).json()
    assert [n["id"] for n in s["nodes"]] == ["analysis.intro_s.v1"] and s["organs"] == []
    assert s["factory"]["nodes_by_state"] == {"draft": 3, "stable": 1}
    for bad in ({"limit": 0}, {"limit": 100_000}, {"state": "alive"}, {"limit": "x"}):
        r = client.get(STATUS, params=bad, headers=READ)
        assert r.status_code == 422 and r.json()["field"] == f"query.{next(iter(bad))}", r.text
    assert client.get(STATUS).status_code == 401


def test_one_statement_answers_however_many_versions(rt):
    client, f = rt
    for i in range(12):
        node(client, f"analysis.intro_{i:02d}.v1", "echo", stable=i == 0)
    reader = Actor("reader", "read")
    introspection.status(f.introspection, reader)  # the policy state is cached from here on
    for params in ({}, {"limit": 3}, {"state": "draft"}):
        answer, statements = statements_during(f, lambda: introspection.status(f.introspection, reader, **params))
        assert answer.factory["nodes_total"] == 12 and answer.nodes
        queries = [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
        assert len(queries) == 1 and queries[0].lstrip().upper().startswith("SELECT"), queries


def test_a_backends_load_counts_queued_busy_and_abandoned_calls():
    load = BackendLoad()
    watchdog = Watchdog(500, 1000, lambda kind, node: None, workers=1)
    release, began = threading.Event(), threading.Event()

    def hold(ticket):
        with ticket.running():
            began.set()
            release.wait(5)

    first = load.queue("script")
    holder = threading.Thread(target=lambda: watchdog.run_abandonable(lambda: hold(first), "n1", Budget(5, 5)))
    holder.start()
    assert began.wait(5)
    assert load.of("script") == {"busy": 1, "queued": 0, "last_error": None}
    second = load.queue("script")
    waiter = threading.Thread(target=lambda: pytest.raises(Exception, watchdog.run_abandonable,
                                                           lambda: hold(second), "n2", Budget(0.2, 0.2)))
    waiter.start()
    time.sleep(0.05)
    assert load.of("script")["queued"] == 1  # waiting for the one worker
    waiter.join(5)
    second.close()  # the waiter gave up: no worker within its budget
    assert load.of("script")["queued"] == 0 and load.of("script")["busy"] == 1
    release.set()
    holder.join(5)
    first.close()
    load.failed("script", "timeout", "n2", "x" * 1000)
    assert load.of("script")["busy"] == 0 and len(load.of("script")["last_error"]["message"]) == 300
    watchdog.shutdown()


def test_a_last_error_shows_control_and_format_characters_as_escapes(rt):
    """A writer's script throws what it likes; the fabricator's last error, which readers see (and `neira-factory
    status` prints to a terminal), carries no terminal escape sequence or bidi override, and stays bounded."""
    client, _ = rt
    assert client.put("/capabilities/factory_script", json={"state": "experimental", "reason": "t"},
                      headers=ADMIN).status_code == 200
    body = {"id": "analysis.throws.v1", "version": "0.1.0", "analysis_type": "throws", "backend": "script",
            "script": {"source": "fn run(input) {\n  throw input.text;\n}"}}
    assert client.post("/factory/nodes", json=body, headers=WRITE).status_code == 201
    thrown = "\x1b]0;pwned\x07\x1b[2J\u202eevil\n" + "x" * 1000
    ran = client.post("/factory/nodes/analysis.throws.v1/run", json={"input": {"text": thrown}}, headers=WRITE)
    assert ran.status_code >= 500 and "\x1b" in ran.json()["reason"]  # the caller's own answer is as it was
    error = {b["backend"]: b for b in client.get(STATUS, headers=READ).json()["fabricators"]}["script"]["last_error"]
    assert error["node"] == "analysis.throws.v1" and len(error["message"]) <= 300
    assert "threw \\x1b]0;pwned\\x07\\x1b[2J\\u202eevil\\nxxx" in error["message"]
    assert not [c for c in error["message"] if unicodedata.category(c) in ("Cc", "Cf")]
