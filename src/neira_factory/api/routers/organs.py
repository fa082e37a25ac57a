"""/organs: build (dry-run by default), list, status, lifecycle, run, cancel, and the graph picture."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import Response

from ...services import lifecycle, organs
from ...services.bootstrap import Services
from ...services.lifecycle import TransitionResult
from ...services.nodes import NodeSummary
from ...services.organs import OrganBuilt, OrganRunResult, OrganStatus
from ..auth import ActorDep, services
from ..json_body import JSONRoute
from ..schemas import ERRORS, RUN_ERRORS, OrganBuildBody, RunBody, TransitionBody

router = APIRouter(prefix="/organs", tags=["organs"], responses=ERRORS, route_class=JSONRoute)
ORGAN_ID = Path(description="organ id, e.g. organ.voice.v1", max_length=200)
LIFECYCLE = ("approve", "rollback", "disable", "quarantine", "release")


@router.post("/build", response_model=OrganBuilt,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": OrganBuildBody.model_json_schema()}}}},
             responses={403: {"description": "a gate the organ needs is closed (capability_disabled)"},
                        409: {"description": "an organ with this id exists"},
                        422: {"description": "missing_node, type_mismatch, cycle, unbound_role …: `field` points "
                                             "at the channel and node; `report` holds the whole dry-run"}},
             summary="Build an organ: a dry-run report (default), or with dryrun=false a draft")
def build(actor: ActorDep, body: Any = Body(...), f: Services = Depends(services),
          dryrun: bool | None = Query(default=None, description="the same as the body's `dryrun` (Neira's factory "
                                      "CLI sends `?dryrun=false`); both given and different: 422")):
    return organs.build(f.organs, actor, body, dryrun)


@router.get("", response_model=list[NodeSummary], summary="List organs, newest first")
def list_organs(actor: ActorDep, state: str | None = Query(default=None, max_length=20),
                f: Services = Depends(services)):
    return organs.list_organs(f.organs, actor, state)


@router.get("/{organ_id}/status", response_model=OrganStatus, responses={404: {"description": "unknown organ"}},
            summary="The organ's state, each node's state and health, and the organ's numbers")
def status(actor: ActorDep, organ_id: str = ORGAN_ID, f: Services = Depends(services)):
    return organs.status(f.organs, actor, organ_id)


@router.post("/{organ_id}/run", response_model=OrganRunResult,
             responses={404: {"description": "unknown organ"}, **RUN_ERRORS},
             summary="Run this organ version: the output and a trace of each node (a draft runs as a dry-run)")
def run(body: RunBody, actor: ActorDep, organ_id: str = ORGAN_ID, f: Services = Depends(services)):
    return organs.run(f.organs, actor, organ_id, body.input)


@router.delete("/{organ_id}/build", response_model=TransitionResult,
               responses={404: {"description": "unknown organ"},
                          409: {"description": "invalid_transition: only a draft or canary build can be cancelled"}},
               summary="Cancel a build: a draft or canary organ becomes failed")
def cancel(actor: ActorDep, organ_id: str = ORGAN_ID, reason: str | None = Query(default=None, max_length=2000),
           f: Services = Depends(services)):
    return organs.cancel(f.organs, actor, organ_id, reason)


@router.get("/{organ_id}/graph.svg", response_class=Response, responses={404: {"description": "unknown organ"}},
            summary="The organ's graph as SVG, nodes coloured by state")
def graph(actor: ActorDep, organ_id: str = ORGAN_ID, f: Services = Depends(services)):
    return Response(organs.graph_svg(f.organs, actor, organ_id), media_type="image/svg+xml")


def _add_transition(action: str) -> None:
    def endpoint(actor: ActorDep, organ_id: str = ORGAN_ID, body: TransitionBody | None = None,
                 f: Services = Depends(services)):
        body = body or TransitionBody()
        organs.require_organ(f.organs, organ_id)
        return lifecycle.transition(f.lifecycle, actor, organ_id, action, reason=body.reason, force=body.force)

    router.add_api_route(f"/{{organ_id}}/{action}", endpoint, methods=["POST"], response_model=TransitionResult,
                         name=f"organ_{action}", summary=f"{action.capitalize()} an organ (lifecycle transition)",
                         responses={404: {"description": "unknown organ"},
                                    409: {"description": "invalid_transition, analysis_not_passed, "
                                                         "organ_nodes_not_live or a lost race"}})


for _action in LIFECYCLE:
    _add_transition(_action)
