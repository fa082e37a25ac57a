"""Required integrations: what a node template may declare in `requires`, and the shape of each finding.

An entry is `metrics`, `immune`, `memory:ROUTE`, `node:ID` (or a route) or `capability:NAME`. Every node
requires `metrics` and `immune` whether it says so or not (IMPLICIT). services/integrations.py judges
each one against the factory as it is; a missing one is a blocking risk.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .ids import MAX_ID_LEN, is_valid_id

MAX_REQUIRES = 32
MAX_REQUIREMENT_CHARS = len("capability:") + MAX_ID_LEN  # the longest kind and the longest target
IMPLICIT = ("metrics", "immune")
TARGETS = {"memory": "ROUTE", "node": "ID", "capability": "NAME"}  # the kinds that name something
GATE_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
SHAPES = ", ".join([*IMPLICIT, *(f"{kind}:{what}" for kind, what in TARGETS.items())])
# what a verdict may say (the admin UI phrases each as `integration_<code>` in its languages)
CODES = ("metrics_registered", "digest_pinned", "memory_served", "memory_not_served", "node_present", "node_gone",
         "route_live", "route_not_live", "node_unknown", "gate_open", "gate_closed", "gate_unknown")


@dataclass(frozen=True)
class Requirement:
    kind: str
    target: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Requirement":
        """The entry's kind and target; ValueError saying what is wrong with it."""
        kind, colon, target = text.partition(":")
        if kind in IMPLICIT:
            if colon:
                raise ValueError(f"{kind} takes no target: write `{kind}`")
            return cls(kind)
        if kind not in TARGETS:
            raise ValueError(f"unknown kind {kind!r}: one of {SHAPES}")
        if not target:
            raise ValueError(f"{kind} needs a target: {kind}:{TARGETS[kind]}")
        valid = GATE_NAME_RE.match(target) is not None if kind == "capability" else is_valid_id(target)
        if not valid:
            shape = ("a gate name (lowercase letters, digits and _)" if kind == "capability"
                     else "an id or route: kind.namespace.name[.vN]")
            raise ValueError(f"{kind}:{TARGETS[kind]} takes {shape}")
        return cls(kind, target)

    def __str__(self) -> str:
        return self.kind if self.target is None else f"{self.kind}:{self.target}"


def requirement_text(value: str) -> str:
    """Validator body for one `requires` entry: its shape is checked where it is written."""
    return str(Requirement.parse(value))


def unique(values: list[str]) -> list[str]:
    """Validator body for the list: an entry said twice is a mistake, not an emphasis."""
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in seen:
            raise ValueError(f"requires.{i} repeats requires.{seen[value]} ({value})")
        seen[value] = i
    return values


def declared(requires: list[str]) -> list[tuple[Requirement, bool]]:
    """(requirement, implicit) for the two every node has, then each declared one in order."""
    written = [Requirement.parse(text) for text in requires]
    implicit = [(Requirement(kind), True) for kind in IMPLICIT if Requirement(kind) not in written]
    return [*implicit, *((requirement, False) for requirement in written)]


@dataclass(frozen=True)
class Verdict:
    """A requirement judged: satisfied or not, a `code` and its parameters (`evidence`) for a UI to phrase in
    its own language, and the reason in English."""

    satisfied: bool
    code: str
    reason: str
    evidence: dict[str, Any]

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown verdict code {self.code!r}")


@dataclass(frozen=True)
class Finding:
    requirement: Requirement
    implicit: bool
    verdict: Verdict

    @property
    def satisfied(self) -> bool:
        return self.verdict.satisfied

    def to_dict(self) -> dict[str, Any]:
        v = self.verdict
        return {"requirement": str(self.requirement), "kind": self.requirement.kind,
                "target": self.requirement.target, "implicit": self.implicit, "satisfied": v.satisfied,
                "code": v.code, "reason": v.reason, "evidence": v.evidence}
