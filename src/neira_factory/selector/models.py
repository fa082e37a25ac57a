"""What the selector reads and answers: NodeEntry, SelectorQuery, Candidate, SelectorDecision."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from neira_factory.domain.errors import BadInput
from neira_factory.domain.lifecycle import State
from neira_factory.domain.schemas import signature

REUSABLE_STATES = frozenset({State.EXPERIMENTAL.value, State.STABLE.value})


@dataclass(frozen=True)
class NodeEntry:
    """What the selector knows of a registered node version."""

    id: str
    route: str
    version: str
    kind: str
    node_type: str
    state: str
    input_schema: dict
    output_schema: dict


@dataclass(frozen=True)
class SelectorQuery:
    """A request for a node: its kind (and type), the io it must serve, and preferences.

    `input_schema` is what the requester will send (the node's input must accept it);
    `output_schema` is what the requester needs back (the node's output must fit it).
    `allowed_types` / `blocked_types` name node types (`text_normalize`, …).
    """

    kind: str
    node_type: str | None = None
    input_schema: dict | None = None
    output_schema: dict | None = None
    allowed_types: frozenset[str] | None = None
    blocked_types: frozenset[str] = frozenset()
    prefer_id: str | None = None
    prefer_version: str | None = None
    limit: int = 5

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise BadInput("limit must be at least 1", field="limit")

    @property
    def wanted(self) -> str:
        """`kind/node_type`, or the kind alone, as reasons name it."""
        return f"{self.kind}/{self.node_type}" if self.node_type else self.kind

    def signatures(self) -> tuple[frozenset[str] | None, frozenset[str] | None]:
        """Index keys of the requested (input, output) schemas; None where the query sets none."""
        return (
            None if self.input_schema is None else signature(self.input_schema),
            None if self.output_schema is None else signature(self.output_schema),
        )


@dataclass(frozen=True)
class Candidate:
    """A fitting node with its score and a one-line explanation of it."""

    id: str
    version: str
    state: str
    score: float
    explanation: str


@dataclass(frozen=True)
class SelectorDecision:
    """`reuse` the first candidate, or `create` a node; `reason` says why in one line."""

    decision: str  # "reuse" | "create"
    candidates: list[Candidate] = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "reason": self.reason, "candidates": [asdict(c) for c in self.candidates]}
