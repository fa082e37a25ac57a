"""The admin pages under /admin, one module per resource, in one router (the catch-all for unknown paths last).

Every page reads through a service as the signed-in actor; every button posts a form (CSRF-checked) that calls
the same service the API calls, so the PolicyEngine decides (scope, safe-mode, gates, four-eyes) and a forged
post is refused there. The pages only hide or disable what the policy would refuse, by asking it
(`services.permissions`). A FactoryError becomes a readable page (or JSON for the page's own fetch calls).
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from ....domain.errors import NotFound
from ..rendering import Page, UIRoute, page
from . import account, approvals, audit, capabilities, commands, live, memory, nodes, organs, training

router = APIRouter(prefix="/admin", route_class=UIRoute, include_in_schema=False)


@router.get("")
def home(request: Request) -> Response:
    return RedirectResponse("/admin/nodes", status_code=303)


for _pages in (account, live, nodes, approvals, organs, capabilities, audit, training, commands, memory):
    router.include_router(_pages.router)


@router.get("/{rest:path}")
def not_found(rest: str, current: Page = Depends(page)) -> Response:
    raise NotFound(current.t("err_no_page", path=f"/admin/{rest}"), code="not_found")
