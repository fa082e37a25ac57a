"""What every admin page shares: the request's context (session, language, the policy's answers), posted forms
and their CSRF check, rendering and responses, and the route class that turns errors into pages."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel

from ...domain.actors import Actor
from ...domain.errors import BadInput, FactoryError
from ...services.bootstrap import Services
from ...services.permissions import Permissions, permissions
from . import i18n
from .session import COOKIE_PATH, FLASH_COOKIE, LANG_COOKIE, SESSION_COOKIE, Session, SessionSigner

PAGE_SIZE = 100
MAX_FORM_FIELDS = 50
YES = ("yes", "on", "1", "true")  # a ticked checkbox
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                  autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)


def _plain(value: Any) -> Any:
    """What `json.dumps` cannot write itself: a use case's answer as its fields, anything else as its str."""
    return value.model_dump() if isinstance(value, BaseModel) else str(value)


# JSON as people read it (Cyrillic as it is); a plain str, so autoescaping applies to it.
env.filters["json"] = lambda value, indent=None: json.dumps(value, ensure_ascii=False, indent=indent, default=_plain)


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
    def f(self) -> Services:
        return self.request.app.state.services

    @property
    def actor(self) -> Actor:
        if self.session is None:
            raise NotSignedIn()
        return self.session.actor

    def t(self, key: str, **values: Any) -> str:
        return i18n.translate(self.lang, key, **values)

    def reason(self, why: dict[str, Any] | None, default: str = "") -> str:
        """A `why` in the page's language (`default`, the English reason, where there is none)."""
        return i18n.reason(self.lang, why, default)

    @cached_property
    def permissions(self) -> Permissions:
        """What the policy says to this actor now: the UI hides or disables what it would refuse."""
        return permissions(self.f.permissions, self.actor)


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

    def ticked(self, name: str) -> bool:
        return self.form.get(name) in YES

    def confirmed(self) -> None:
        if not self.ticked("confirm"):
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


def whole_number(value: str | None, default: int, *, low: int = 0, high: int = 10_000, name: str = "limit") -> int:
    if value in (None, ""):
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadInput(f"{name}: a whole number from {low} to {high}", field=name)
    return int(value)


def query_filters(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    return {n: request.query_params[n].strip() for n in names
            if request.query_params.get(n, "").strip() and len(request.query_params[n]) <= 200}


def pager(base: str, filters: dict[str, str], limit: int, offset: int, more: bool) -> dict[str, str | None]:
    """The previous and next page links of a listing (`prev_url`, `next_url`; None at either end)."""
    query = {**filters, "limit": str(limit)}
    return {"prev_url": f"{base}?{urlencode({**query, 'offset': max(0, offset - limit)})}" if offset else None,
            "next_url": f"{base}?{urlencode({**query, 'offset': offset + limit})}" if more else None}


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
    html = tpl.render(page=current, t=current.t, reason=current.reason, session=current.session, lang=current.lang,
                      csrf=current.session.csrf if current.session else "", path=current.request.url.path,
                      full_path=full_path(current.request), **context)
    return finish(HTMLResponse(html, status_code=status or current.status), current)


def full_path(request: Request) -> str:
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
                    target = "/admin/login?" + urlencode({"next": full_path(request)})
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
