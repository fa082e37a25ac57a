"""The audit trail: filtered pages of entries, and the chain's verification."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ....services import audit
from ..rendering import PAGE_SIZE, Page, UIRoute, page, pager, query_filters, render, whole_number

router = APIRouter(route_class=UIRoute)


@router.get("/audit")
def audit_page(request: Request, current: Page = Depends(page)) -> Response:
    filters = query_filters(request, ("resource", "actor", "action"))
    limit = whole_number(request.query_params.get("limit"), PAGE_SIZE, low=1, high=1000)
    offset = whole_number(request.query_params.get("offset"), 0, high=10_000_000, name="offset")
    entries = audit.list_audit(current.f.audit, current.actor, **filters, limit=limit + 1, offset=offset)
    return render(current, "audit.html", entries=entries[:limit], filters=filters,
                  verify=audit.verify_audit(current.f.audit, current.actor),
                  **pager("/admin/audit", filters, limit, offset, more=len(entries) > limit))
