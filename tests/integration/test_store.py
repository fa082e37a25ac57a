"""The store on SQLite and on a real PostgreSQL: migrations, transitions racing, audit atomicity and tamper checks."""
import threading

import pytest
from sqlalchemy import inspect, text

from neira_factory.domain.actors import Actor
from neira_factory.domain.errors import Conflict, FactoryError
from neira_factory.services import audit, fabricate, lifecycle
from neira_factory.services.audit import AuditProblem
from neira_factory.store.tables import metadata

WRITER = Actor("writer", "write")
ADMIN = Actor("admin", "admin")
TEMPLATE = {"id": "analysis.reverse.v1", "version": "0.1.0", "analysis_type": "reverse",
            "examples": [{"input": {"text": "abc"}, "expected": {"text": "cba"}}]}


def test_migrations_create_every_table_and_seed_gates(store_factory):
    names = set(inspect(store_factory.db.engine).get_table_names())
    assert {"nodes", "transitions", "audit", "capabilities", "settings", "artifacts", "idempotency",
            "alembic_version"} <= names
    with store_factory.read() as uow:
        gates = uow.capabilities.all()
    assert gates["factory_adapter"]["state"] == "experimental"
    assert gates["factory_script"]["state"] == "locked"
    store_factory.db.migrate()  # idempotent
    inspector = inspect(store_factory.db.engine)
    for table in metadata.tables.values():  # every index tables.py names, the migrations create
        named = {index.name for index in table.indexes if index.name}
        assert named <= {index["name"] for index in inspector.get_indexes(table.name)}, table.name


def test_racing_approvals_only_one_wins(store_factory):
    fabricate.create(store_factory.fabricate, WRITER, TEMPLATE)
    barrier = threading.Barrier(8)
    wins, refusals, others = [], [], []

    def approve():
        barrier.wait()
        try:
            wins.append(lifecycle.transition(store_factory.lifecycle, WRITER, "analysis.reverse.v1", "approve"))
        except Conflict as exc:
            refusals.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            others.append(exc)

    threads = [threading.Thread(target=approve) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert others == []
    assert len(wins) == 1 and wins[0].state == "canary"
    assert len(refusals) == 7 and set(refusals) <= {"invalid_transition", "analysis_not_passed"}
    with store_factory.read() as uow:
        history = uow.nodes.history("analysis.reverse.v1")
        record = uow.nodes.get("analysis.reverse.v1")
    assert [(h.action, h.to_state) for h in history] == [("create", "draft"), ("approve", "canary")]
    assert record.row_version == 2


def test_stale_row_version_never_moves(store_factory):
    fabricate.create(store_factory.fabricate, WRITER, TEMPLATE)
    with store_factory.write() as uow:
        stale = uow.nodes.get("analysis.reverse.v1")
        assert uow.nodes.move(stale, "canary", prev_state=None) is not None
        assert uow.nodes.move(stale, "disabled", prev_state=None) is None
        assert uow.nodes.get("analysis.reverse.v1").state == "canary"


def test_transition_and_audit_commit_together(store_factory, monkeypatch):
    fabricate.create(store_factory.fabricate, WRITER, TEMPLATE)
    from neira_factory.store.repositories import AuditRepository

    def broken_append(self, *args, **kwargs):
        raise RuntimeError("disk full while writing the audit entry")

    monkeypatch.setattr(AuditRepository, "append", broken_append)
    with pytest.raises(RuntimeError):
        lifecycle.transition(store_factory.lifecycle, WRITER, "analysis.reverse.v1", "approve")
    monkeypatch.undo()
    with store_factory.read() as uow:
        assert uow.nodes.get("analysis.reverse.v1").state == "draft"
        assert [h.action for h in uow.nodes.history("analysis.reverse.v1")] == ["create"]


def test_audit_chain_finds_edits_and_deletions(store_factory):
    fabricate.create(store_factory.fabricate, WRITER, TEMPLATE)
    lifecycle.transition(store_factory.lifecycle, WRITER, "analysis.reverse.v1", "approve", reason="clean")
    lifecycle.transition(store_factory.lifecycle, WRITER, "analysis.reverse.v1", "disable", reason="not needed")
    assert audit.verify_audit(store_factory.audit, WRITER).ok
    entries = audit.list_audit(store_factory.audit, WRITER, resource="analysis.reverse.v1", newest_first=False)
    assert [e.action for e in entries] == ["node.create", "node.approve", "node.disable"]
    approve_seq = entries[1].seq
    with store_factory.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit SET reason = 'edited' WHERE seq = :s"), {"s": approve_seq})
    result = audit.verify_audit(store_factory.audit, WRITER)
    assert not result.ok
    assert AuditProblem(seq=approve_seq, problem="hash does not match the entry's content (edited)") in result.problems
    with store_factory.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit WHERE seq = :s"), {"s": approve_seq})
    problems = audit.verify_audit(store_factory.audit, WRITER).problems
    assert any(p.seq == approve_seq + 1 and "missing" in p.problem for p in problems)


def test_idempotent_create_replays_and_refuses_a_different_body(store_factory):
    first = fabricate.create(store_factory.fabricate, WRITER, TEMPLATE, idempotency_key="k-1")
    again = fabricate.create(store_factory.fabricate, WRITER, TEMPLATE, idempotency_key="k-1")
    assert again == first
    with pytest.raises(FactoryError) as err:
        fabricate.create(store_factory.fabricate, WRITER, {**TEMPLATE, "version": "0.2.0"}, idempotency_key="k-1")
    assert err.value.code == "idempotency_key_reused"
    with store_factory.read() as uow:
        assert [n.id for n in uow.nodes.list() if not n.id.startswith("factory.")] == [first.id]
        assert len([e for e in uow.audit.list() if e.action == "node.create"]) == 1


def test_artifact_tampering_is_caught_at_load(store_factory):
    fabricate.create(store_factory.fabricate, WRITER, TEMPLATE)
    with store_factory.db.engine.begin() as conn:
        conn.execute(text("UPDATE artifacts SET content = :c"), {"c": b'{"id": "analysis.reverse.v1"}'})
    with pytest.raises(FactoryError) as err:
        lifecycle.transition(store_factory.lifecycle, WRITER, "analysis.reverse.v1", "approve")
    assert err.value.code == "integrity_mismatch"
    with store_factory.read() as uow:
        assert uow.nodes.get("analysis.reverse.v1").state == "draft"


def test_newer_stable_version_deprecates_the_old_one(store_factory):
    for version, node_id in (("0.1.0", "analysis.reverse.v1"), ("0.2.0", "analysis.reverse.v2")):
        fabricate.create(store_factory.fabricate, WRITER, {**TEMPLATE, "id": node_id, "version": version})
        lifecycle.transition(store_factory.lifecycle, WRITER, node_id, "approve")
        lifecycle.transition(store_factory.lifecycle, ADMIN, node_id, "approve", force=True, reason="no traffic yet")
        lifecycle.transition(store_factory.lifecycle, ADMIN, node_id, "approve", force=True, reason="no traffic yet")
    with store_factory.read() as uow:
        states = {r.id: r.state for r in uow.nodes.list(route="analysis.reverse")}
        history = uow.nodes.history("analysis.reverse.v1")
    assert states == {"analysis.reverse.v1": "deprecated", "analysis.reverse.v2": "stable"}
    assert (history[-1].action, history[-1].actor, history[-1].reason) == (
        "supersede", "system", "superseded by analysis.reverse.v2")
