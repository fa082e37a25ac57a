"""Live updates: the factory's events for the session's pages (the stream of GET /events, signed in by cookie)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ....services import events as following
from ...routers.events import HEARTBEAT_S, EventStreamResponse, stream
from ..rendering import UIRoute, page

LIVE_TYPES = "node.,organ.,analysis.,capability.,safe_mode.,training.,command."

router = APIRouter(route_class=UIRoute)


@router.get("/events")
async def live(request: Request, types: str | None = None, last_event_id: int | None = None) -> Response:
    """The factory's events for this session's pages (the same stream as GET /events, signed in by cookie)."""
    current = page(request)
    f = current.f
    following.authorize(f.events, current.actor)
    header = request.headers.get("last-event-id")
    last_id = int(header) if header and header.isdigit() else last_event_id
    prefixes = tuple(p.strip() for p in (types or LIVE_TYPES).split(",") if p.strip())
    body = stream(request, f, last_id=last_id, prefixes=prefixes, heartbeat_s=HEARTBEAT_S)
    return EventStreamResponse(body, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
