"""Organs: the list, an organ's page (its graph, actions and template), and its lifecycle posts."""
from __future__ import annotations

import re

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from ....domain.lifecycle import State
from ....services import nodes, organs
from ..rendering import Page, Posted, UIRoute, page, posted, render
from .lifecycle import action_buttons, transition

SVG_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.DOTALL)
SVG_UNSAFE = re.compile(r"<script.*?</script>|\son\w+\s*=\s*(\"[^\"]*\"|'[^']*')", re.DOTALL | re.IGNORECASE)

router = APIRouter(route_class=UIRoute)


def inline_svg(content: bytes) -> Markup:
    """graphviz's SVG, to inline: no prolog, doctype or comments, and nothing that could run."""
    text = SVG_PROLOG.sub("", content.decode("utf-8", "replace"))
    return Markup(SVG_UNSAFE.sub("", text).strip())


@router.get("/organs")
def organs_page(request: Request, current: Page = Depends(page)) -> Response:
    state = (request.query_params.get("state") or "").strip() or None
    return render(current, "organs.html", organs=organs.list_organs(current.f.organs, current.actor, state),
                  state=state, states=[s.value for s in State])


@router.get("/organs/{organ_id}")
def organ_page(request: Request, organ_id: str, current: Page = Depends(page)) -> Response:
    status = organs.status(current.f.organs, current.actor, organ_id)
    detail = nodes.get_node(current.f.nodes, current.actor, organ_id)
    buttons = action_buttons(current, detail, status.allowed, organ=True)
    part = request.query_params.get("part")
    if part in ("actions", "history"):
        return render(current, f"_{part}.html", node=detail, buttons=buttons, base=f"/admin/organs/{organ_id}")
    graph = inline_svg(organs.graph_svg(current.f.organs, current.actor, organ_id))
    return render(current, "organ.html", organ=status, node=detail, graph=graph, buttons=buttons,
                  template_yaml=yaml.safe_dump(detail.template, allow_unicode=True, sort_keys=False),
                  base=f"/admin/organs/{organ_id}")


@router.post("/organs/{organ_id}/{action}")
def organ_action(organ_id: str, action: str, post: Posted = Depends(posted)) -> Response:
    return transition(post, organ_id, action, organ=True)
