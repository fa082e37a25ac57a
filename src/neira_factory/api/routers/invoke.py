"""POST /invoke/{route}: serve a request through a route (stable, canary split or shadow)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Path

from ...services import invoke as invocation
from ...services.bootstrap import Services
from ..auth import ActorDep, services
from ..json_body import JSONRoute
from ..schemas import ERRORS, RUN_ERRORS, InvokeBody, InvokeResult

router = APIRouter(tags=["runtime"], responses=ERRORS, route_class=JSONRoute)


@router.post("/invoke/{route}", response_model=InvokeResult, summary="Invoke a route",
             description="The stable version serves; a canary/experimental candidate takes its weight of the keys "
                         "(split, sticky by `key`) or a copy of every request (shadow).",
             responses={404: {"description": "unknown route"}, **RUN_ERRORS,
                        409: {"description": "no_stable_version: nothing may serve this route now"}})
async def invoke(body: InvokeBody, actor: ActorDep,
                 route: str = Path(max_length=200, description="a node id without its .vN suffix"),
                 f: Services = Depends(services)):
    return await invocation.invoke_async(f.invoke, actor, route, body.input, body.key)
