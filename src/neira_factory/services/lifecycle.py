"""Lifecycle transitions: approve, rollback, disable, quarantine, release — one transaction each,
with the transition row, the audit entry and the conditional state update together.

`apply` is the transition inside a unit of work the caller holds (the watchdog's
automatic rollback and graduation, the immune system's quarantine use it too);
`transition` is the whole use case for a human.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..domain.actors import IMMUNE, SYSTEM, WATCHDOG, Actor
from ..domain.errors import AnalysisNotPassed, BadInput, Conflict, InvalidTransition
from ..domain.events import Event
from ..domain.lifecycle import Action, Guard, State, allowed_actions, rule_for
from ..domain.references import self_edit_gates, template_gates
from ..domain.report import blocking
from ..domain.templates import OrganTemplate
from ..immune.integrity import IntegrityError
from ..store import NodeRecord, UnitOfWork
from . import analysis
from .factory import LIVE_STATES, Factory


@dataclass
class Applied:
    node: NodeRecord
    previous: str
    forced: bool = False
    moves: list[tuple[str, str]] = field(default_factory=list)


def members_serve(uow: UnitOfWork, organ: OrganTemplate) -> None:
    """An organ leaves draft only when each of its nodes exists and is live (canary, experimental, stable)."""
    for node_id in organ.nodes:
        member = uow.nodes.get(node_id)
        if member is None or member.state not in LIVE_STATES:
            state = member.state if member else "missing"
            raise Conflict(f"organ {organ.id} cannot leave draft: its node {node_id} is {state}; approve the node "
                           f"first", code="organ_nodes_not_live", node=node_id, state=state)


def _guard(f: Factory, uow: UnitOfWork, actor: Actor, record: NodeRecord, guard: Guard, *, force: bool,
           reason: str | None) -> tuple[bool, dict[str, Any] | None]:
    """Run the rule's guard; returns (forced, evidence)."""
    if guard in (Guard.DRY_RUN_CLEAN, Guard.INTEGRITY):
        template = f.load_template(uow, record)  # raises on an integrity mismatch
        f.backends.verify(template)  # and so does a changed artifact it points at (a wasm module)
        if guard is Guard.DRY_RUN_CLEAN and blocking((record.report or {}).get("risks", [])):
            raise BadInput("the dry-run report has blocking risks", code="dry_run_failed")
        if guard is Guard.DRY_RUN_CLEAN and record.is_organ:
            members_serve(uow, template)
        return False, None
    if guard is Guard.ANALYSIS_PASSED:
        verdict = analysis.gate(f, uow, record)
        if verdict["passed"]:
            return False, verdict
        if not force:
            raise AnalysisNotPassed(f"analysis has not passed: {verdict['reason']}", analysis=verdict)
        f.authorize(uow, actor, "nodes.force")
        if not reason:
            raise BadInput("force needs a reason", field="reason")
        return True, verdict
    return False, None


def move(f: Factory, uow: UnitOfWork, actor: Actor, record: NodeRecord, action: Action, to: State, *,
         reason: str | None, forced: bool = False, evidence: dict[str, Any] | None = None) -> NodeRecord:
    """The state change itself: conditional update + transition row + audit entry + event."""
    prev_state = record.state if action is Action.QUARANTINE else None
    moved = uow.nodes.move(record, to.value, prev_state=prev_state)
    if moved is None:
        current = uow.nodes.get(record.id)
        state = current.state if current else "gone"
        raise InvalidTransition(f"{record.id} changed meanwhile (now {state}); retry from the new state",
                                state=state, allowed=allowed_actions(state, organ=record.is_organ) if current else [])
    uow.nodes.add_transition(record.id, action.value, record.state, to.value, actor.name, reason, forced)
    uow.audit.append(actor.name, f"node.{action.value}", record.id,
                     before={"state": record.state, "row_version": record.row_version},
                     after={"state": to.value, "row_version": moved.row_version, "forced": forced,
                            **({"evidence": evidence} if evidence else {})},
                     reason=reason)
    uow.announce(Event("node.transition", record.id, {"action": action.value, "from": record.state,
                                                      "to": to.value, "route": record.route, "kind": record.kind,
                                                      "actor": actor.name,
                                                      "forced": forced, "reason": reason}))
    return moved


