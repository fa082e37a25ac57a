"""FabricatorNode: dry-run a request, and create a draft node when the dry-run is clean.

Create is idempotent under an `Idempotency-Key`: the first answer is stored in
the same transaction as the node, and a retry with the same key and body gets
it back without creating anything. The answers are `DryRunResult` and `NodeCreated`.
"""
from __future__ import annotations

from dataclasses import dataclass
import hashlib
import json
from typing import Any

from pydantic import BaseModel, Field

from ..domain.actors import Actor
from ..domain.capabilities import BACKEND_GATES
from ..domain.errors import BadInput, Conflict
from ..domain.lifecycle import State
from ..domain.node import Node
from ..domain.references import template_gates
from ..domain.shapes import parse_fabrication
from ..domain.templates import FabricationRequest
from ..nervous.metrics import FactoryMetrics
from ..domain.clock import now
from ..store.templates import store_template
from . import lifecycle
from . import dryrun, self_edit
from .ports import Authorize, PolicyStateOf, Read, Write


@dataclass(frozen=True)
class Deps:
    """What fabrication uses: units of work, the policy, the metrics, the dry-run and self-edit (for rollout
    defaults)."""

    read: Read
    write: Write
    authorize: Authorize
    policy_state: PolicyStateOf
    metrics: FactoryMetrics
    dryrun: dryrun.Deps
    self_edit: self_edit.Deps


class DryRunResult(BaseModel):
    ok: bool
    report: dict[str, Any] = Field(description="deps, compat, links, risks, integrations, selector, examples")


class NodeCreated(BaseModel):
    id: str
    state: str
    route: str
    sha256: str


def with_defaults(f: Deps, request: FabricationRequest) -> FabricationRequest:
    """The request with the rollout defaults `factory.rollout` gives: the template as create stores it (so a
    dry-run's pinned digest is the one create records)."""
    return request.model_copy(update={"template": self_edit.with_rollout_defaults(f.self_edit, request.template)})


def dry_run(f: Deps, actor: Actor, body: Any) -> DryRunResult:
    request = parse_fabrication(body)
    f.metrics.dryrun_requests.inc()
    with f.read() as uow:
        f.authorize(uow, actor, "nodes.dryrun")
        request = with_defaults(f, request)  # after the check: factory.rollout runs on the caller's behalf
        return DryRunResult.model_validate(dryrun.build_report(f.dryrun, uow, request, f.policy_state(uow)))


def _request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def create(f: Deps, actor: Actor, body: Any, idempotency_key: str | None = None) -> NodeCreated:
    request = parse_fabrication(body)
    gates = (BACKEND_GATES[request.template.backend], *template_gates(request.template))
    key = f"{actor.name}:{idempotency_key}" if idempotency_key else None
    request_hash = _request_hash(body) if key else ""
    with f.read() as uow:  # authorised before anything runs on its behalf (the factory.rollout module)
        f.authorize(uow, actor, "nodes.create", gates=gates)
        stored = uow.idempotency.get(key) if key else None
    if stored:
        return _replay(stored, request_hash)
    request = with_defaults(f, request)
    template = request.template
    with f.read() as uow:  # the write below authorises again, in the transaction that creates
        result = dryrun.build_report(f.dryrun, uow, request, f.policy_state(uow))
    if not result["ok"]:
        conflict = [r for r in result["report"]["risks"] if r["code"] == "conflict"]
        if conflict:
            raise Conflict(conflict[0]["message"], id=template.id)
        raise BadInput("the dry-run found blocking risks; see report", code="dry_run_failed", report=result["report"])
    with f.write() as uow:
        if key and (stored := uow.idempotency.get(key)):
            return _replay(stored, request_hash)
        f.authorize(uow, actor, "nodes.create", gates=gates)
        digest = store_template(uow, template)
        node = Node.draft(template, sha256=digest, report=result["report"], actor=actor, at=now())
        lifecycle.create(uow, node.created("create", actor, reason=request.reason, audit={
            "sha256": digest, "backend": template.backend, "requester": request.requester},
            replaces=lifecycle.claim_id(uow, template.id, organ=False)))
        response = NodeCreated(id=template.id, state=State.DRAFT.value, route=template.route_name, sha256=digest)
        if key:
            uow.idempotency.put(key, request_hash, 201, response.model_dump(mode="json"))
    f.metrics.nodes_created.inc()
    f.metrics.transitions.labels("none", "draft").inc()
    return response


def _replay(stored: tuple[str, int, Any], request_hash: str) -> NodeCreated:
    stored_hash, _status, response = stored
    if stored_hash != request_hash:
        raise Conflict("Idempotency-Key was already used with a different body", code="idempotency_key_reused")
    return NodeCreated.model_validate(response)
