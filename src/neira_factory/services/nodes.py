"""Reading nodes, and running one: a dry-run execution for drafts, a real one otherwise.

The answers are `NodeSummary` (the list; organs are listed with it too), `NodeDetail` and `RunResult`."""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from ..domain.actors import Actor
from ..domain.capabilities import FACTORY_NODE_PREFIX
from ..domain.errors import Conflict
from ..domain.lifecycle import State, allowed_actions
from ..domain.references import self_edit_gates
from ..domain.node import Node
from ..policy import PolicyEngine
from ..store.templates import load_template, require_node
from .execution import Outcome, require_open
from . import execution
from .ports import Authorize, PolicyStateOf, Read, UnitOfWork

NOT_RUNNABLE = (State.DISABLED.value, State.QUARANTINED.value, State.FAILED.value)


@dataclass(frozen=True)
class Deps:
    """What reading and running a node uses: a read, the policy, execution, and the runtime's cache of the
    nodes it links to or runs as an organ (what the run itself reaches them by)."""

    read: Read
    authorize: Authorize
    policy_state: PolicyStateOf
    policy: PolicyEngine
    execution: execution.Deps
    resolved: execution.Resolve


class NodeSummary(BaseModel):
    id: str
    route: str
    version: str
    kind: str
    node_type: str
    backend: str
    state: str
    prev_state: str | None
    artifact_sha256: str
    created_by: str
    created_at: str
    updated_at: str
    row_version: int


class Transition(BaseModel):  # a row of a node's history (no docstring: it would enter the OpenAPI document)
    action: str
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    forced: bool
    ts: str


class NodeDetail(NodeSummary):
    template: dict[str, Any]
    report: dict[str, Any] | None
    allowed: list[str]
    history: list[Transition]


class RunResult(BaseModel):
    output: Any
    node_id: str
    version: str
    state: str
    dry_run: bool
    ms: float


def summaries(records: list[Node]) -> list[NodeSummary]:
    return [NodeSummary.model_validate(r.summary()) for r in records]


def list_nodes(f: Deps, actor: Actor, *, system: bool = False, **filters: Any) -> list[NodeSummary]:
    """Nodes, newest first; organs (stored alongside) only when asked for with kind=organ, the factory's own
    modules (factory.*) only with `system` or a route/search that names them."""
    if filters.get("kind") is None:
        filters["exclude_kind"] = "organ"
    named = any(str(filters.get(k) or "").startswith(FACTORY_NODE_PREFIX) for k in ("route", "search"))
    if not system and not named:
        filters["exclude_prefix"] = FACTORY_NODE_PREFIX
    with f.read() as uow:
        f.authorize(uow, actor, "nodes.read")
        return summaries(uow.nodes.list(**filters))


def get_node(f: Deps, actor: Actor, node_id: str) -> NodeDetail:
    with f.read() as uow:
        f.authorize(uow, actor, "nodes.read")
        record = require_node(uow, node_id)
        template = load_template(uow, record)
        return NodeDetail.model_validate({
            **record.summary(), "template": template.to_document(), "report": record.report,
            "allowed": allowed_actions(record.state, organ=record.is_organ),
            "history": [h.to_dict() for h in uow.nodes.history(node_id)]})


def run_version(f: Deps, actor: Actor, pick: Callable[[UnitOfWork], Node],
                data: Any) -> tuple[Node, Outcome]:
    """One node or organ version directly, under its watchdog (not counted as its route's traffic);
    a draft runs with side effects off. Raises the node's error."""
    with f.read() as uow:
        state = f.policy_state(uow)  # read once: the checks below decide on the same state
        f.policy.decide(actor, "nodes.run", state).enforce()
        record = pick(uow)
        f.policy.decide(actor, "nodes.run", state, gates=self_edit_gates(record.id, record.route)).enforce()
        if record.state in NOT_RUNNABLE:
            raise Conflict(f"{record.kind} {record.id} is {record.state} and does not run", code="not_runnable",
                           state=record.state)
        template = load_template(uow, record)
        require_open(state, template, f.resolved)
    outcome, _, _ = execution.guarded(f.execution, template, record.id, data, side_effects=not dry_run(record),
                                      caller=execution.Caller.of(f.policy, actor, state))
    if outcome.error is not None:
        raise outcome.error
    return record, outcome


def dry_run(record: Node) -> bool:
    return record.state == State.DRAFT.value


def run_node(f: Deps, actor: Actor, node_id: str, data: Any) -> RunResult:
    record, outcome = run_version(f, actor, lambda uow: require_node(uow, node_id), data)
    return RunResult(output=outcome.output, node_id=node_id, version=record.version, state=record.state,
                     dry_run=dry_run(record), ms=round(outcome.ms, 3))
