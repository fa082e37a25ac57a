"""The audit chain's schemes, its checkpoint file and the audit key file, without a database."""
import threading

import pytest

from neira_factory.config import Settings
from neira_factory.immune.chain import GENESIS, AuditKey, entry_hash, verify
from neira_factory.immune.checkpoint import Checkpoint
from neira_factory.config.secret_file import generated_secret
from neira_factory.immune.seal import AuditSeal

KEY = AuditKey.from_secret("k" * 40)


def chain(key_ids: list[str | None], key: AuditKey | None = KEY) -> list[dict]:
    """Entries 1..n, each keyed under `key` where its key_id is given, legacy where it is None."""
    entries, prev = [], GENESIS
    for seq, key_id in enumerate(key_ids, start=1):
        fields = {"seq": seq, "ts": f"t{seq}", "actor": "a", "action": "x", "resource": "r", "before": None,
                  "after": {"seq": seq}, "reason": None, "key_id": key_id, "prev_hash": prev}
        fields["hash"] = entry_hash(prev, fields, key if key_id else None)
        entries.append(fields)
        prev = fields["hash"]
    return entries


def test_the_key_id_names_the_key_and_is_part_of_the_mac():
    assert KEY.key_id == AuditKey.from_secret("k" * 40).key_id != AuditKey.from_secret("j" * 40).key_id
    entry = chain([KEY.key_id])[0]
    assert entry_hash(GENESIS, entry, KEY) != entry_hash(GENESIS, {**entry, "key_id": "0" * 16}, KEY)
    assert entry_hash(GENESIS, entry, KEY) != entry_hash(GENESIS, entry)  # not the legacy sha256
    assert "k" * 40 not in repr(KEY)


def test_a_chain_written_before_the_key_verifies_and_says_it_is_not_keyed_yet():
    result = verify(chain([None, None]), KEY)
    assert result["ok"] and result["keyed_from"] is None
    assert result["warnings"][0].startswith("no entry is keyed yet")
    assert verify(chain([None, None]), None)["warnings"] == []  # a process without a key has nothing to compare


def test_entries_under_another_key_are_one_problem_naming_both_keys():
    other = AuditKey.from_secret("o" * 40)
    entries = chain([None, other.key_id, other.key_id], key=other)
    result = verify(entries, KEY)
    assert result["problems"] == [{"seq": 2, "problem": f"keyed with audit key {other.key_id}, not this process's "
                                   f"key {KEY.key_id} (2 entries, this the first): a wrong NEIRA_AUDIT_KEY or "
                                   "audit-key file (replicas must share one key), or forged entries"}]
    assert verify(entries, other)["ok"]


def test_the_checkpoint_never_moves_back_and_tells_truncation_rewrite_and_deletion(tmp_path):
    checkpoint = Checkpoint(tmp_path / "cp.json")
    checkpoint.advance(5, "h5")
    checkpoint.advance(3, "h3")  # another process's older head, written late
    assert checkpoint.read()["seq"] == 5
    hashes = {4: "h4", 5: "h5", 6: "h6"}
    assert checkpoint.check(6, hashes)[1:] == ([], [])  # behind the head: fine
    assert checkpoint.check(4, {4: "h4"})[1][0]["problem"].startswith("truncated: the chain ends at entry 4")
    assert checkpoint.check(6, {**hashes, 5: "other"})[1][0]["problem"].startswith("rewritten:")
    assert "is gone (deleted)" in checkpoint.check(6, {4: "h4", 6: "h6"})[1][0]["problem"]


def test_concurrent_checkpoint_writers_keep_the_newest_head(tmp_path):
    checkpoint = Checkpoint(tmp_path / "cp.json")
    threads = [threading.Thread(target=checkpoint.advance, args=(seq, f"h{seq}")) for seq in range(1, 41)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert checkpoint.read()["seq"] == 40 and checkpoint.read()["hash"] == "h40"


def test_the_key_file_is_generated_once_private_and_agreed_on(tmp_path):
    path = tmp_path / "var" / "audit-key"
    seen: list[str] = []
    threads = [threading.Thread(target=lambda: seen.append(generated_secret(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 1 and len(seen[0]) >= 32 and generated_secret(path) == seen[0]
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["audit-key"]  # nothing left aside


def test_a_short_key_is_refused_from_the_environment_and_from_the_file(tmp_path):
    with pytest.raises(ValueError, match="NEIRA_AUDIT_KEY must be at least 32"):
        Settings(var_dir=tmp_path, audit_key="short")
    (tmp_path / "audit-key").write_text("short\n")
    with pytest.raises(ValueError, match="restore the file from a backup or set NEIRA_AUDIT_KEY"):
        AuditSeal.from_settings(Settings(var_dir=tmp_path))
    assert AuditSeal.from_settings(Settings(var_dir=tmp_path, audit_key="e" * 32)).key == AuditKey.from_secret("e" * 32)


def test_a_checkpoint_that_cannot_be_written_leaves_the_commit_standing(tmp_path, caplog):
    (tmp_path / "var").write_text("a file where the directory should be")
    AuditSeal(KEY, Checkpoint(tmp_path / "var" / "cp.json")).committed(7, "h7")
    assert "audit entry 7 is committed, but the audit checkpoint could not be written" in caplog.text


def _creation(seq, node_id, sha256, **after):
    return {"seq": seq, "action": "node.create", "resource": node_id, "after": {"sha256": sha256, **after}}


def test_a_later_creation_counts_only_as_the_replacement_of_the_digest_it_names():
    from neira_factory.immune.integrity import audited_digests

    example, mine = "a" * 64, "b" * 64
    replaced = [_creation(1, "analysis.x.v1", example), _creation(2, "analysis.x.v1", mine, replaced_example=example)]
    assert audited_digests([("analysis.x.v1", mine)], replaced) == ([], 1)
    for forged in ({}, {"replaced_example": "c" * 64}):  # a second creation that replaced nothing it can show
        entries = [_creation(1, "analysis.x.v1", example), _creation(2, "analysis.x.v1", mine, **forged)]
        problems, compared = audited_digests([("analysis.x.v1", mine)], entries)
        assert compared == 1 and [p["seq"] for p in problems] == [1]  # judged by the first creation: swapped
