"""Reading nodes, and running one: a dry-run execution for drafts, a real one otherwise."""
from __future__ import annotations

from typing import Any

from ..domain.actors import Actor
from ..domain.errors import Conflict
from ..domain.lifecycle import State, allowed_actions
from .factory import Factory
from .invoke import guarded

NOT_RUNNABLE = (State.DISABLED.value, State.QUARANTINED.value)


def list_nodes(f: Factory, actor: Actor, **filters: Any) -> list[dict[str, Any]]:
    with f.read() as uow:
        f.authorize(uow, actor, "nodes.read")
        return [r.summary() for r in uow.nodes.list(**filters)]


def get_node(f: Factory, actor: Actor, node_id: str) -> dict[str, Any]:
    with f.read() as uow:
        f.authorize(uow, actor, "nodes.read")
        record = f.node(uow, node_id)
        template = f.load_template(uow, record)
        return {**record.summary(), "template": template.to_document(), "report": record.report,
                "allowed": allowed_actions(record.state),
                "history": [h.to_dict() for h in uow.nodes.history(node_id)]}


def run_node(f: Factory, actor: Actor, node_id: str, data: Any) -> dict[str, Any]:
    """One version directly, under its watchdog (not counted as route traffic)."""
    with f.read() as uow:
        f.authorize(uow, actor, "nodes.run")
        record = f.node(uow, node_id)
        if record.state in NOT_RUNNABLE:
            raise Conflict(f"node {node_id} is {record.state} and does not run", code="not_runnable",
                           state=record.state)
        template = f.load_template(uow, record)
    dry = record.state == State.DRAFT.value
    outcome, _, _ = guarded(f, template, node_id, data, side_effects=not dry)
    if outcome.error is not None:
        raise outcome.error
    return {"output": outcome.output, "node_id": node_id, "version": record.version, "state": record.state,
            "dry_run": dry, "ms": round(outcome.ms, 3)}
