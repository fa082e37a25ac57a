"""The keyed audit chain and its checkpoint on SQLite and a real PostgreSQL: what an attacker with write access to
the database (but not to the audit key or the var directory) can do to the trail, and what `verify` says.

Each tamper below is done with plain SQL on the database, as such an attacker would."""
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, select, text, update

from neira_factory.domain.actors import Actor
from neira_factory.immune.chain import GENESIS, entry_hash
from neira_factory.immune.integrity import sha256_hex
from neira_factory.services import audit, fabricate, lifecycle
from neira_factory.services.audit import AuditProblem
from neira_factory.store.templates import load_template
from neira_factory.services.bootstrap import build_services
from neira_factory.store import Database
from neira_factory.store import tables as t

from support import make_settings

WRITER = Actor("writer", "write")
NODE = "analysis.reverse.v1"
TEMPLATE = {"id": NODE, "version": "0.1.0", "analysis_type": "reverse",
            "examples": [{"input": {"text": "abc"}, "expected": {"text": "cba"}}]}
OTHER_KEY = "another-audit-key-that-is-long-enough-0123456789"


@pytest.fixture
def sealed(db_url, tmp_path: Path):
    """A factory with a node created and approved: every entry keyed, the head checkpointed."""
    f = build_services(make_settings(tmp_path, db_url))
    fabricate.create(f.fabricate, WRITER, TEMPLATE)
    lifecycle.transition(f.lifecycle, WRITER, NODE, "approve", reason="clean")
    yield f
    f.db.dispose()


def trail(f) -> list[dict]:
    with f.db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t.audit).order_by(t.audit.c.seq))]


def recompute_forward(f, from_seq: int, key=None, drop_key: bool = False) -> None:
    """What a writer to the database does after editing an entry: recompute every hash from it to the head, plain
    sha256 unless given the key (`drop_key`: and mark the entries unkeyed, as if written before the upgrade)."""
    entries = trail(f)
    prev = next((e["hash"] for e in reversed(entries) if e["seq"] < from_seq), GENESIS)
    with f.db.engine.begin() as conn:
        for entry in (e for e in entries if e["seq"] >= from_seq):
            fields = {**entry, "key_id": None if drop_key else entry["key_id"]}
            digest = entry_hash(prev, fields, key)
            conn.execute(update(t.audit).where(t.audit.c.seq == entry["seq"]).values(
                prev_hash=prev, hash=digest, key_id=fields["key_id"]))
            prev = digest


def problems(f) -> list[AuditProblem]:
    return audit.verify_audit(f.audit, WRITER).problems


def test_every_entry_is_keyed_and_the_head_checkpointed_outside_the_database(sealed, tmp_path):
    result = audit.verify_audit(sealed.audit, WRITER)
    entries = trail(sealed)
    assert result.ok and result.problems == [] and result.warnings == [], result
    assert all(e["key_id"] for e in entries) and result.keyed_from == entries[0]["seq"]
    assert result.checkpoint.seq == entries[-1]["seq"] and result.checkpoint.hash == entries[-1]["hash"]
    assert json.loads((tmp_path / "audit-checkpoint.json").read_text())["hash"] == entries[-1]["hash"]
    assert (tmp_path / "audit-key").stat().st_mode & 0o777 == 0o600
    assert result.digests_checked >= 1  # the node's creation recorded its template's digest


def test_deleting_the_tail_is_reported_as_truncation(sealed):
    entries = trail(sealed)
    with sealed.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit WHERE seq >= :s"), {"s": entries[-2]["seq"]})
    found = problems(sealed)
    assert len(found) == 2 and found[0].seq == entries[-1]["seq"], found
    assert found[0].problem.startswith(f"truncated: the chain ends at entry {entries[-3]['seq']}, but the "
                                          f"checkpoint recorded entry {entries[-1]['seq']}"), found
    assert found[1].problem.startswith(f"node {NODE} has no audited creation"), found  # node.create went too


@pytest.mark.parametrize("drop_key", [False, True], ids=["keyed-rehashed-plain", "downgraded-to-unkeyed"])
def test_a_rewrite_with_the_plain_hashes_recomputed_forward_fails(sealed, drop_key):
    approve = trail(sealed)[-1]
    assert approve["action"] == "node.approve"
    with sealed.db.engine.begin() as conn:
        conn.execute(update(t.audit).where(t.audit.c.seq == approve["seq"]).values(reason="nothing to see"))
    recompute_forward(sealed, approve["seq"], drop_key=drop_key)
    result = audit.verify_audit(sealed.audit, WRITER)
    assert not result.ok
    assert any(p.problem.startswith("rewritten: its hash differs from the one the checkpoint recorded")
               for p in result.problems), result
    if drop_key:  # the unkeyed tail passes the chain itself: the checkpoint, and a warning, tell
        assert any("are not keyed, although earlier ones are" in w for w in result.warnings), result
    else:
        assert AuditProblem(seq=approve["seq"], problem="hash does not match the entry's content (edited)") in \
            result.problems


def test_with_the_key_a_rewrite_passes_the_chain_and_only_the_checkpoint_tells(sealed):
    create = next(e for e in trail(sealed) if e["action"] == "node.create")
    with sealed.db.engine.begin() as conn:
        conn.execute(update(t.audit).where(t.audit.c.seq == create["seq"]).values(reason="rewritten"))
    recompute_forward(sealed, create["seq"], key=sealed.db.seal.key)
    found = problems(sealed)
    assert len(found) == 1 and found[0].problem.startswith("rewritten:"), found


