"""Every error leaves as `{"code", "reason", ...}`; nothing a client sends becomes a 500."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain.errors import FactoryError
from .json_body import InvalidBody

log = logging.getLogger(__name__)
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 401: "unauthorized"}


def _describe(error: dict) -> dict:
    """One validation error as {field, reason}; malformed JSON names its position, not a fake field."""
    loc = error.get("loc", ())
    if error.get("type") == "json_invalid":
        detail = (error.get("ctx") or {}).get("error", "invalid JSON")
        return {"field": "body", "reason": f"malformed JSON at character {loc[-1] if loc else 0}: {detail}"}
    return {"field": ".".join(str(p) for p in loc), "reason": error.get("msg", "invalid")}


def install(app: FastAPI) -> None:
    @app.exception_handler(FactoryError)
    async def factory_error(_request: Request, exc: FactoryError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_describe(e) for e in exc.errors()]
        first = errors[0] if errors else {"field": "body", "reason": "invalid"}
        return JSONResponse({"code": "invalid_input", "reason": f"{first['field']}: {first['reason']}",
                             "field": first["field"], "errors": errors}, status_code=422)

    @app.exception_handler(InvalidBody)
    async def invalid_body(_request: Request, exc: InvalidBody) -> JSONResponse:
        return JSONResponse({"code": "invalid_input", "reason": f"{exc.field}: {exc.detail}", "field": exc.field,
                             "errors": [{"field": exc.field, "reason": exc.detail}]}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"code": HTTP_CODES.get(exc.status_code, "http_error"), "reason": str(exc.detail)},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"code": "internal_error", "reason": "unexpected server error; see the server log"},
                            status_code=500)
