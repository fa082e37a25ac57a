"""The admin pages under /admin: one more entrypoint over the same services as the API and the CLI.

Every page reads through a service as the signed-in actor; every button posts a form (CSRF-checked)
that calls the same service the API calls, so the PolicyEngine decides (scope, safe-mode, gates,
four-eyes) and a forged post is refused there. The pages only hide or disable what the policy would
refuse, by asking it (`f.policy.decide(actor, action, f.policy_state(uow))`).

A FactoryError becomes a readable page (or JSON for the page's own fetch calls) with its status.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from ...domain.actors import Actor
from ...domain.capabilities import GateState
from ...domain.references import self_edit_gates
from ...domain.errors import BadInput, FactoryError, NotFound
from ...domain.lifecycle import HUMAN_ACTIONS, State
from ...policy import Decision, PolicyState
from ...services import (
    analysis,
    audit,
    capabilities,
    commands,
    lifecycle,
    nodes,
    organs,
    training,
)
from ...services.factory import Factory
from ..routers.events import HEARTBEAT_S, EventStreamResponse, stream
from . import charts, i18n
from .session import (
    COOKIE_PATH,
    FLASH_COOKIE,
    LANG_COOKIE,
    LOGIN_COOKIE,
    LOGIN_TTL_S,
    SESSION_COOKIE,
    SESSION_TTL_S,
    Session,
    SessionSigner,
)

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
PAGE_SIZE = 100
MAX_FORM_FIELDS = 50
NODE_ACTIONS = tuple(a.value for a in HUMAN_ACTIONS)
ORGAN_ACTIONS = (*NODE_ACTIONS, "fail")
TRAINING_ACTIONS = ("approve", "reject", "continue")
LIVE_TYPES = "node.,organ.,analysis.,capability.,safe_mode.,training.,command."
CANDIDATE_STATES = (State.CANARY.value, State.EXPERIMENTAL.value)
TRAINING_PENDING = ("waiting", "converged", "not_converged", "failed")
MAX_CANDIDATES = 100  # candidates whose analysis the approvals queue evaluates
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
SVG_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.DOTALL)
SVG_UNSAFE = re.compile(r"<script.*?</script>|\son\w+\s*=\s*(\"[^\"]*\"|'[^']*')", re.DOTALL | re.IGNORECASE)

env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                  trim_blocks=True, lstrip_blocks=True)
# JSON as people read it (Cyrillic as it is); a plain str, so autoescaping applies to it.
env.filters["json"] = lambda value, indent=None: json.dumps(value, ensure_ascii=False, indent=indent, default=str)


def _when_filter(value: Any) -> str:
    """A stored timestamp as `YYYY-MM-DD HH:MM:SS` (UTC, as stored)."""
    if value in (None, ""):
        return "—"
    return str(value).replace("T", " ")[:19]


env.filters["when"] = _when_filter


# ---- errors the UI itself raises -------------------------------------------------------------------

class NotSignedIn(Exception):
    """No valid session: pages redirect to the sign-in form, posts answer 401."""


class CsrfFailed(FactoryError):
    status = 403
    code = "csrf_failed"


# ---- the request's context -----------------------------------------------------------------------------

@dataclass
class Page:
    request: Request
    session: Session | None
    lang: str
    flash: str | None = None
    status: int = 200
    cookies: list[tuple[str, str, int]] = field(default_factory=list)  # (name, value, max_age) to set

    @property
    def f(self) -> Factory:
        return self.request.app.state.factory

    @property
    def actor(self) -> Actor:
        if self.session is None:
            raise NotSignedIn()
        return self.session.actor

    def t(self, key: str, **values: Any) -> str:
        return i18n.translate(self.lang, key, **values)

    @cached_property
    def policy_state(self) -> PolicyState:
        with self.f.read() as uow:
            return self.f.policy_state(uow)

    def can(self, action: str, *, gates: tuple[str, ...] = (), owner: str | None = None) -> Decision:
        """What the policy says to this actor now: the UI hides or disables what it would refuse."""
        return self.f.policy.decide(self.actor, action, self.policy_state, gates=gates, owner=owner)


def signer(request: Request) -> SessionSigner:
    return request.app.state.ui_sessions


def wants_json(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


def current_page(request: Request) -> Page:
    session = signer(request).read(request.cookies.get(SESSION_COOKIE))
    lang = i18n.negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    flash = request.cookies.get(FLASH_COOKIE)
    return Page(request, session, lang, flash=unquote(flash) if flash else None)


def page(request: Request) -> Page:
    """A GET page: needs a session (else: to the sign-in form)."""
    current = current_page(request)
    if current.session is None:
        raise NotSignedIn()
    return current


@dataclass
class Posted:
    page: Page
    form: dict[str, str]

    def text(self, name: str, *, required: bool = False, max_len: int = 2000) -> str | None:
        value = (self.form.get(name) or "").strip()
        if len(value) > max_len:
            raise BadInput(f"{name}: at most {max_len} characters", field=name)
        if required and not value:
            raise BadInput(self.page.t("err_required", field=self.page.t(f"field_{name}")), field=name)
        return value or None

    def confirmed(self) -> None:
        if self.form.get("confirm") not in ("yes", "on", "1", "true"):
            raise BadInput(self.page.t("err_confirm"), field="confirm", code="confirmation_required")


def parse_form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS,
                          strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise BadInput("the form could not be read (expected application/x-www-form-urlencoded UTF-8)",
                       field="body") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form


async def posted(request: Request) -> Posted:
    """A POST: a session and its CSRF token (hidden field `csrf` or header X-CSRF-Token), then the form."""
    current = current_page(request)
    if current.session is None:
        raise NotSignedIn()
    form = parse_form(await request.body())
    given = form.get("csrf") or request.headers.get("x-csrf-token")
    if not signer(request).csrf_ok(current.session, given):
        raise CsrfFailed(current.t("err_csrf"))
    return Posted(current, form)


def safe_next(value: str | None, default: str) -> str:
    """Only a path inside /admin (no scheme, no host): never an open redirect."""
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value \
            and ":" not in value.split("?", 1)[0] and "\n" not in value and "\r" not in value:
        return value
    return default


# ---- responses ---------------------------------------------------------------------------------------------

def cookie_attrs(request: Request) -> dict[str, Any]:
    return {"path": COOKIE_PATH, "httponly": True, "samesite": "strict", "secure": request.url.scheme == "https"}


def finish(response: Response, current: Page) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    attrs = cookie_attrs(current.request)
    if current.flash is not None and FLASH_COOKIE in current.request.cookies:
        response.delete_cookie(FLASH_COOKIE, **attrs)
    for name, value, max_age in current.cookies:
        response.set_cookie(name, value, max_age=max_age, **attrs)
    return response


def render(current: Page, template: str, *, status: int | None = None, **context: Any) -> Response:
    tpl = env.get_template(template)
    html = tpl.render(page=current, t=current.t, session=current.session, lang=current.lang,
                      csrf=current.session.csrf if current.session else "", path=current.request.url.path,
                      full_path=_full_path(current.request), **context)
    return finish(HTMLResponse(html, status_code=status or current.status), current)


def _full_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def done(post: Posted, message: str, next_url: str, result: dict[str, Any] | None = None) -> Response:
    """A successful post: JSON for the page's fetch, else back to the page with a flash message."""
    if wants_json(post.page.request):
        return finish(JSONResponse({"ok": True, "message": message, **(result or {})}), post.page)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(FLASH_COOKIE, quote(message[:300], safe=""), max_age=60, **cookie_attrs(post.page.request))
    return finish(response, Page(post.page.request, post.page.session, post.page.lang))


