"""The registry's mark and node counts (revision 0011), on SQLite and on a real PostgreSQL: every committed write
to a node bumps the mark and keeps the counts equal to an aggregate over every node, whoever writes (a use case,
or a statement straight into the table), and nothing else does; a replica's selector index learns of another
replica's nodes through the mark; writers racing on two replicas all commit."""
import json
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, insert, select, update

from neira_factory.domain.actors import Actor
from neira_factory.immune.integrity import sha256_hex
from neira_factory.services import fabricate, lifecycle
from neira_factory.services.bootstrap import build_services
from neira_factory.store import tables as t
from neira_factory.store.templates import TEMPLATE_MEDIA_TYPE

from support import make_settings

WRITER = Actor("writer", "write")


def template(i: int) -> dict:
    return {"id": f"analysis.mark{i}.v1", "version": "0.1.0", "analysis_type": "echo"}


def raw_node(uow, node_id: str) -> None:
    """A node written straight into the tables, with its stored template."""
    stamp = datetime.now(UTC)
    content = json.dumps({**template(0), "id": node_id}).encode()
    digest = sha256_hex(content)
    uow.conn.execute(insert(t.artifacts).values(sha256=digest, media_type=TEMPLATE_MEDIA_TYPE, content=content,
                                                created_at=stamp))
    uow.conn.execute(insert(t.nodes).values(**{"id": node_id, "route": node_id.removesuffix(".v1"), "version": "0.1.0", "kind": "analysis",
            "node_type": "raw", "backend": "adapter", "state": "draft", "prev_state": None, "artifact_sha256": digest,
            "report": None, "created_by": "test", "created_at": stamp, "updated_at": stamp, "row_version": 1}))


def mark(f) -> int:
    with f.read() as uow:
        return uow.nodes.version_mark()


def counts_match(f) -> dict[tuple[str, str], int]:
    """The trigger-kept counts, checked against an aggregate over every node (introspection's groups)."""
    with f.read() as uow:
        kept = {(r.grp, r.state): r.n for r in uow.conn.execute(select(t.node_counts)) if r.n}
        counted: dict[tuple[str, str], int] = {}
        for r in uow.conn.execute(select(t.nodes.c.id, t.nodes.c.kind, t.nodes.c.state)):
            group = "organ" if r.kind == "organ" else "module" if r.id.startswith("factory.") else "node"
            counted[(group, r.state)] = counted.get((group, r.state), 0) + 1
    assert kept == counted
    return kept


def test_every_node_write_bumps_the_mark_and_nothing_else_does(store_factory):
    f = store_factory
    before = mark(f)
    node_id = fabricate.create(f.fabricate, WRITER, template(1)).id
    created = mark(f)
    assert created > before
    lifecycle.transition(f.lifecycle, WRITER, node_id, "approve")
    moved = mark(f)
    assert moved > created
    with f.read() as uow:  # reads and a selector refresh leave it alone
        uow.nodes.list()
        f.selector.refresh(uow)
    assert mark(f) == moved
    with pytest.raises(RuntimeError), f.db.unit_of_work() as uow:  # a write rolled back counts for nothing
        uow.conn.execute(update(t.nodes).where(t.nodes.c.id == node_id).values(node_type="changed"))
        raise RuntimeError("roll back")
    assert mark(f) == moved
    with f.db.unit_of_work() as uow:  # a write that leaves the row version alone counts too
        uow.conn.execute(update(t.nodes).where(t.nodes.c.id == node_id).values(node_type="changed"))
    assert mark(f) > moved
    moved = mark(f)
    known = len(f.selector.index)
    with f.db.unit_of_work() as uow:  # straight into the table: the trigger sees it all the same
        raw_node(uow, "analysis.raw.v1")
    inserted = mark(f)
    assert inserted > moved
    with f.read() as uow:
        f.selector.refresh(uow)
    assert len(f.selector.index) == known + 1
    drafts = counts_match(f)[("node", "draft")]
    with f.db.unit_of_work() as uow:  # a row that changes group and state, then its id and group again
        uow.conn.execute(update(t.nodes).where(t.nodes.c.id == "analysis.raw.v1").values(kind="organ", state="stable"))
    organs = counts_match(f)[("organ", "stable")]
    with f.db.unit_of_work() as uow:
        uow.conn.execute(update(t.nodes).where(t.nodes.c.id == "analysis.raw.v1").values(id="factory.raw.v1",
                                                                                          kind="analysis"))
    modules = counts_match(f)
    assert modules.get(("node", "draft"), 0) == drafts - 1 and modules.get(("organ", "stable"), 0) == organs - 1
    with f.db.unit_of_work() as uow:
        uow.conn.execute(delete(t.nodes).where(t.nodes.c.id == "factory.raw.v1"))
    assert counts_match(f)[("module", "stable")] == modules[("module", "stable")] - 1
    assert mark(f) > inserted
    with f.read() as uow:
        f.selector.refresh(uow)
    assert len(f.selector.index) == known


def test_replicas_racing_writes_all_commit_and_each_index_sees_the_others(tmp_path, fresh_pg_url):
    replicas = [build_services(make_settings(tmp_path / name, fresh_pg_url, replica=name)) for name in ("a", "b")]
    try:
        with replicas[1].read() as uow:  # b's index is filled before a writes
            replicas[1].selector.refresh(uow)
        known = len(replicas[1].selector.index)
        before = mark(replicas[0])
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def create(i: int) -> None:
            f = replicas[i % 2]
            try:
                barrier.wait()
                node_id = fabricate.create(f.fabricate, WRITER, template(i)).id
                lifecycle.transition(f.lifecycle, WRITER, node_id, "approve")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert mark(replicas[1]) >= before + 16  # 8 inserts and 8 moves, each committed once
        for f in replicas:
            with f.read() as uow:
                f.selector.refresh(uow)
            assert len(f.selector.index) == known + 8
        assert counts_match(replicas[0])[("node", "canary")] == 8
    finally:
        for f in replicas:
            f.db.dispose()
