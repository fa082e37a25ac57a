"""Lifecycle transitions: approve, rollback, disable, quarantine, release — one transaction each,
with the transition row, the audit entry and the conditional state update together.

`apply` is the transition inside a unit of work the caller holds (the watchdog's
automatic rollback and graduation, the immune system's quarantine use it too);
`transition` is the whole use case for a human; its answer is a `TransitionResult`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from ..backends import Backends
from ..domain.actors import IMMUNE, SYSTEM, WATCHDOG, Actor
from ..domain.errors import AnalysisNotPassed, BadInput, Conflict, InvalidTransition
from ..domain.lifecycle import LIVE, Action, Guard, State, allowed_actions
from ..domain.references import named, self_edit_gates, template_gates
from ..domain.report import blocking
from ..domain.templates import OrganTemplate
from ..immune.integrity import IntegrityError
from ..domain.node import Creation, Node, Transition
from ..nervous.metrics import FactoryMetrics
from ..store.templates import load_template, require_node
from . import analysis, integrations
from .ports import Authorize, FlushStats, PolicyStateOf, Write, UnitOfWork


@dataclass(frozen=True)
class Deps:
    """What a transition uses: a write, the policy, the backends (to verify artifacts), the metrics, the analysis,
    and the policy's state (a draft's required integrations are judged again as it leaves draft)."""

    write: Write
    authorize: Authorize
    backends: Backends
    metrics: FactoryMetrics
    flush_stats: FlushStats
    analysis: analysis.Deps
    policy_state: PolicyStateOf


class TransitionResult(BaseModel):
    id: str
    state: str
    previous: str
    forced: bool
    allowed: list[str]


@dataclass
class Applied:
    node: Node
    previous: str
    forced: bool = False
    moves: list[tuple[str, str]] = field(default_factory=list)


def members_serve(uow: UnitOfWork, organ: OrganTemplate) -> None:
    """An organ leaves draft only when each of its nodes exists and is live (canary, experimental, stable)."""
    for node_id in organ.nodes:
        member = uow.nodes.get(node_id)
        if member is None or member.state not in LIVE:
            state = member.state if member else "missing"
            raise Conflict(f"organ {organ.id} cannot leave draft: its node {node_id} is {state}; approve the node "
                           f"first", code="organ_nodes_not_live", node=node_id, state=state)


def _guard(f: Deps, uow: UnitOfWork, actor: Actor, record: Node, guard: Guard, *, force: bool,
           reason: str | None) -> tuple[bool, dict[str, Any] | None]:
    """Run the rule's guard; returns (forced, evidence)."""
    if guard in (Guard.DRY_RUN_CLEAN, Guard.INTEGRITY):
        template = load_template(uow, record)  # raises on an integrity mismatch
        f.backends.verify(template)  # and so does a changed artifact it points at (a wasm module)
        if guard is Guard.DRY_RUN_CLEAN and blocking((record.report or {}).get("risks", [])):
            raise BadInput("the dry-run report has blocking risks", code="dry_run_failed")
        if guard is Guard.DRY_RUN_CLEAN and record.is_organ:
            members_serve(uow, template)
        elif guard is Guard.DRY_RUN_CLEAN:  # what it requires may have gone since its dry-run
            integrations.require(uow, template, f.policy_state(uow), record.artifact_sha256)
        if guard is Guard.DRY_RUN_CLEAN:  # it runs what it names as they are now: an example among them stops yielding
            uow.nodes.pin_examples([name for field, name in named(template) if field not in ("id", "route")])
        return False, None
    if guard is Guard.ANALYSIS_PASSED:
        verdict = analysis.gate(f.analysis, uow, record)
        if verdict["passed"]:
            return False, verdict
        if not force:
            raise AnalysisNotPassed(f"analysis has not passed: {verdict['reason']}", analysis=verdict)
        f.authorize(uow, actor, "nodes.force")
        if not reason:
            raise BadInput("force needs a reason", field="reason")
        return True, verdict
    return False, None


def persist(uow: UnitOfWork, change: Transition) -> Node:
    """A transition the aggregate decided: conditional update + transition row + audit entry + event."""
    record = change.node
    moved = uow.nodes.move(record, change.to, prev_state=change.prev_state)
    if moved is None:
        current = uow.nodes.get(record.id)
        state = current.state.value if current else "gone"
        raise InvalidTransition(f"{record.id} changed meanwhile (now {state}); retry from the new state",
                                state=state, allowed=allowed_actions(state, organ=record.is_organ) if current else [])
    uow.nodes.add_transition(record.id, change.action.value, record.state.value, change.to.value, change.actor,
                             change.reason, change.forced)
    uow.audit.append(change.actor, f"node.{change.action.value}", record.id, before=change.audit_before(),
                     after=change.audit_after(moved), reason=change.reason)
    uow.announce(change.event())
    return moved


