"""Plain records the repositories return: no SQLAlchemy objects leak past the store."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class NodeRecord:
    id: str
    route: str
    version: str
    kind: str
    node_type: str
    backend: str
    state: str
    prev_state: str | None
    artifact_sha256: str
    report: dict[str, Any] | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    row_version: int

    @property
    def is_organ(self) -> bool:
        return self.kind == "organ"

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("report")
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        return data


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
