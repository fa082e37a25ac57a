"""Capability gates and safe mode: their page, and an admin's changes to them."""
from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ....domain.capabilities import GateState
from ....services import capabilities
from ..rendering import Page, Posted, UIRoute, done, page, posted, render, safe_next

router = APIRouter(route_class=UIRoute)


@router.get("/capabilities")
def capabilities_page(current: Page = Depends(page)) -> Response:
    found = capabilities.list_capabilities(current.f.capabilities, current.actor)
    return render(current, "capabilities.html", gates=found.capabilities, safe_mode=found.safe_mode,
                  states=[s.value for s in GateState], can_set=current.permissions.may("capabilities.set"),
                  can_safe_mode=current.permissions.may("safe_mode.set"))


@router.post("/capabilities/{name}")
def set_capability(name: str, post: Posted = Depends(posted)) -> Response:
    state = post.text("state", required=True, max_len=20)
    reason = post.text("reason", required=True)
    result = capabilities.set_capability(post.page.f.capabilities, post.page.actor, name, state, reason)
    message = post.page.t("done_capability", name=name, previous=result.previous, state=result.state)
    return done(post, message, "/admin/capabilities", result.model_dump())


@router.post("/safe-mode")
def set_safe_mode(post: Posted = Depends(posted)) -> Response:
    on = post.ticked("on")
    reason = post.text("reason", required=True)
    post.confirmed()
    result = capabilities.set_safe_mode(post.page.f.capabilities, post.page.actor, on, reason)
    message = post.page.t("done_safe_mode_on" if on else "done_safe_mode_off")
    return done(post, message, safe_next(post.form.get("next"), "/admin/capabilities"), result.model_dump())