def create(uow: UnitOfWork, creation: Creation) -> None:
    """A new version the aggregate made: its row, first transition, audit entry and event."""
    node = creation.node
    if creation.replaces is None:
        uow.nodes.add(node)
    elif not uow.nodes.replace(node, creation.replaces):
        raise Conflict(f"{node.id} already exists and was moved or replaced meanwhile", id=node.id)
    uow.nodes.add_transition(node.id, creation.action, None, node.state.value, creation.actor, creation.reason)
    uow.audit.append(creation.actor, creation.audit_action, node.id, after=creation.audit_after(),
                     reason=creation.reason)
    uow.announce(creation.event())


def claim_id(uow: UnitOfWork, node_id: str, *, organ: bool) -> Node | None:
    """Before a new version takes `node_id`: None when the id is free, the untouched example draft it replaces
    (Node.yields_to), else Conflict."""
    existing = uow.nodes.get(node_id)
    if existing is not None and not existing.yields_to(organ=organ):
        raise Conflict(f"{'organ' if organ else 'node'} {node_id} already exists", id=node_id)
    return existing


def gates_of(uow: UnitOfWork, record: Node) -> tuple[str, ...]:
    """The self_edit gate when the node or organ names a factory module: by its id or route, or anywhere
    in its template (links, chain, routing targets, members). A template that no longer verifies is
    judged by its id and route, so that it can still be quarantined or disabled."""
    named = self_edit_gates(record.id, record.route)
    if named:
        return named
    try:
        return template_gates(load_template(uow, record))
    except IntegrityError:
        return ()


def apply(f: Deps, uow: UnitOfWork, actor: Actor, record: Node, act: Action, *, reason: str | None,
          force: bool = False, evidence: dict[str, Any] | None = None) -> Applied:
    """Authorize, guard and make one transition, with the consequences the aggregate plans on the route."""
    rule = record.rule(act)
    system = actor.name in (SYSTEM.name, WATCHDOG.name, IMMUNE.name)  # their protective moves need no gate
    f.authorize(uow, actor, f"nodes.{act.value}", owner=record.created_by,
                gates=() if system else gates_of(uow, record))
    forced, verdict = _guard(f, uow, actor, record, rule.guard, force=force, reason=reason)
    needs_stable, needs_deprecated = record.needs_route(act)
    stable = uow.nodes.list(route=record.route, state=State.STABLE.value) if needs_stable else []
    deprecated = uow.nodes.list(route=record.route, state=State.DEPRECATED.value, limit=1) if needs_deprecated else []
    changes = record.plan(act, actor, reason=reason, forced=forced, evidence=evidence or verdict, stable=stable,
                          deprecated=deprecated[0] if deprecated else None)
    moved = [persist(uow, change) for change in changes]
    return Applied(moved[0], record.state.value, forced, [(c.node.state.value, c.to.value) for c in changes])


def count(f: Deps, act: Action, done: Applied, cause: str = "admin") -> None:
    """Metrics for a committed transition."""
    for source, target in done.moves:
        f.metrics.transitions.labels(source, target).inc()
    if act is Action.APPROVE:
        f.metrics.approvals.inc()
    elif act is Action.ROLLBACK:
        f.metrics.rollbacks.inc()
    elif act is Action.QUARANTINE:
        f.metrics.quarantines.labels(cause).inc()


def transition(f: Deps, actor: Actor, node_id: str, action: str, *, reason: str | None = None,
               force: bool = False) -> TransitionResult:
    try:
        act = Action(action)
    except ValueError:
        raise BadInput(f"unknown action {action!r}", field="action") from None
    if act is Action.APPROVE:
        f.flush_stats()  # the analysis must see this replica's latest counters
    with f.write() as uow:
        record = require_node(uow, node_id)
        done = apply(f, uow, actor, record, act, reason=reason, force=force)
    count(f, act, done)
    return TransitionResult(id=done.node.id, state=done.node.state.value, previous=done.previous, forced=done.forced,
                            allowed=allowed_actions(done.node.state, organ=done.node.is_organ))