def gates_of(f: Factory, uow: UnitOfWork, record: NodeRecord) -> tuple[str, ...]:
    """The self_edit gate when the node or organ names a factory module: by its id or route, or anywhere
    in its template (links, chain, routing targets, members). A template that no longer verifies is
    judged by its id and route, so that it can still be quarantined or disabled."""
    named = self_edit_gates(record.id, record.route)
    if named:
        return named
    try:
        return template_gates(f.load_template(uow, record))
    except IntegrityError:
        return ()


def apply(f: Factory, uow: UnitOfWork, actor: Actor, record: NodeRecord, act: Action, *, reason: str | None,
          force: bool = False, evidence: dict[str, Any] | None = None) -> Applied:
    """Authorize, guard and make one transition, with its consequences on the route:
    a new stable version deprecates the old one; rolling back a stable one reinstates its predecessor."""
    rule = rule_for(record.state, act, organ=record.is_organ)
    system = actor.name in (SYSTEM.name, WATCHDOG.name, IMMUNE.name)  # their protective moves need no gate
    f.authorize(uow, actor, f"nodes.{act.value}", owner=record.created_by,
                gates=() if system else gates_of(f, uow, record))
    forced, verdict = _guard(f, uow, actor, record, rule.guard, force=force, reason=reason)
    to = rule.to or State(record.prev_state or State.DRAFT.value)
    moved = move(f, uow, actor, record, act, to, reason=reason, forced=forced, evidence=evidence or verdict)
    done = Applied(moved, record.state, forced, [(record.state, to.value)])
    if to is State.STABLE:
        for old in uow.nodes.list(route=record.route, state=State.STABLE.value):
            if old.id != record.id:
                move(f, uow, SYSTEM, old, Action.SUPERSEDE, State.DEPRECATED, reason=f"superseded by {record.id}")
                done.moves.append((State.STABLE.value, State.DEPRECATED.value))
    if act is Action.ROLLBACK and record.state == State.STABLE.value:
        previous = uow.nodes.list(route=record.route, state=State.DEPRECATED.value, limit=1)
        if previous:
            move(f, uow, SYSTEM, previous[0], Action.REINSTATE, State.STABLE, reason=f"{record.id} was rolled back")
            done.moves.append((State.DEPRECATED.value, State.STABLE.value))
    return done


def count(f: Factory, act: Action, done: Applied, cause: str = "admin") -> None:
    """Metrics for a committed transition."""
    for source, target in done.moves:
        f.metrics.transitions.labels(source, target).inc()
    if act is Action.APPROVE:
        f.metrics.approvals.inc()
    elif act is Action.ROLLBACK:
        f.metrics.rollbacks.inc()
    elif act is Action.QUARANTINE:
        f.metrics.quarantines.labels(cause).inc()


def transition(f: Factory, actor: Actor, node_id: str, action: str, *, reason: str | None = None,
               force: bool = False) -> dict[str, Any]:
    try:
        act = Action(action)
    except ValueError:
        raise BadInput(f"unknown action {action!r}", field="action") from None
    if act is Action.APPROVE:
        f.flush_stats()  # the analysis must see this replica's latest counters
    with f.write() as uow:
        record = f.node(uow, node_id)
        done = apply(f, uow, actor, record, act, reason=reason, force=force)
    count(f, act, done)
    return {"id": done.node.id, "state": done.node.state, "previous": done.previous, "forced": done.forced,
            "allowed": allowed_actions(done.node.state, organ=done.node.is_organ)}
