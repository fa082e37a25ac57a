"""The audit hash chain: each entry's hash covers its fields and the previous entry's hash.

Two schemes, told apart by the entry's `key_id`:

- keyed (every entry this version appends): HMAC-SHA256 under the audit key, a secret kept outside the
  database (`AuditKey`), over the previous hash and the fields, `key_id` included. Without the key nobody can
  write an entry, or rewrite one and recompute the chain forward, that verifies;
- legacy (`key_id` NULL, what databases written before the audit key hold): plain sha256 of the same.

A keyed entry's MAC covers the previous entry's hash, so every legacy entry that a keyed one follows (the
prefix written before the upgrade, and entries a replica of the previous version appended during a rolling
upgrade) cannot be rewritten without breaking it. Legacy entries after the last keyed one are covered by
nothing but the checkpoint: `verify` warns about them. It names every entry that was edited, deleted,
reordered, or keyed under another key.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = ("ts", "actor", "action", "resource", "before", "after", "reason")
KEYED_FIELDS = (*HASHED_FIELDS, "key_id")


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


@dataclass(frozen=True)
class AuditKey:
    """The key the chain is MACed with, derived from the audit secret; `key_id` names it in each entry (it
    reveals nothing of the secret) so that an entry keyed with another key is told apart from an edited one."""
    mac_key: bytes = field(repr=False)
    key_id: str

    @classmethod
    def from_secret(cls, secret: str) -> AuditKey:
        raw = secret.encode()
        return cls(hmac.new(raw, b"neira-audit chain v1", hashlib.sha256).digest(),
                   hmac.new(raw, b"neira-audit key id v1", hashlib.sha256).hexdigest()[:16])


def entry_hash(prev_hash: str, fields: dict[str, Any], key: AuditKey | None = None) -> str:
    """The entry's hash: HMAC under `key` over the fields and their key_id (`key`'s), or legacy sha256 without one."""
    if key is None:
        return hashlib.sha256(prev_hash.encode() + canonical({k: fields.get(k) for k in HASHED_FIELDS})).hexdigest()
    payload = prev_hash.encode() + canonical({k: fields.get(k) for k in KEYED_FIELDS})
    return hmac.new(key.mac_key, payload, hashlib.sha256).hexdigest()


def verify(entries: Iterable[dict[str, Any]], key: AuditKey | None = None) -> dict[str, Any]:
    """Check linkage, schemes and hashes; returns {ok, checked, problems, warnings, head, head_seq, keyed_from,
    skipped}.

    A gap in `seq` alone is not a problem: PostgreSQL spends a sequence value on an insert that is
    rolled back, and the chain links across it (`skipped` lists such gaps). A removed entry breaks
    the link of the one after it, and that is reported, with the gap it left. A removed tail leaves no
    broken link: the checkpoint outside the database (immune/checkpoint.py) catches that.
    """
    walk = _Walk(key)
    for entry in entries:
        walk.step(entry)
    return walk.result()


class _Walk:
    """One pass over the chain, oldest first."""

    def __init__(self, key: AuditKey | None):
        self.key = key
        self.problems: list[dict[str, Any]] = []
        self.skipped: list[list[int]] = []
        self.prev_hash, self.prev_seq, self.checked = GENESIS, 0, 0
        self.keyed_from: int | None = None
        self.unkeyed_tail: int | None = None  # the first of the legacy entries no keyed entry follows (yet)
        self.foreign: dict[str, list[int]] = {}  # key id -> [first seq, count] of entries under another key

    def step(self, entry: dict[str, Any]) -> None:
        self.checked += 1
        seq = entry["seq"]
        gap = f"entries {self.prev_seq + 1}..{seq - 1} are missing: " if seq != self.prev_seq + 1 else ""
        if entry["prev_hash"] != self.prev_hash:
            self.problems.append({"seq": seq, "problem": f"{gap}prev_hash does not match the previous entry's hash"})
        elif gap:
            self.skipped.append([self.prev_seq + 1, seq - 1])
        key = self.key if entry.get("key_id") is not None else None
        if self._checkable(entry) and entry_hash(entry["prev_hash"], entry, key) != entry["hash"]:
            self.problems.append({"seq": seq, "problem": "hash does not match the entry's content (edited)"})
        self.prev_hash, self.prev_seq = entry["hash"], seq

    def _checkable(self, entry: dict[str, Any]) -> bool:
        """Whether this key can check the entry's hash; notes the entries it cannot."""
        seq, key_id = entry["seq"], entry.get("key_id")
        if key_id is None:
            self.unkeyed_tail = self.unkeyed_tail or seq
            return True
        self.unkeyed_tail = None
        if self.keyed_from is None:
            self.keyed_from = seq
        if self.key is not None and key_id == self.key.key_id:
            return True
        self.foreign.setdefault(key_id, [seq, 0])[1] += 1
        return False

    def result(self) -> dict[str, Any]:
        mine = self.key.key_id if self.key else "none"
        problems = self.problems + [
            {"seq": first, "problem": f"keyed with audit key {key_id}, not this process's key {mine} ({count} "
             "entries, this the first): a wrong NEIRA_AUDIT_KEY or audit-key file (replicas must share one key), "
             "or forged entries"} for key_id, (first, count) in self.foreign.items()]
        warnings = []
        if self.key is not None and self.unkeyed_tail is not None:
            warnings.append(
                "no entry is keyed yet: the chain was written before the audit key; the next audited change starts "
                "its keyed part" if self.keyed_from is None else
                f"entries {self.unkeyed_tail}..{self.prev_seq} are not keyed, although earlier ones are: appended by "
                "a replica of the previous version during a rolling upgrade (the next keyed entry covers them), "
                "or rewritten without the key")
        return {"ok": not problems, "checked": self.checked, "problems": problems, "warnings": warnings,
                "head": self.prev_hash, "head_seq": self.prev_seq, "keyed_from": self.keyed_from,
                "skipped": self.skipped}
