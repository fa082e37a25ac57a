"""Content addressing: every artifact is known by its sha256 and re-checked at every load, and every node's
recorded digest is checked against the one its audited creation recorded."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from ..domain.errors import Conflict


class IntegrityError(Conflict):
    code = "integrity_mismatch"


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def verified(content: bytes, expected_sha256: str, what: str) -> bytes:
    """The content, if it still hashes to what was recorded; IntegrityError otherwise."""
    actual = sha256_hex(content)
    if actual != expected_sha256:
        raise IntegrityError(
            f"{what}: artifact sha256 {actual[:12]}… does not match the recorded {expected_sha256[:12]}…",
            expected=expected_sha256,
            actual=actual,
        )
    return content


CREATIONS = ("node.create", "organ.build", "factory.seed")  # the audit actions that record a node's creation


def audited_digests(nodes: Iterable[tuple[str, str]], entries: Iterable[dict[str, Any]]) -> tuple[list[dict], int]:
    """(problems, how many digests were compared) for `nodes` as (id, artifact_sha256) against the audit trail.

    A node's stored template and its recorded digest can both be replaced by whoever writes to the database; the
    digest its audited creation recorded (`after.sha256`) cannot, once the keyed chain verifies. A node with no
    audited creation at all was written into the database outside the factory. A creation entry that recorded
    no digest leaves its node unchecked here (only its load-time self-consistency is checked). A later creation
    of the same id counts only as the replacement of an untouched example draft: it names the digest it
    replaced (`after.replaced_example`), which must be the one the earlier creation recorded."""
    created: dict[str, dict[str, Any]] = {}
    for entry in entries:  # in chain order
        if entry["action"] in CREATIONS:
            earlier, replaced = created.get(entry["resource"]), _recorded(entry, "replaced_example")
            if earlier is None or (replaced is not None and replaced == _recorded(earlier, "sha256")):
                created[entry["resource"]] = entry
    problems: list[dict[str, Any]] = []
    compared = 0
    for node_id, digest in nodes:
        entry = created.get(node_id)
        if entry is None:
            problems.append({"seq": None, "problem": f"node {node_id} has no audited creation: it was written into "
                                                     "the database outside the factory"})
            continue
        recorded = _recorded(entry, "sha256")
        if recorded is None:
            continue
        compared += 1
        if recorded != digest:
            problems.append({"seq": entry["seq"], "problem": f"node {node_id}: its artifact_sha256 {digest[:12]}… is "
                             f"not the {recorded[:12]}… its audited creation recorded (the template was swapped)"})
    return problems, compared


def _recorded(entry: dict[str, Any], key: str) -> Any:
    after = entry.get("after")
    return after.get(key) if isinstance(after, dict) else None
