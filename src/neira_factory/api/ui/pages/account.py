"""Signing in and out, and the language: what a visitor without a session reaches too."""
from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from ....domain.errors import NotFound
from .. import i18n
from ..rendering import Page, Posted, UIRoute, cookie_attrs, current_page, finish, parse_form, posted, render, \
    safe_next, signer
from ..session import LANG_COOKIE, LOGIN_COOKIE, LOGIN_TTL_S, SESSION_COOKIE, SESSION_TTL_S

log = logging.getLogger(__name__)
router = APIRouter(route_class=UIRoute)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    current = current_page(request)
    target = safe_next(next, "/admin/nodes")
    if current.session is not None:
        return finish(RedirectResponse(target, status_code=303), current)
    return _login_page(current, target)


def _login_page(current: Page, target: str, *, error: str | None = None, status: int = 200) -> Response:
    nonce = signer(current.request).login_nonce()
    current.cookies.append((LOGIN_COOKIE, nonce, LOGIN_TTL_S))
    return render(current, "login.html", status=status, next=target, error=error,
                  login_csrf=signer(current.request).login_csrf(nonce))


@router.post("/login")
async def login(request: Request) -> Response:
    current = current_page(request)
    form = parse_form(await request.body())
    target = safe_next(form.get("next"), "/admin/nodes")
    if not signer(request).login_csrf_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        return _login_page(current, target, error=current.t("err_csrf"), status=403)
    signed_in = signer(request).sign_in((form.get("token") or "").strip())
    if signed_in is None:
        return _login_page(current, target, error=current.t("err_bad_token"), status=401)
    cookie, session = signed_in
    log.info("admin UI: %s (%s) signed in", session.actor.name, session.actor.scope)
    response = RedirectResponse(target, status_code=303)
    attrs = cookie_attrs(request)
    response.set_cookie(SESSION_COOKIE, cookie, max_age=SESSION_TTL_S, **attrs)
    response.delete_cookie(LOGIN_COOKIE, **attrs)
    return finish(response, Page(request, session, current.lang))


@router.post("/logout")
def logout(post: Posted = Depends(posted)) -> Response:
    request = post.page.request
    signer(request).end(post.page.session)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, **cookie_attrs(request))
    return finish(response, Page(request, None, post.page.lang))


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    current = current_page(request)
    if code not in i18n.LANGUAGES:
        raise NotFound(current.t("err_unknown_language", code=code), code="not_found")
    current.cookies.append((LANG_COOKIE, code, 365 * 24 * 3600))
    return finish(RedirectResponse(safe_next(next, "/admin/nodes"), status_code=303), current)
