"""FabricatorNode: dry-run a request, and create a draft node when the dry-run is clean.

Create is idempotent under an `Idempotency-Key`: the first answer is stored in
the same transaction as the node, and a retry with the same key and body gets
it back without creating anything.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from ..domain.actors import Actor
from ..domain.capabilities import BACKEND_GATES
from ..domain.errors import BadInput, Conflict
from ..domain.events import Event
from ..domain.lifecycle import State
from ..domain.references import template_gates
from ..domain.shapes import parse_fabrication
from ..store import NodeRecord
from ..store.repositories import now
from .dryrun import build_report
from .factory import Factory
from .self_edit import with_rollout_defaults


def dry_run(f: Factory, actor: Actor, body: Any) -> dict[str, Any]:
    request = parse_fabrication(body)
    f.metrics.dryrun_requests.inc()
    with f.read() as uow:
        f.authorize(uow, actor, "nodes.dryrun")
        return build_report(f, uow, request, f.policy_state(uow))


def _request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def create(f: Factory, actor: Actor, body: Any, idempotency_key: str | None = None) -> dict[str, Any]:
    request = parse_fabrication(body)
    gates = (BACKEND_GATES[request.template.backend], *template_gates(request.template))
    key = f"{actor.name}:{idempotency_key}" if idempotency_key else None
    request_hash = _request_hash(body) if key else ""
    with f.read() as uow:  # authorised before anything runs on its behalf (the factory.rollout module)
        f.authorize(uow, actor, "nodes.create", gates=gates)
        stored = uow.idempotency.get(key) if key else None
    if stored:
        return _replay(stored, request_hash)
    template = with_rollout_defaults(f, request.template)
    request = request.model_copy(update={"template": template})
    with f.read() as uow:  # the write below authorises again, in the transaction that creates
        result = build_report(f, uow, request, f.policy_state(uow))
    if not result["ok"]:
        conflict = [r for r in result["report"]["risks"] if r["code"] == "conflict"]
        if conflict:
            raise Conflict(conflict[0]["message"], id=template.id)
        raise BadInput("the dry-run found blocking risks; see report", code="dry_run_failed", report=result["report"])
    with f.write() as uow:
        if key and (stored := uow.idempotency.get(key)):
            return _replay(stored, request_hash)
        f.authorize(uow, actor, "nodes.create", gates=gates)
        digest = f.store_template(uow, template)
        stamp = now()
        uow.nodes.add(NodeRecord(
            id=template.id, route=template.route_name, version=template.version, kind=template.kind,
            node_type=template.node_type, backend=template.backend, state=State.DRAFT.value, prev_state=None,
            artifact_sha256=digest, report=result["report"], created_by=actor.name, created_at=stamp,
            updated_at=stamp, row_version=1))
        uow.nodes.add_transition(template.id, "create", None, State.DRAFT.value, actor.name, request.reason)
        uow.audit.append(actor.name, "node.create", template.id, after={"state": "draft", "sha256": digest,
                         "backend": template.backend, "requester": request.requester}, reason=request.reason)
        response = {"id": template.id, "state": State.DRAFT.value, "route": template.route_name, "sha256": digest}
        if key:
            uow.idempotency.put(key, request_hash, 201, response)
        uow.announce(Event("node.created", template.id, {"state": "draft", "route": template.route_name,
                                                          "actor": actor.name}))
    f.metrics.nodes_created.inc()
    f.metrics.transitions.labels("none", "draft").inc()
    return response


def _replay(stored: tuple[str, int, Any], request_hash: str) -> dict[str, Any]:
    stored_hash, _status, response = stored
    if stored_hash != request_hash:
        raise Conflict("Idempotency-Key was already used with a different body", code="idempotency_key_reused")
    return response
