"""The audit hash chain: each entry's hash covers its fields and the previous hash.

`verify` walks the chain and names every entry that was edited, deleted or
reordered, so a tampered trail can never pass as whole.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = ("ts", "actor", "action", "resource", "before", "after", "reason")


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = {k: fields.get(k) for k in HASHED_FIELDS}
    return hashlib.sha256(prev_hash.encode() + canonical(payload)).hexdigest()


def verify(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Check linkage and hashes; returns {ok, checked, problems, head, skipped}.

    A gap in `seq` alone is not a problem: PostgreSQL spends a sequence value on an insert that is
    rolled back, and the chain links across it (`skipped` lists such gaps). A removed entry breaks
    the link of the one after it, and that is reported, with the gap it left.
    """
    problems: list[dict[str, Any]] = []
    skipped: list[list[int]] = []
    prev_hash, prev_seq, checked = GENESIS, 0, 0
    for entry in entries:
        checked += 1
        seq = entry["seq"]
        gap = f"entries {prev_seq + 1}..{seq - 1} are missing: " if seq != prev_seq + 1 else ""
        if entry["prev_hash"] != prev_hash:
            problems.append({"seq": seq, "problem": f"{gap}prev_hash does not match the previous entry's hash"})
        elif gap:
            skipped.append([prev_seq + 1, seq - 1])
        if entry_hash(entry["prev_hash"], entry) != entry["hash"]:
            problems.append({"seq": seq, "problem": "hash does not match the entry's content (edited)"})
        prev_hash, prev_seq = entry["hash"], seq
    return {"ok": not problems, "checked": checked, "problems": problems, "head": prev_hash, "skipped": skipped}