def error_response(request: Request, exc: FactoryError) -> Response:
    current = current_page(request)
    body = exc.body()
    if wants_json(request):
        return finish(JSONResponse(body, status_code=exc.status), current)
    back = safe_next(request.headers.get("referer", "").split(request.url.netloc, 1)[-1], "/admin/nodes")
    return render(current, "error.html", status=exc.status, error=body, back=back,
                  extra={k: v for k, v in body.items() if k not in ("code", "reason", "report")})


class UIRoute(APIRoute):
    """Turns what the UI's endpoints raise into pages: the sign-in redirect, 401, 403, service errors."""

    def get_route_handler(self) -> Callable:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except NotSignedIn:
                if request.method == "GET" and not wants_json(request):
                    target = "/admin/login?" + urlencode({"next": _full_path(request)})
                    return finish(RedirectResponse(target, status_code=303), current_page(request))
                return error_response(request, FactoryError(current_page(request).t("err_signed_out"),
                                                            code="unauthorized", status=401))
            except FactoryError as exc:
                return error_response(request, exc)
            except RequestValidationError as exc:
                first = (exc.errors() or [{}])[0]
                where = ".".join(str(p) for p in first.get("loc", ()))
                return error_response(request, BadInput(f"{where}: {first.get('msg', 'invalid')}", field=where))

        return handler


