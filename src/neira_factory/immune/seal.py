"""What the audit chain is sealed with outside the database: the audit key and the head's checkpoint.

The key is the `audit_key` setting (`NEIRA_AUDIT_KEY`; replicas on one database must share it), else
`<var_dir>/audit-key`, generated on first use (mode 0600). Losing it does not lose the trail, but its keyed
entries can no longer be verified: back it up apart from the database.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..config import MIN_AUDIT_KEY_LEN, Settings
from ..config.secret_file import generated_secret
from .chain import AuditKey
from .checkpoint import CHECKPOINT_FILE, Checkpoint

log = logging.getLogger(__name__)
KEY_FILE = "audit-key"


@dataclass(frozen=True)
class AuditSeal:
    """Without a key, entries are appended unkeyed (a database opened by a tool, not by the factory); without a
    checkpoint, none is kept."""
    key: AuditKey | None = None
    checkpoint: Checkpoint | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditSeal:
        path = settings.var_dir / KEY_FILE
        secret = settings.audit_key or generated_secret(path)
        if len(secret) < MIN_AUDIT_KEY_LEN:
            raise ValueError(f"{path}: the audit key is shorter than {MIN_AUDIT_KEY_LEN} characters; restore the "
                             "file from a backup or set NEIRA_AUDIT_KEY")
        if not settings.audit_key and not settings.database_url.startswith("sqlite"):
            log.warning("the audit chain is keyed with %s: replicas on one database must share one key, so set "
                        "NEIRA_AUDIT_KEY on every replica (or give them this file)", path)
        return cls(AuditKey.from_secret(secret), Checkpoint(settings.var_dir / CHECKPOINT_FILE))

    def committed(self, seq: int, digest: str) -> None:
        """After a commit that appended entries up to `seq`: advance the checkpoint. The commit stands whatever
        happens here; a checkpoint left behind only narrows what `verify` can see."""
        if self.checkpoint is None:
            return
        try:
            self.checkpoint.advance(seq, digest)
        except OSError:
            log.warning("audit entry %s is committed, but the audit checkpoint could not be written", seq,
                        exc_info=True)

    def check_head(self, head_seq: int, hashes: dict[int, str]) -> tuple[dict[str, Any] | None, list[dict], list[str]]:
        """The checkpoint's verdict on the chain's head (`Checkpoint.check`)."""
        if self.checkpoint is None:
            return None, [], ["this process keeps no audit checkpoint: truncation cannot be detected"]
        return self.checkpoint.check(head_seq, hashes)
