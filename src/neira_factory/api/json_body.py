"""Request bodies read as plain JSON (domain/json_values): what cannot be carried further is a 422.

FastAPI reads a JSON body with `json.loads` and answers a bare 400 for anything but a syntax error (text
that is not UTF-8, nesting past the recursion limit, an integer past the digit limit), and it keeps lone
surrogates and `NaN`, which break later (an artifact that cannot be stored or loaded, a response that
cannot be written). Every API router uses `JSONRoute`, whose requests parse with `json_values.parse`: a
refusal is 422 `invalid_input` naming the field, like any other validation error.
"""
from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from ..domain import json_values


class InvalidBody(HTTPException):
    """A body that is not plain JSON (FastAPI passes HTTPExceptions through its body parsing)."""

    def __init__(self, error: json_values.NotJSON):
        super().__init__(status_code=422, detail=error.reason)
        self.field = error.path


class JSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = json_values.parse(await self.body(), "body")
            except json_values.NotJSON as exc:
                raise InvalidBody(exc) from None
        return self._json


class JSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def plain_json(request: Request) -> Response:
            return await handler(JSONRequest(request.scope, request.receive))

        return plain_json
