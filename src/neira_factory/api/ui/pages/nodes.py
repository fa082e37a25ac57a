"""Nodes: the filtered list, a node's page (its actions, analysis, charts, template), and its lifecycle posts."""
from __future__ import annotations

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from ....domain.backend_kinds import BACKEND_KINDS
from ....domain.lifecycle import State
from ....services import analysis, nodes
from .. import charts
from ..rendering import PAGE_SIZE, Page, Posted, UIRoute, finish, page, pager, posted, query_filters, render, \
    whole_number
from .lifecycle import action_buttons, transition

router = APIRouter(route_class=UIRoute)


@router.get("/nodes")
def nodes_page(request: Request, current: Page = Depends(page)) -> Response:
    filters = query_filters(request, ("state", "backend", "kind", "route", "search"))
    limit = whole_number(request.query_params.get("limit"), PAGE_SIZE, low=1, high=1000)
    offset = whole_number(request.query_params.get("offset"), 0, high=1_000_000, name="offset")
    found = nodes.list_nodes(current.f.nodes, current.actor, **filters, limit=limit + 1, offset=offset)
    return render(current, "nodes.html", nodes=found[:limit], filters=filters, states=[s.value for s in State],
                  backends=(*BACKEND_KINDS, "organ"), kinds=("analysis", "action", "memory", "organ"),
                  **pager("/admin/nodes", filters, limit, offset, more=len(found) > limit))


@router.get("/nodes/{node_id}")
def node_page(request: Request, node_id: str, current: Page = Depends(page)) -> Response:
    detail = nodes.get_node(current.f.nodes, current.actor, node_id)
    if detail.kind == "organ":
        return finish(RedirectResponse(f"/admin/organs/{node_id}", status_code=303), current)
    buttons = action_buttons(current, detail, detail.allowed, organ=detail.kind == "organ")
    part = request.query_params.get("part")
    if part in ("actions", "history"):
        return render(current, f"_{part}.html", node=detail, buttons=buttons, base=f"/admin/nodes/{node_id}")
    report = analysis.report(current.f.analysis, current.actor, node_id)
    return render(current, "node.html", node=detail, buttons=buttons, analysis=report,
                  charts=charts.analysis_charts(report.windows, current.t),
                  template_yaml=yaml.safe_dump(detail.template, allow_unicode=True, sort_keys=False),
                  base=f"/admin/nodes/{node_id}")


@router.post("/nodes/{node_id}/{action}")
def node_action(node_id: str, action: str, post: Posted = Depends(posted)) -> Response:
    return transition(post, node_id, action, organ=False)
