"""A memory route's page: its store's numbers, a search (a `search` op as the signed-in user), its records page
by page, an export, and forgetting a record (a confirmation page, then a CSRF-checked post of the `forget` op)."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ....domain.backend_kinds import BACKEND_KINDS
from ....services import invoke, memory
from ...routers.memory import export_lines, ndjson_download
from ..rendering import PAGE_SIZE, Page, Posted, UIRoute, done, finish, page, posted, render, whole_number

SEARCH_LIMIT = 20
MEMORY_GATES = (BACKEND_KINDS["memory"].gate,)

router = APIRouter(route_class=UIRoute)


def base_of(route: str) -> str:
    return f"/admin/memory/{quote(route, safe='')}"


def _search(current: Page, route: str, query: str) -> list[dict[str, Any]] | None:
    if not query:
        return None
    data = {"op": "search", "query": query, "limit": SEARCH_LIMIT}
    return invoke.invoke(current.f.invoke, current.actor, route, data)["output"]["results"]


@router.get("/memory/{route}")
def memory_page(request: Request, route: str, current: Page = Depends(page)) -> Response:
    found = memory.summary(current.f.memory, current.actor, route)
    after = whole_number(request.query_params.get("after"), 0, high=2**62, name="after")
    listing = memory.export(current.f.memory, current.actor, route, after, PAGE_SIZE)
    query = (request.query_params.get("q") or "").strip()[:2000]
    base = base_of(route)
    return render(current, "memory.html", memory=found, records=listing.records, query=query,
                  results=_search(current, route, query), base=base, first_url=base if after else None,
                  next_url=f"{base}?{urlencode({'after': listing.next})}" if listing.next is not None else None,
                  can_forget=current.permissions.may("memory.write", gates=MEMORY_GATES))


@router.get("/memory/{route}/export")
def memory_export(route: str, current: Page = Depends(page)) -> Response:
    return finish(ndjson_download(export_lines(current.f, current.actor, route), route), current)


@router.get("/memory/{route}/forget")
def forget_page(request: Request, route: str, current: Page = Depends(page)) -> Response:
    record_id = (request.query_params.get("id") or "").strip()[:200]
    found = memory.summary(current.f.memory, current.actor, route)
    return render(current, "memory_forget.html", memory=found, record_id=record_id, base=base_of(route),
                  can_forget=current.permissions.may("memory.write", gates=MEMORY_GATES))


@router.post("/memory/{route}/forget")
def forget(route: str, post: Posted = Depends(posted)) -> Response:
    record_id = post.text("id", required=True, max_len=200)
    post.confirmed()
    answer = invoke.invoke(post.page.f.invoke, post.page.actor, route, {"op": "forget", "id": record_id})
    gone = bool(answer["output"].get("forgotten"))
    message = post.page.t("done_forget" if gone else "done_forget_none", id=record_id)
    return done(post, message, base_of(route), {"forgotten": gone})
