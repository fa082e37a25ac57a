"""`GET /events`: the factory's events as Server-Sent Events (read scope)."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from ...domain.events import Event
from ...services import events as following
from ...services.bootstrap import Services
from ..auth import ActorDep, services
from ..schemas import ERRORS

HEARTBEAT_S = 15.0  # a `: keep-alive` comment after this long without a write (query `heartbeat` overrides)
RETRY_MS = 3000  # the reconnection delay suggested to EventSource clients

# The errors are JSON, not the route's text/event-stream: spelled out so OpenAPI says so.
JSON_ERRORS = {code: {"description": spec["description"],
                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
               for code, spec in ERRORS.items()}
router = APIRouter()


class EventStreamResponse(StreamingResponse):
    """A `text/event-stream` response. (Not fastapi.sse.EventSourceResponse: FastAPI takes that as
    its own generator-based SSE, which has neither our ids, replay nor heartbeat parameter.)"""

    media_type = "text/event-stream"

EXAMPLE = ('retry: 3000\n\n'
           'id: 7\nevent: node.transition\ndata: {"type":"node.transition","resource":"analysis.reverse.v1",'
           '"data":{"action":"approve","from":"draft","to":"canary"},"ts":1717000000.5,"id":7}\n\n'
           ': keep-alive\n\n')


def authorized(actor: ActorDep, f: Services = Depends(services)) -> Services:
    """The policy check, in a worker thread (a sync dependency) since it reads the database."""
    following.authorize(f.events, actor)
    return f


def frame(event_id: int, event: Event) -> bytes:
    """One event in the SSE wire format: id, event (the type) and data (the event as JSON, with its id)."""
    data = json.dumps({**event.to_dict(), "id": event_id}, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"id: {event_id}\nevent: {event.type}\ndata: {data}\n\n".encode()


def _prefixes(types: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (types or "").split(",") if p.strip())


async def stream(request: Request, f: Services, *, last_id: int | None, prefixes: tuple[str, ...],
                 heartbeat_s: float) -> AsyncIterator[bytes]:
    """Replay after `last_id`, then follow the events until the client goes or the factory closes them."""
    async with following.subscription(f.events, last_id=last_id, prefixes=prefixes) as subscription:
        yield f"retry: {RETRY_MS}\n\n".encode()
        for note in subscription.notes:
            yield f": {note}\n\n".encode()
        for event_id, event in subscription.missed:
            yield frame(event_id, event)
        async for item in subscription.live(heartbeat_s, request.is_disconnected):
            yield b": keep-alive\n\n" if item is None else frame(*item)


@router.get("/events", tags=["events"], summary="The event stream (Server-Sent Events)",
            response_class=EventStreamResponse,
            responses={**JSON_ERRORS, 200: {"description": "An endless `text/event-stream`: `id: <id>`, `event: <type>`, "
                                            "`data: <JSON {id, type, resource, data, ts}>`, and `: keep-alive` "
                                            "comments while idle",
                             "content": {"text/event-stream": {"schema": {"type": "string"}, "example": EXAMPLE}}}})
async def events(
    request: Request,
    types: str | None = Query(default=None, max_length=500,
                              description="Comma-separated type prefixes to keep, e.g. `node.,analysis.`"),
    last_event_id: int | None = Query(default=None, ge=0,
                                      description="Replay the kept events after this id (the header wins)"),
    heartbeat: float = Query(default=HEARTBEAT_S, ge=0.05, le=60,
                             description="Seconds without an event before a `: keep-alive` comment"),
    last_event_id_header: int | None = Header(default=None, alias="Last-Event-ID", ge=0,
                                              description="Sent by EventSource on reconnection: replay after it"),
    f: Services = Depends(authorized),
) -> EventStreamResponse:
    """Events as they happen: node creation and transitions, capability and safe-mode changes, analysis
    verdicts, training.

    The stream carries the whole cluster's events, whichever replica made them, in the order of their ids:
    an event's id is its row in the database's event log, the same on every replica. A client that
    reconnects with `Last-Event-ID` (or `?last_event_id=`), to any replica, first gets what it missed: at
    most the newest 1000 events, kept for NEIRA_EVENTS_RETENTION_H; when more were missed, a comment
    `: events A..B are no longer kept` says which are not replayed.
    """
    last_id = last_event_id_header if last_event_id_header is not None else last_event_id
    body = stream(request, f, last_id=last_id, prefixes=_prefixes(types), heartbeat_s=heartbeat)
    return EventStreamResponse(body, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
