"""/memory/{route}: a memory route's store as a whole — its summary, an export as JSON Lines, a bulk import.
The ops on single records go through POST /invoke/{route} (`{"op": "put" | "get" | "search" | "forget" |
"push_metrics", ...}`)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from ...domain.actors import Actor
from ...services import memory
from ...services.bootstrap import Services
from ...services.memory import ImportResult, MemorySummary
from ..auth import ActorDep, services
from ..json_body import JSONRoute
from ..schemas import ERRORS, ErrorBody

EXPORT_PAGE = 500  # records read a transaction while an export streams
NDJSON = "application/x-ndjson"
ROUTE = Path(max_length=200, description="the memory node's route: its id without the .vN suffix, e.g. memory.facts")
NOT_MEMORY = {404: {"model": ErrorBody, "description": "unknown route"},
              409: {"model": ErrorBody, "description": "not_memory_node: the route's node is another backend; "
                                                       "no_live_version: only drafts or retired versions on it"}}
IMPORT_BODY = {"required": True, "content": {
    NDJSON: {"schema": {"type": "string", "description": "one record a line (an export's lines import as they are)"},
             "example": '{"id": "newton", "description": "Закон всемирного тяготения", "credibility": 0.9}\n'
                        '{"description": "The law of universal gravitation", "keywords": ["physics"]}\n'},
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}},
                         "example": [{"description": "The law of universal gravitation", "type": "fact"}]}}}

router = APIRouter(prefix="/memory", tags=["memory"], responses=ERRORS, route_class=JSONRoute)


@router.get("/{route}", response_model=MemorySummary, responses=NOT_MEMORY, summary="A memory route's store",
            description="The node read (stable, else the newest live version), its store, how many records it "
                        "holds and has evicted, its capacity, language and retention. Needs read scope.")
def summary(actor: ActorDep, route: str = ROUTE, f: Services = Depends(services)):
    return memory.summary(f.memory, actor, route)


def export_lines(f: Services, actor: Actor, route: str) -> Iterator[str]:
    """Every record of the route's store, one JSON line each, page by page. The first page is read now, so a
    refusal (404, 403, 409) is an answer, not a broken stream."""
    page = memory.export(f.memory, actor, route, 0, EXPORT_PAGE)

    def lines() -> Iterator[str]:
        current = page
        while True:
            for record in current.records:
                yield json.dumps(record, ensure_ascii=False) + "\n"
            if current.next is None:
                return
            current = memory.export(f.memory, actor, route, current.next, EXPORT_PAGE)

    return lines()


def ndjson_download(lines: Iterator[str], route: str) -> StreamingResponse:
    return StreamingResponse(lines, media_type=NDJSON, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(route, safe='')}.jsonl"})


@router.get("/{route}/export", response_class=StreamingResponse, summary="Export a store as JSON Lines",
            responses={200: {"content": {NDJSON: {}}, "description": "one record a line, in the order they were "
                                                                     "first written"}, **NOT_MEMORY},
            description="Streams every record of the route's store (`application/x-ndjson`), as `get` answers "
                        "it: the cell, its version, priority, times and usage. Import the file as it is with "
                        "POST /memory/{route}/import. Needs read scope.")
def export(actor: ActorDep, route: str = ROUTE, f: Services = Depends(services)):
    return ndjson_download(export_lines(f, actor, route), route)


@router.post("/{route}/import", response_model=ImportResult, openapi_extra={"requestBody": IMPORT_BODY},
             responses={**NOT_MEMORY, 413: {"model": ErrorBody, "description": "payload_too_large: past "
                                            "NEIRA_MAX_BODY_BYTES; send the records in several requests"}},
             summary="Import records into a store (write; admin in safe-mode; audited)",
             description="JSON Lines (`application/x-ndjson`, one record a line, blank lines skipped) or one JSON "
                         "array. Each record is what a `put` takes (`description` required; `id`, `type`, "
                         "`keywords`, `links`, `credibility`, `metadata`); an export's own fields (`version`, "
                         "`priority`, `created_at`, `updated_at`, `usage`, `score`) are dropped. Every record is "
                         "checked first: a bad one is a 422 naming its `line` (or `record` in an array) and "
                         f"`field`, and nothing is written. Then they are written in batches of "
                         f"{memory.IMPORT_BATCH}, each committed with its audit entry (`memory.import`: who, how "
                         "many, `source`). A record with an existing id becomes its next version; records beyond "
                         "the capacity are evicted, lowest priority first. Needs write scope (admin in safe-mode) "
                         "and the `factory_memory` gate open.")
async def import_records(request: Request, actor: ActorDep, route: str = ROUTE,
                         source: str = Query(default="api", max_length=200,
                                             description="where the records come from (kept in the audit entry)"),
                         f: Services = Depends(services)):
    return await run_in_threadpool(memory.import_records, f.memory, actor, route, await request.body(), source)
