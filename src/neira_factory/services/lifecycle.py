"""Lifecycle transitions: approve, rollback, disable, quarantine, release — one transaction each,
with the transition row, the audit entry and the conditional state update together."""
from __future__ import annotations

from typing import Any

from ..domain.actors import SYSTEM, Actor
from ..domain.errors import AnalysisNotPassed, BadInput, InvalidTransition
from ..domain.events import Event
from ..domain.lifecycle import Action, Guard, State, allowed_actions, rule_for
from ..domain.report import blocking
from ..store import NodeRecord, UnitOfWork
from .factory import Factory


def _guard(f: Factory, uow: UnitOfWork, actor: Actor, record: NodeRecord, guard: Guard, *, force: bool,
           reason: str | None) -> tuple[bool, dict[str, Any] | None]:
    """Run the rule's guard; returns (forced, evidence)."""
    if guard in (Guard.DRY_RUN_CLEAN, Guard.INTEGRITY):
        f.load_template(uow, record)  # raises on an integrity mismatch
        if guard is Guard.DRY_RUN_CLEAN and blocking((record.report or {}).get("risks", [])):
            raise BadInput("the dry-run report has blocking risks", code="dry_run_failed")
        return False, None
    if guard is Guard.ANALYSIS_PASSED:
        verdict = f.analysis.verdict(uow, record)
        if verdict.get("passed"):
            return False, verdict
        if not force:
            raise AnalysisNotPassed(f"analysis has not passed: {verdict.get('reason')}", analysis=verdict)
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
                                state=state, allowed=allowed_actions(state) if current else [])
    uow.nodes.add_transition(record.id, action.value, record.state, to.value, actor.name, reason, forced)
    uow.audit.append(actor.name, f"node.{action.value}", record.id,
                     before={"state": record.state, "row_version": record.row_version},
                     after={"state": to.value, "row_version": moved.row_version, "forced": forced,
                            **({"evidence": evidence} if evidence else {})},
                     reason=reason)
    uow.announce(Event("node.transition", record.id, {"action": action.value, "from": record.state,
                                                      "to": to.value, "actor": actor.name, "forced": forced}))
    return moved


def transition(f: Factory, actor: Actor, node_id: str, action: str, *, reason: str | None = None,
               force: bool = False) -> dict[str, Any]:
    try:
        act = Action(action)
    except ValueError:
        raise BadInput(f"unknown action {action!r}", field="action") from None
    moves: list[tuple[str, str]] = []
    with f.write() as uow:
        record = f.node(uow, node_id)
        rule = rule_for(record.state, act)
        f.authorize(uow, actor, f"nodes.{act.value}", owner=record.created_by)
        forced, evidence = _guard(f, uow, actor, record, rule.guard, force=force, reason=reason)
        to = rule.to or State(record.prev_state or State.DRAFT.value)
        moved = move(f, uow, actor, record, act, to, reason=reason, forced=forced, evidence=evidence)
        moves.append((record.state, to.value))
        if to is State.STABLE:
            for old in uow.nodes.list(route=record.route, state=State.STABLE.value):
                if old.id != record.id:
                    move(f, uow, SYSTEM, old, Action.SUPERSEDE, State.DEPRECATED, reason=f"superseded by {record.id}")
                    moves.append((State.STABLE.value, State.DEPRECATED.value))
    for source, target in moves:
        f.metrics.transitions.labels(source, target).inc()
    if act is Action.APPROVE:
        f.metrics.approvals.inc()
    if act is Action.ROLLBACK:
        f.metrics.rollbacks.inc()
    return {"id": moved.id, "state": moved.state, "previous": record.state, "forced": forced,
            "allowed": allowed_actions(moved.state)}
