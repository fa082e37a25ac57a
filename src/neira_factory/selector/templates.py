"""Bridges from NodeTemplate: the query a template asks, the entry a registered template is."""
from __future__ import annotations

from typing import Any

from neira_factory.domain.templates import NodeTemplate

from .models import NodeEntry, SelectorQuery


def query_for(template: NodeTemplate, **options: Any) -> SelectorQuery:
    """The query of a request for `template`: its kind, type and io, preferring its own id.

    `options` are the other SelectorQuery fields (allowed/blocked types, limit, …).
    """
    options.setdefault("prefer_id", template.id)
    return SelectorQuery(
        kind=template.kind,
        node_type=template.node_type,
        input_schema=template.io.input,
        output_schema=template.io.output,
        **options,
    )


def entry_for(template: NodeTemplate, state: str) -> NodeEntry:
    """The selector's view of a registered template in `state`."""
    return NodeEntry(
        id=template.id,
        route=template.route_name,
        version=template.version,
        kind=template.kind,
        node_type=template.node_type,
        state=state,
        input_schema=template.io.input,
        output_schema=template.io.output,
    )