router = APIRouter(prefix="/admin", route_class=UIRoute, include_in_schema=False)


# ---- sign-in, sign-out, language -------------------------------------------------------------------------------

@router.get("")
def home(request: Request) -> Response:
    return RedirectResponse("/admin/nodes", status_code=303)


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


# ---- live updates ----------------------------------------------------------------------------------------------

@router.get("/events")
async def live(request: Request, types: str | None = None, last_event_id: int | None = None) -> Response:
    """The factory's events for this session's pages (the same stream as GET /events, signed in by cookie)."""
    current = page(request)
    f = current.f
    with f.read() as uow:
        f.authorize(uow, current.actor, "events.read")
    header = request.headers.get("last-event-id")
    last_id = int(header) if header and header.isdigit() else last_event_id
    prefixes = tuple(p.strip() for p in (types or LIVE_TYPES).split(",") if p.strip())
    body = stream(request, f.bus, last_id=last_id, prefixes=prefixes, heartbeat_s=HEARTBEAT_S)
    return EventStreamResponse(body, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# ---- nodes -----------------------------------------------------------------------------------------------------------

def _int(value: str | None, default: int, *, low: int = 0, high: int = 10_000, name: str = "limit") -> int:
    if value in (None, ""):
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadInput(f"{name}: a whole number from {low} to {high}", field=name)
    return int(value)


def _filters(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    return {n: request.query_params[n].strip() for n in names
            if request.query_params.get(n, "").strip() and len(request.query_params[n]) <= 200}


@router.get("/nodes")
def nodes_page(request: Request, current: Page = Depends(page)) -> Response:
    filters = _filters(request, ("state", "backend", "kind", "route", "search"))
    limit = _int(request.query_params.get("limit"), PAGE_SIZE, low=1, high=1000)
    offset = _int(request.query_params.get("offset"), 0, high=1_000_000, name="offset")
    found = nodes.list_nodes(current.f, current.actor, **filters, limit=limit + 1, offset=offset)
    more = len(found) > limit
    query = {**filters, "limit": str(limit)}
    return render(current, "nodes.html", nodes=found[:limit], filters=filters, states=[s.value for s in State],
                  backends=("adapter", "script", "wasm", "organ"), kinds=("analysis", "action", "memory", "organ"),
                  prev_url=f"/admin/nodes?{urlencode({**query, 'offset': max(0, offset - limit)})}" if offset else None,
                  next_url=f"/admin/nodes?{urlencode({**query, 'offset': offset + limit})}" if more else None)


def action_buttons(current: Page, record: dict[str, Any], allowed: list[str], *, organ: bool) -> list[dict[str, Any]]:
    """The lifecycle's allowed actions, each with the policy's answer for this actor (disabled + why if no)."""
    buttons = []
    for action in allowed:
        if action not in (ORGAN_ACTIONS if organ else NODE_ACTIONS):
            continue
        decision = current.can(f"nodes.{action}", gates=self_edit_gates(record["id"], record.get("route")),
                               owner=record.get("created_by"))
        may_force = (action == "approve" and record["state"] in CANDIDATE_STATES and decision.allowed
                     and current.can("nodes.force").allowed)
        to = {"approve": {"draft": "canary", "canary": "experimental", "experimental": "stable"}.get(record["state"]),
              "rollback": "rolled_back", "disable": "disabled", "quarantine": "quarantined",
              "release": record.get("prev_state"), "fail": "failed"}.get(action)
        buttons.append({"action": action, "allowed": decision.allowed, "why": decision.reason, "force": may_force,
                        "to": to, "danger": action in ("rollback", "disable", "quarantine", "fail")})
    return buttons


@router.get("/nodes/{node_id}")
def node_page(request: Request, node_id: str, current: Page = Depends(page)) -> Response:
    detail = nodes.get_node(current.f, current.actor, node_id)
    if detail["kind"] == "organ":
        return finish(RedirectResponse(f"/admin/organs/{node_id}", status_code=303), current)
    buttons = action_buttons(current, detail, detail["allowed"], organ=detail["kind"] == "organ")
    part = request.query_params.get("part")
    if part in ("actions", "history"):
        return render(current, f"_{part}.html", node=detail, buttons=buttons, base=f"/admin/nodes/{node_id}")
    report = analysis.report(current.f, current.actor, node_id)
    return render(current, "node.html", node=detail, buttons=buttons, analysis=report,
                  charts=charts.analysis_charts(report.get("windows") or [], current.t),
                  template_yaml=yaml.safe_dump(detail["template"], allow_unicode=True, sort_keys=False),
                  base=f"/admin/nodes/{node_id}")


def _transition(post: Posted, node_id: str, action: str, *, organ: bool) -> Response:
    if action not in (ORGAN_ACTIONS if organ else NODE_ACTIONS):
        raise NotFound(post.page.t("err_unknown_action", action=action), code="not_found")
    reason = post.text("reason", required=True)
    post.confirmed()
    force = post.form.get("force") in ("yes", "on", "1", "true")
    f, actor = post.page.f, post.page.actor
    if organ:
        organs.require_organ(f, node_id)
        result = (organs.cancel(f, actor, node_id, reason) if action == "fail" else
                  lifecycle.transition(f, actor, node_id, action, reason=reason, force=force))
    else:
        result = lifecycle.transition(f, actor, node_id, action, reason=reason, force=force)
    message = post.page.t("done_transition", id=node_id, action=post.page.t(f"action_{action}"),
                          previous=result["previous"], state=result["state"])
    base = f"/admin/{'organs' if organ else 'nodes'}/{node_id}"
    return done(post, message, safe_next(post.form.get("next"), base), result)


@router.post("/nodes/{node_id}/{action}")
def node_action(node_id: str, action: str, post: Posted = Depends(posted)) -> Response:
    return _transition(post, node_id, action, organ=False)


# ---- pending approvals ---------------------------------------------------------------------------------------------

def _when(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    try:
        stamp = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def pending(current: Page) -> list[dict[str, Any]]:
    """Everything waiting for a human, newest first: drafts, candidates whose analysis passed (or that need a
    human), and training runs that wait for a decision."""
    f, actor = current.f, current.actor
    items: list[dict[str, Any]] = []
    for kind in (None, "organ"):
        for record in nodes.list_nodes(f, actor, state="draft", kind=kind, limit=500):
            items.append({"type": "draft", "id": record["id"], "kind": record["kind"], "state": record["state"],
                          "at": record["updated_at"], "detail": current.t("pending_draft"),
                          "url": f"/admin/{'organs' if kind else 'nodes'}/{record['id']}"})
    candidates = [r for kind in (None, "organ") for state in CANDIDATE_STATES
                  for r in nodes.list_nodes(f, actor, state=state, kind=kind, limit=MAX_CANDIDATES)]
    for record in sorted(candidates, key=lambda r: _when(r["updated_at"]), reverse=True)[:MAX_CANDIDATES]:
        report = analysis.report(f, actor, record["id"])
        if report["phase"] == "passed" or report["needs_human"]:
            organ = record["kind"] == "organ"
            items.append({"type": "analysis", "id": record["id"], "kind": record["kind"], "state": record["state"],
                          "at": record["updated_at"], "phase": report["phase"], "detail": report["reason"],
                          "url": f"/admin/{'organs' if organ else 'nodes'}/{record['id']}"})
    for state in TRAINING_PENDING:
        for run in training.list_runs(f, actor, state=state, limit=200):
            if state in ("failed", "not_converged") and run["best"] is None:
                continue  # nothing to approve; a human may still reject it on its page
            items.append({"type": "training", "id": run["run_id"], "kind": run["node_id"], "state": run["state"],
                          "at": run["finished_at"] or run["updated_at"], "detail": run["reason"] or "",
                          "url": f"/admin/training/{run['run_id']}"})
    return sorted(items, key=lambda item: _when(item["at"]), reverse=True)


@router.get("/approvals")
def approvals_page(current: Page = Depends(page)) -> Response:
    return render(current, "approvals.html", items=pending(current))


# ---- organs --------------------------------------------------------------------------------------------------------

def inline_svg(content: bytes) -> Markup:
    """graphviz's SVG, to inline: no prolog, doctype or comments, and nothing that could run."""
    text = SVG_PROLOG.sub("", content.decode("utf-8", "replace"))
    return Markup(SVG_UNSAFE.sub("", text).strip())


@router.get("/organs")
def organs_page(request: Request, current: Page = Depends(page)) -> Response:
    state = (request.query_params.get("state") or "").strip() or None
    return render(current, "organs.html", organs=organs.list_organs(current.f, current.actor, state),
                  state=state, states=[s.value for s in State])


@router.get("/organs/{organ_id}")
def organ_page(request: Request, organ_id: str, current: Page = Depends(page)) -> Response:
    status = organs.status(current.f, current.actor, organ_id)
    detail = nodes.get_node(current.f, current.actor, organ_id)
    buttons = action_buttons(current, detail, status["allowed"], organ=True)
    part = request.query_params.get("part")
    if part in ("actions", "history"):
        return render(current, f"_{part}.html", node=detail, buttons=buttons, base=f"/admin/organs/{organ_id}")
    graph = inline_svg(organs.graph_svg(current.f, current.actor, organ_id))
    return render(current, "organ.html", organ=status, node=detail, graph=graph, buttons=buttons,
                  template_yaml=yaml.safe_dump(detail["template"], allow_unicode=True, sort_keys=False),
                  base=f"/admin/organs/{organ_id}")


@router.post("/organs/{organ_id}/{action}")
def organ_action(organ_id: str, action: str, post: Posted = Depends(posted)) -> Response:
    return _transition(post, organ_id, action, organ=True)


# ---- capabilities and safe-mode ---------------------------------------------------------------------------------------

@router.get("/capabilities")
def capabilities_page(current: Page = Depends(page)) -> Response:
    found = capabilities.list_capabilities(current.f, current.actor)
    return render(current, "capabilities.html", gates=found["capabilities"], safe_mode=found["safe_mode"],
                  states=[s.value for s in GateState], can_set=current.can("capabilities.set"),
                  can_safe_mode=current.can("safe_mode.set"))


@router.post("/capabilities/{name}")
def set_capability(name: str, post: Posted = Depends(posted)) -> Response:
    state = post.text("state", required=True, max_len=20)
    reason = post.text("reason", required=True)
    result = capabilities.set_capability(post.page.f, post.page.actor, name, state, reason)
    message = post.page.t("done_capability", name=name, previous=result["previous"], state=result["state"])
    return done(post, message, "/admin/capabilities", result)


@router.post("/safe-mode")
def set_safe_mode(post: Posted = Depends(posted)) -> Response:
    on = post.form.get("on") in ("yes", "on", "1", "true")
    reason = post.text("reason", required=True)
    post.confirmed()
    result = capabilities.set_safe_mode(post.page.f, post.page.actor, on, reason)
    message = post.page.t("done_safe_mode_on" if on else "done_safe_mode_off")
    return done(post, message, safe_next(post.form.get("next"), "/admin/capabilities"), result)


# ---- audit ---------------------------------------------------------------------------------------------------------

@router.get("/audit")
def audit_page(request: Request, current: Page = Depends(page)) -> Response:
    filters = _filters(request, ("resource", "actor", "action"))
    limit = _int(request.query_params.get("limit"), PAGE_SIZE, low=1, high=1000)
    offset = _int(request.query_params.get("offset"), 0, high=10_000_000, name="offset")
    entries = audit.list_audit(current.f, current.actor, **filters, limit=limit + 1, offset=offset)
    more = len(entries) > limit
    query = {**filters, "limit": str(limit)}
    return render(current, "audit.html", entries=entries[:limit], filters=filters,
                  verify=audit.verify_audit(current.f, current.actor),
                  prev_url=f"/admin/audit?{urlencode({**query, 'offset': max(0, offset - limit)})}" if offset else None,
                  next_url=f"/admin/audit?{urlencode({**query, 'offset': offset + limit})}" if more else None)


# ---- training ------------------------------------------------------------------------------------------------------

@router.get("/training")
def training_page(request: Request, current: Page = Depends(page)) -> Response:
    filters = _filters(request, ("node", "state"))
    runs = training.list_runs(current.f, current.actor, node=filters.get("node"), state=filters.get("state"),
                              limit=200)
    return render(current, "training.html", runs=runs, filters=filters, states=training.STATES)


def training_buttons(current: Page, run: dict[str, Any]) -> list[dict[str, Any]]:
    possible = {"approve": run["state"] in training.APPROVABLE and run["best"] is not None,
                "reject": run["state"] in training.REJECTABLE,
                "continue": run["state"] == "waiting"}
    decision = current.can("training.decide", owner=run["created_by"])
    return [{"action": action, "allowed": decision.allowed, "why": decision.reason, "danger": action == "reject"}
            for action in TRAINING_ACTIONS if possible[action]]


@router.get("/training/{run_id}")
def run_page(run_id: str, current: Page = Depends(page)) -> Response:
    run = training.get(current.f, current.actor, run_id)
    return render(current, "run.html", run=run, buttons=training_buttons(current, run))


@router.get("/training/{run_id}/plot.png")
def run_plot(run_id: str, current: Page = Depends(page)) -> Response:
    png = training.plot(current.f, current.actor, run_id)
    return finish(Response(png, media_type="image/png"), current)


@router.post("/training/{run_id}/{action}")
def run_action(run_id: str, action: str, post: Posted = Depends(posted)) -> Response:
    if action not in TRAINING_ACTIONS:
        raise NotFound(post.page.t("err_unknown_action", action=action), code="not_found")
    body: dict[str, Any] = {}
    if reason := post.text("reason", required=True):
        body["reason"] = reason
    post.confirmed()
    if action == "approve" and (iteration := post.text("iteration", max_len=10)):
        body["iteration"] = _int(iteration, 0, low=1, high=1_000_000, name="iteration")
    use = {"approve": training.approve, "reject": training.reject, "continue": training.continue_run}[action]
    result = use(post.page.f, post.page.actor, run_id, body)
    created = (result.get("created") or {}).get("id")
    message = post.page.t("done_training", run=run_id, action=post.page.t(f"action_{action}"), state=result["state"])
    if created:
        message += " " + post.page.t("done_training_draft", id=created)
    return done(post, message, f"/admin/training/{run_id}", {"run_id": run_id, "state": result["state"],
                                                             "created": result.get("created")})


# ---- natural-language commands ---------------------------------------------------------------------------------------

@router.get("/commands")
def commands_page(current: Page = Depends(page)) -> Response:
    return render(current, "commands.html", text="", plan=None, error=None)


def diff_lines(diff: str | None) -> list[tuple[str, str]]:
    kinds = {"+": "add", "-": "del", "@": "hunk"}
    return [(kinds.get(line[:1], "ctx") if not line.startswith(("+++", "---")) else "file", line)
            for line in (diff or "").splitlines()]


@router.post("/commands")
def plan_command(post: Posted = Depends(posted)) -> Response:
    current = post.page
    text = post.text("text", max_len=commands.MAX_TEXT + 1) or ""
    try:
        planned = commands.plan_command(current.f, current.actor, text)
    except FactoryError as exc:
        return render(current, "commands.html", status=exc.status, text=text, plan=None, error=exc.body())
    return render(current, "commands.html", text=text, plan=planned, error=None, diff=diff_lines(planned["diff"]),
                  can_confirm=current.can("commands.confirm"))


@router.post("/commands/confirm")
def confirm_command(post: Posted = Depends(posted)) -> Response:
    token = post.text("confirm_token", required=True, max_len=200)
    post.confirmed()
    result = commands.confirm(post.page.f, post.page.actor, token)
    if wants_json(post.page.request):
        return done(post, result["summary"], "/admin/commands", result)
    return render(post.page, "command_done.html", result=result)


# ---- anything else under /admin ------------------------------------------------------------------------------------

@router.get("/{rest:path}")
def not_found(rest: str, current: Page = Depends(page)) -> Response:
    raise NotFound(current.t("err_no_page", path=f"/admin/{rest}"), code="not_found")
