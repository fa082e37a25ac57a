"""Capabilities, safe-mode, audit and introspection."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query

from ...domain.lifecycle import State
from ...services import audit, capabilities, introspection
from ...services.audit import AuditEntryModel, AuditVerify
from ...services.bootstrap import Services
from ...services.capabilities import CapabilityChange, CapabilityList, SafeModeResult
from ...services.introspection import IntrospectionStatus
from ..auth import ActorDep, services
from ..json_body import JSONRoute
from ..schemas import ERRORS, PAGE_LIMIT, PAGE_OFFSET, CapabilityBody, SafeModeBody

router = APIRouter(responses=ERRORS, route_class=JSONRoute)


@router.get("/capabilities", response_model=CapabilityList, tags=["capabilities"], summary="Capability gates")
def list_capabilities(actor: ActorDep, f: Services = Depends(services)):
    return capabilities.list_capabilities(f.capabilities, actor)


@router.put("/capabilities/{name}", response_model=CapabilityChange, tags=["capabilities"],
            responses={404: {"description": "unknown capability"}}, summary="Change a gate (admin, audited)")
def set_capability(body: CapabilityBody, actor: ActorDep, name: str = Path(max_length=100),
                   f: Services = Depends(services)):
    return capabilities.set_capability(f.capabilities, actor, name, body.state.value, body.reason)


@router.post("/immune/safe-mode", response_model=SafeModeResult, tags=["immune"],
             summary="Safe-mode on or off (admin): while on, every write needs admin")
def safe_mode(body: SafeModeBody, actor: ActorDep, f: Services = Depends(services)):
    return capabilities.set_safe_mode(f.capabilities, actor, body.on, body.reason)


@router.get("/audit", response_model=list[AuditEntryModel], tags=["immune"], summary="The audit trail, newest first")
def list_audit(actor: ActorDep, resource: str | None = Query(default=None, max_length=300),
               actor_name: str | None = Query(default=None, alias="actor", max_length=200),
               action: str | None = Query(default=None, max_length=100),
               limit: int = PAGE_LIMIT, offset: int = PAGE_OFFSET, f: Services = Depends(services)):
    return audit.list_audit(f.audit, actor, resource=resource, actor=actor_name, action=action, limit=limit,
                            offset=offset)


@router.get("/audit/verify", response_model=AuditVerify, tags=["immune"], summary="Verify the audit hash chain")
def verify_audit(actor: ActorDep, f: Services = Depends(services)):
    return audit.verify_audit(f.audit, actor)


@router.get("/api/neira/introspection/status", response_model=IntrospectionStatus, tags=["introspection"],
            summary="Factory status for Neira's introspection")
def introspection_status(actor: ActorDep, limit: int = PAGE_LIMIT,
                         state: State | None = Query(default=None, description="list only versions in this state"),
                         f: Services = Depends(services)):
    """Neira's fields, the counts by state, and the first `limit` nodes and organs (by id) with their health,
    and each backend's load on this replica. The database answers in one statement."""
    return introspection.status(f.introspection, actor, limit=limit, state=state.value if state else None)
