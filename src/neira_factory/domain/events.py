"""Events the factory announces: transitions, verdicts, capability and safe-mode changes."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    type: str  # e.g. node.transition, capability.changed, safe_mode.changed
    resource: str
    data: dict[str, Any] = field(default_factory=dict)
    ts: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "resource": self.resource, "data": self.data, "ts": self.ts}
