"""Plain records the repositories return besides domain nodes: no SQLAlchemy objects leak past the store."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TransitionRecord:
    action: str
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    forced: bool
    ts: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ts": self.ts.isoformat()}


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: str
    actor: str
    action: str
    resource: str
    before: Any
    after: Any
    reason: str | None
    prev_hash: str
    hash: str
    key_id: str | None = None  # None: a legacy entry, hashed before the chain was keyed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
