"""The Node aggregate: one node (or organ) version and every change of its state.

`Node.draft` makes a new version; `Node.plan` applies a lifecycle action and returns
the transitions it causes on the route (a new stable version supersedes the old
one; rolling back a stable version reinstates its predecessor). Each `Transition`
carries its audit entry and event, so the services only authorise, guard and
persist what the aggregate decided.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from .actors import EXAMPLES, SYSTEM, Actor
from .events import Event
from .lifecycle import Action, Rule, State, rule_for
from .templates import NodeTemplate, OrganTemplate

ORGAN = "organ"


@dataclass(frozen=True)
class Node:
    id: str
    route: str
    version: str
    kind: str
    node_type: str
    backend: str
    state: State
    prev_state: State | None
    artifact_sha256: str
    report: dict[str, Any] | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    row_version: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", State(self.state))
        if self.prev_state is not None:
            object.__setattr__(self, "prev_state", State(self.prev_state))

    @property
    def is_organ(self) -> bool:
        return self.kind == ORGAN

    def yields_to(self, *, organ: bool) -> bool:
        """An example loaded at start-up that nobody has moved gives way to a client's template of its id (a node
        for a node, an organ for an organ): that template replaces it, as Neira's own factory would. A node that
        leaves draft naming it moves it on too (NodeRepository.pin_examples): what that node runs stays put."""
        return (self.created_by == EXAMPLES.name and self.state is State.DRAFT and self.row_version == 1
                and self.is_organ == organ)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("report")
        data["state"] = self.state.value
        data["prev_state"] = self.prev_state.value if self.prev_state else None
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        return data

    # -- a new version --------------------------------------------------------------------
    @classmethod
    def draft(cls, template: NodeTemplate | OrganTemplate, *, sha256: str, report: dict[str, Any] | None,
              actor: Actor, at: datetime, state: State = State.DRAFT) -> Node:
        """A new version of `template` in `state` (draft, or stable for the factory's own seeded modules)."""
        organ = isinstance(template, OrganTemplate)
        return cls(id=template.id, route=template.route_name, version=template.version,
                   kind=ORGAN if organ else template.kind, node_type=template.node_type,
                   backend=ORGAN if organ else template.backend, state=state, prev_state=None,
                   artifact_sha256=sha256, report=report, created_by=actor.name, created_at=at, updated_at=at,
                   row_version=1)

    def created(self, action: str, actor: Actor, *, reason: str | None = None,
                audit: dict[str, Any] | None = None, replaces: Node | None = None) -> Creation:
        """The record of this version's creation: its first transition, audit entry and event."""
        return Creation(self, action, actor.name, reason, audit or {}, replaces)

    # -- lifecycle ----------------------------------------------------------------------------
    def rule(self, action: Action | str) -> Rule:
        """The lifecycle rule for `action` from this state, or InvalidTransition."""
        return rule_for(self.state, action, organ=self.is_organ)

    def plan(self, action: Action, actor: Actor, *, reason: str | None, forced: bool = False,
             evidence: dict[str, Any] | None = None, stable: Sequence[Node] = (),
             deprecated: Node | None = None) -> list[Transition]:
        """The transitions `action` causes: this node's own, then its consequences on the route.
        `stable` are the route's stable versions and `deprecated` its latest deprecated one (read by the
        caller only where the consequence can apply: see `needs_route`)."""
        to = self.rule(action).to or (self.prev_state or State.DRAFT)
        own = Transition(self, action, to, actor.name, reason, forced, evidence,
                         prev_state=self.state if action is Action.QUARANTINE else None)
        moves = [own]
        if to is State.STABLE:
            moves += [Transition(old, Action.SUPERSEDE, State.DEPRECATED, SYSTEM.name, f"superseded by {self.id}")
                      for old in stable if old.id != self.id]
        if action is Action.ROLLBACK and self.state is State.STABLE and deprecated is not None:
            moves.append(Transition(deprecated, Action.REINSTATE, State.STABLE, SYSTEM.name,
                                    f"{self.id} was rolled back"))
        return moves

    def needs_route(self, action: Action) -> tuple[bool, bool]:
        """Whether `plan` needs the route's stable versions and its latest deprecated one."""
        to = self.rule(action).to
        return to is State.STABLE, action is Action.ROLLBACK and self.state is State.STABLE

    def moved(self, to: State, *, prev_state: State | None, at: datetime) -> Node:
        """This version after a committed move."""
        return replace(self, state=to, prev_state=prev_state, updated_at=at, row_version=self.row_version + 1)


@dataclass(frozen=True)
class Creation:
    """A new version's first transition (from nothing), audit entry and event."""

    node: Node
    action: str  # create, build, seed
    actor: str
    reason: str | None
    audit: dict[str, Any] = field(default_factory=dict)
    replaces: Node | None = None  # an untouched example draft of the same id (yields_to)

    @property
    def audit_action(self) -> str:
        return {"create": "node.create", "build": "organ.build", "seed": "factory.seed"}[self.action]

    def audit_after(self) -> dict[str, Any]:
        replaced = {"replaced_example": self.replaces.artifact_sha256} if self.replaces else {}
        return {"state": self.node.state.value, **self.audit, **replaced}

    def event(self) -> Event:
        kind = "organ" if self.node.is_organ else "node"
        return Event(f"{kind}.created", self.node.id, {"state": self.node.state.value, "route": self.node.route,
                                                       "actor": self.actor})


@dataclass(frozen=True)
class Transition:
    """One state change the aggregate decided, to be persisted as a conditional update, a transition row, an
    audit entry and an event in one transaction."""

    node: Node
    action: Action
    to: State
    actor: str
    reason: str | None
    forced: bool = False
    evidence: dict[str, Any] | None = None
    prev_state: State | None = None  # kept for release: the state before quarantine

    def audit_before(self) -> dict[str, Any]:
        return {"state": self.node.state.value, "row_version": self.node.row_version}

    def audit_after(self, moved: Node) -> dict[str, Any]:
        return {"state": self.to.value, "row_version": moved.row_version, "forced": self.forced,
                **({"evidence": self.evidence} if self.evidence else {})}

    def event(self) -> Event:
        node = self.node
        return Event("node.transition", node.id, {"action": self.action.value, "from": node.state.value,
                                                  "to": self.to.value, "route": node.route, "kind": node.kind,
                                                  "actor": self.actor, "forced": self.forced,
                                                  "reason": self.reason})
