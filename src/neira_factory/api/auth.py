"""Who is calling: `Authorization: Bearer T` or `x-auth-token: T`, resolved to an Actor (`ActorDep` in a route)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ..domain.actors import Actor
from ..domain.errors import Unauthorized
from ..services.bootstrap import Services

bearer = HTTPBearer(auto_error=False, description="Bearer token (admin, write or read)")
header_token = APIKeyHeader(name="x-auth-token", auto_error=False, description="Neira's token header")


async def current_actor(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    token: str | None = Depends(header_token),
) -> Actor:
    given = credentials.credentials if credentials else token
    if not given:
        raise Unauthorized("a token is required: Authorization: Bearer T or x-auth-token: T")
    actor = request.app.state.tokens.actor_for(given)
    if actor is None:
        raise Unauthorized("the token is not known")
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]


async def services(request: Request) -> Services:
    """The composition root's services this app serves."""
    return request.app.state.services
