"""Content addressing: every artifact is known by its sha256 and re-checked at every load."""
from __future__ import annotations

import hashlib

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
