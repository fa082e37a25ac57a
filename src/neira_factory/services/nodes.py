"""Reading nodes, and running one: a dry-run execution for drafts, a real one otherwise."""
from __future__ import annotations

import time
from typing import Any

from ..backends import ExecutionError
from ..domain.actors import Actor
from ..domain.errors import Conflict
from ..domain.lifecycle import State, allowed_actions
from .factory import Factory

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
    with f.read() as uow:
        f.authorize(uow, actor, "nodes.run")
        record = f.node(uow, node_id)
        if record.state in NOT_RUNNABLE:
            raise Conflict(f"node {node_id} is {record.state} and does not run", code="not_runnable",
                           state=record.state)
        template = f.load_template(uow, record)
        dry = record.state == State.DRAFT.value
        started = time.perf_counter()
        try:
            output = f.backends.execute(template, data, f.exec_context(uow, side_effects=not dry))
        except ExecutionError as exc:
            f.metrics.exec_errors.labels(exc.kind).inc()
            raise
    return {"output": output, "node_id": node_id, "version": record.version, "state": record.state,
            "dry_run": dry, "ms": round((time.perf_counter() - started) * 1000, 3)}
