"""`GET /events`: the factory's events as Server-Sent Events (read scope)."""
from __future__ import annotations

import asyncio
import json
import queue
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from ...domain.actors import Actor
from ...domain.events import Event
from ...nervous.events import CLOSED, EventBus
from ...services.factory import Factory
from ..auth import current_actor, factory
from ..schemas import ERRORS

HEARTBEAT_S = 15.0  # a `: keep-alive` comment after this long without a write (query `heartbeat` overrides)
POLL_S = 0.1  # how often an idle stream looks at its queue and at the connection
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


def authorized(actor: Actor = Depends(current_actor), f: Factory = Depends(factory)) -> Factory:
    """The policy check, in a worker thread (a sync dependency) since it reads the database."""
    with f.read() as uow:
        f.authorize(uow, actor, "events.read")
    return f


def frame(event_id: int, event: Event) -> bytes:
    """One event in the SSE wire format: id, event (the type) and data (the event as JSON, with its id)."""
    data = json.dumps({**event.to_dict(), "id": event_id}, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"id: {event_id}\nevent: {event.type}\ndata: {data}\n\n".encode()


def _prefixes(types: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (types or "").split(",") if p.strip())


async def stream(request: Request, bus: EventBus, *, last_id: int | None, prefixes: tuple[str, ...],
                 heartbeat_s: float) -> AsyncIterator[bytes]:
    """Replay after `last_id`, then follow the bus until the client goes or the bus closes."""
    def wanted(event: Event) -> bool:
        return not prefixes or event.type.startswith(prefixes)

    backlog, q = bus.subscribe_after(last_id) if last_id is not None else ([], bus.subscribe())
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        if backlog and last_id is not None and backlog[0][0] > last_id + 1:
            yield f": events {last_id + 1}..{backlog[0][0] - 1} are no longer kept\n\n".encode()
        for event_id, event in backlog:
            if wanted(event):
                yield frame(event_id, event)
        last_write = time.monotonic()
        while True:
            try:
                item = q.get_nowait()
            except queue.Empty:
                if await request.is_disconnected():
                    return
                if time.monotonic() - last_write >= heartbeat_s:
                    yield b": keep-alive\n\n"
                    last_write = time.monotonic()
                await asyncio.sleep(min(POLL_S, heartbeat_s))
                continue
            if item is CLOSED:
                return
            event_id, event = item
            if wanted(event):
                yield frame(event_id, event)
                last_write = time.monotonic()
    finally:
        bus.unsubscribe(q)


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
    f: Factory = Depends(authorized),
) -> EventStreamResponse:
    """Events as they happen: node creation and transitions, capability and safe-mode changes.

    Each event has an id that increases within this server process; the last few hundred are
    kept, so a client that reconnects with `Last-Event-ID` (or `?last_event_id=`) first gets what
    it missed. Events are per replica: a client sees the writes made through the server it is
    connected to.
    """
    last_id = last_event_id_header if last_event_id_header is not None else last_event_id
    body = stream(request, f.bus, last_id=last_id, prefixes=_prefixes(types), heartbeat_s=heartbeat)
    return EventStreamResponse(body, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
