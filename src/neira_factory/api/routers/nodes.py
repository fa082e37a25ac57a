"""/factory/nodes (and Neira's alias /factory/cells): dry-run, create, read, transitions, run."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query

from ...domain.lifecycle import HUMAN_ACTIONS
from ...services import analysis, fabricate, lifecycle, nodes
from ...services.analysis import AnalysisReport
from ...services.bootstrap import Services
from ...services.fabricate import DryRunResult, NodeCreated
from ...services.lifecycle import TransitionResult
from ...services.nodes import NodeDetail, NodeSummary, RunResult
from ..auth import ActorDep, services
from ..json_body import JSONRoute
from ..schemas import ERRORS, PAGE_LIMIT, PAGE_OFFSET, RUN_ERRORS, RunBody, TransitionBody

FLAT_EXAMPLE = {
    "id": "analysis.text_normalize.v1", "version": "0.1.0", "analysis_type": "text_normalize", "links": [],
    "confidence_threshold": 0.6, "metadata": {"schema": "v1"}, "backend": "adapter",
    "examples": [{"input": {"text": " Привет "}, "expected": {"normalized": "привет"}}],
}
FABRICATION_BODY = {
    "required": True,
    "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/FabricationBody"},
        "examples": {
            "flat": {"summary": "Neira's flat template (+ optional backend)", "value": FLAT_EXAMPLE},
            "template": {"summary": "{template}", "value": {"template": FLAT_EXAMPLE, "reason": "voice v1"}},
            "spec": {"summary": "{spec: {backend, template}}",
                     "value": {"spec": {"backend": "adapter", "template": FLAT_EXAMPLE}}},
        },
    }},
}
NODE_ID = Path(description="node id, e.g. analysis.text_normalize.v1", max_length=200)


def build_router() -> APIRouter:
    router = APIRouter(responses=ERRORS, route_class=JSONRoute)

    @router.post("/dryrun", response_model=DryRunResult, openapi_extra={"requestBody": FABRICATION_BODY},
                 summary="Dry-run a fabrication request: validate, resolve links, check io, run examples")
    def dry_run(actor: ActorDep, body: dict[str, Any] = Body(...), f: Services = Depends(services)):
        return fabricate.dry_run(f.fabricate, actor, body)

    @router.post("", status_code=201, response_model=NodeCreated, openapi_extra={"requestBody": FABRICATION_BODY},
                 responses={409: {"description": "a node with this id exists"}},
                 summary="Create a draft node (gate of its backend must be open; dry-run must be clean)")
    def create(actor: ActorDep, body: dict[str, Any] = Body(...), f: Services = Depends(services),
               idempotency_key: str | None = Header(default=None, max_length=200)):
        return fabricate.create(f.fabricate, actor, body, idempotency_key)

    @router.get("", response_model=list[NodeSummary], summary="List nodes, newest first")
    def list_nodes(actor: ActorDep, state: str | None = None, route: str | None = None, kind: str | None = None,
                   backend: str | None = None, search: str | None = Query(default=None, max_length=200),
                   limit: int = PAGE_LIMIT, offset: int = PAGE_OFFSET,
                   system: bool = Query(default=False, description="include the factory's own modules (factory.*)"),
                   f: Services = Depends(services)):
        return nodes.list_nodes(f.nodes, actor, system=system, state=state, route=route, kind=kind, backend=backend,
                                search=search, limit=limit, offset=offset)

    @router.get("/{node_id}", response_model=NodeDetail, responses={404: {"description": "unknown node"}},
                summary="A node with its template, dry-run report and transition history")
    def get_node(actor: ActorDep, node_id: str = NODE_ID, f: Services = Depends(services)):
        return nodes.get_node(f.nodes, actor, node_id)

    @router.get("/{node_id}/analysis", response_model=AnalysisReport, responses={404: {"description": "unknown node"}},
                summary="The node's analysis: each SLO metric's value, threshold, verdict and reason, the stable "
                        "baseline, per-window numbers and stored measurements")
    def get_analysis(actor: ActorDep, node_id: str = NODE_ID, f: Services = Depends(services)):
        return analysis.report(f.analysis, actor, node_id)

    for action in HUMAN_ACTIONS:
        _add_transition(router, action.value)

    @router.post("/{node_id}/run", response_model=RunResult, responses={404: {"description": "unknown node"}, **RUN_ERRORS},
                 summary="Run a node: a dry-run execution (side effects off) for drafts, real for others")
    def run(body: RunBody, actor: ActorDep, node_id: str = NODE_ID, f: Services = Depends(services)):
        return nodes.run_node(f.nodes, actor, node_id, body.input)

    return router


def _add_transition(router: APIRouter, action: str) -> None:
    def endpoint(actor: ActorDep, node_id: str = NODE_ID, body: TransitionBody | None = None,
                 f: Services = Depends(services)):
        body = body or TransitionBody()
        return lifecycle.transition(f.lifecycle, actor, node_id, action, reason=body.reason, force=body.force)

    router.add_api_route(f"/{{node_id}}/{action}", endpoint, methods=["POST"], response_model=TransitionResult,
                         name=action, summary=f"{action.capitalize()} a node (lifecycle transition)",
                         responses={404: {"description": "unknown node"},
                                    409: {"description": "invalid_transition, analysis_not_passed or a lost race"}})