def test_a_wrong_key_fails_naming_both_keys(sealed, db_url, tmp_path):
    other = build_services(make_settings(tmp_path, db_url, audit_key=OTHER_KEY))
    try:
        found = problems(other)
    finally:
        other.db.dispose()
    theirs, mine = sealed.db.seal.key.key_id, other.db.seal.key.key_id
    assert len(found) == 1 and found[0].seq == trail(sealed)[0]["seq"], found
    assert f"keyed with audit key {theirs}, not this process's key {mine}" in found[0].problem


def test_a_missing_or_unreadable_checkpoint_is_a_warning_until_the_next_change(sealed, tmp_path):
    checkpoint = tmp_path / "audit-checkpoint.json"
    checkpoint.unlink()
    result = audit.verify_audit(sealed.audit, WRITER)
    assert result.ok and result.checkpoint is None
    assert [w for w in result.warnings if w.startswith("no audit checkpoint")], result
    checkpoint.write_text("{not json")
    result = audit.verify_audit(sealed.audit, WRITER)
    assert result.ok and "cannot be read" in result.warnings[0], result
    lifecycle.transition(sealed.lifecycle, WRITER, NODE, "disable", reason="done")
    result = audit.verify_audit(sealed.audit, WRITER)
    assert result.ok and result.warnings == [] and result.checkpoint.seq == trail(sealed)[-1]["seq"]


def test_a_swapped_template_and_its_digest_are_caught_by_the_audited_creation(sealed):
    create = next(e for e in trail(sealed) if e["action"] == "node.create")
    with sealed.db.engine.begin() as conn:
        content = conn.execute(select(t.artifacts.c.content).where(
            t.artifacts.c.sha256 == create["after"]["sha256"])).scalar()
        forged = json.dumps({**json.loads(content), "draft_content": "forged"}, sort_keys=True,
                            separators=(",", ":")).encode()
        digest = sha256_hex(forged)
        conn.execute(insert(t.artifacts).values(sha256=digest, content=forged, media_type="x",
                                                created_at=datetime.now(UTC)))
        conn.execute(update(t.nodes).where(t.nodes.c.id == NODE).values(artifact_sha256=digest))
        stray = dict(conn.execute(select(t.nodes).where(t.nodes.c.id == NODE)).first()._mapping)
        conn.execute(insert(t.nodes).values({**stray, "id": "analysis.stray.v1", "route": "analysis.stray"}))
    with sealed.read() as uow:  # consistent in itself: the load-time check cannot see it
        assert load_template(uow, uow.nodes.get(NODE)).draft_content == "forged"
    found = problems(sealed)
    assert AuditProblem(seq=create["seq"], problem=f"node {NODE}: its artifact_sha256 {digest[:12]}… is not the "
                        f"{create['after']['sha256'][:12]}… its audited creation recorded (the template was swapped)"
                        ) in found
    assert AuditProblem(seq=None, problem="node analysis.stray.v1 has no audited creation: it was written into the "
                        "database outside the factory") in found
    assert len(found) == 2, found


# -- a database written before the audit key ------------------------------------------------------------------


def legacy_database(url: str, actions: list[str]) -> None:
    """The schema and audit trail the previous version left: revision 0006, unkeyed sha256 entries."""
    db = Database(url)
    with db.engine.connect() as conn:
        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        prev = GENESIS
        for n, action in enumerate(actions):
            fields = {"ts": f"2024-01-01T00:00:0{n}+00:00", "actor": "old", "action": action, "resource": "r",
                      "before": None, "after": {"n": n}, "reason": None}
            digest = entry_hash(prev, fields)
            conn.execute(text("INSERT INTO audit (ts, actor, action, resource, before, after, reason, prev_hash, hash) "
                              "VALUES (:ts, :actor, :action, :resource, NULL, :after, NULL, :prev, :hash)"),
                         {**fields, "after": json.dumps(fields["after"]), "prev": prev, "hash": digest})
            prev = digest
        conn.commit()
    db.dispose()


def append_unkeyed(f, action: str) -> None:
    """An entry as a replica of the previous version appends it during a rolling upgrade."""
    last = trail(f)[-1]
    fields = {"ts": "2024-02-01T00:00:00+00:00", "actor": "old-replica", "action": action, "resource": "r",
              "before": None, "after": None, "reason": None}
    with f.db.engine.begin() as conn:
        conn.execute(insert(t.audit).values(**fields, prev_hash=last["hash"], hash=entry_hash(last["hash"], fields)))


def test_an_unkeyed_database_verifies_and_is_keyed_from_the_upgrade_on(db_url, tmp_path):
    legacy_database(db_url, ["old.one", "old.two", "old.three"])
    f = build_services(make_settings(tmp_path, db_url))  # migrates to head; seeding appends keyed entries
    try:
        entries = trail(f)
        assert [e["key_id"] for e in entries[:3]] == [None, None, None] and entries[3]["key_id"]
        result = audit.verify_audit(f.audit, WRITER)
        assert result.ok and result.warnings == [] and result.keyed_from == entries[3]["seq"], result

        # a replica of the previous version appends during the roll: a warning until a keyed entry follows
        append_unkeyed(f, "old.during-roll")
        result = audit.verify_audit(f.audit, WRITER)
        assert result.ok and "are not keyed, although earlier ones are" in result.warnings[0], result
        fabricate.create(f.fabricate, WRITER, TEMPLATE)
        assert audit.verify_audit(f.audit, WRITER).warnings == []

        # the legacy prefix is covered by the keyed entries after it: a plain rewrite forward breaks them
        with f.db.engine.begin() as conn:
            conn.execute(update(t.audit).where(t.audit.c.seq == entries[1]["seq"]).values(actor="someone else"))
        recompute_forward(f, entries[1]["seq"])
        found = problems(f)
        assert AuditProblem(seq=entries[3]["seq"], problem="hash does not match the entry's content (edited)") in found
    finally:
        f.db.dispose()
