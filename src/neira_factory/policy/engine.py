"""Policy decisions with reasons: scopes, safe-mode, capability gates, four-eyes.

Every decision names why, and a refusal carries the code the API returns
(`insufficient_scope`, `safe_mode`, `capability_disabled`, `four_eyes`).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..domain.actors import Actor
from ..domain.capabilities import GateState, is_open
from ..domain.errors import Forbidden
from .rules import ACTIONS


@dataclass(frozen=True)
class PolicyState:
    """What the engine needs to know about the world right now."""

    gates: dict[str, str]
    safe_mode: bool = False
    four_eyes: bool = False

    @cached_property
    def closed(self) -> frozenset[str]:
        """The gates that are off (locked, disabled, deprecated): kill switches for what they govern."""
        return frozenset(gate for gate, state in self.gates.items() if not is_open(state))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    code: str = "allowed"
    extra: dict[str, Any] = field(default_factory=dict)

    def enforce(self) -> "Decision":
        if not self.allowed:
            raise Forbidden(self.reason, code=self.code, **self.extra)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "code": self.code, "reason": self.reason, **self.extra}


class PolicyEngine:
    def decide(
        self,
        actor: Actor,
        action: str,
        state: PolicyState,
        *,
        gates: Iterable[str] = (),
        owner: str | None = None,
    ) -> Decision:
        rule = ACTIONS[action]
        if not actor.has(rule.scope):
            return Decision(False, f"{action} needs scope {rule.scope}; {actor.name} has {actor.scope}",
                            "insufficient_scope", {"required_role": rule.scope})
        if rule.mutates and state.safe_mode and not actor.has("admin"):
            return Decision(False, f"safe-mode is on: {action} needs admin", "safe_mode", {"required_role": "admin"})
        for gate in gates:
            gate_state = state.gates.get(gate)
            if gate_state is None or not is_open(gate_state):
                shown = gate_state or "unknown"
                hint = "an admin can unlock it" if gate_state == GateState.LOCKED.value else "it is off"
                return Decision(False, f"capability {gate} is {shown}; {hint}", "capability_disabled",
                                {"capability": gate})
        if rule.human and state.four_eyes and owner is not None and owner == actor.name:
            return Decision(False, f"four-eyes rule: {actor.name} created this and cannot approve it", "four_eyes")
        return Decision(True, f"{actor.name} ({actor.scope}) may {action}")
