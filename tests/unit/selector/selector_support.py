"""Entries and schemas the selector tests share."""
from __future__ import annotations

from neira_factory.domain.ids import route_of
from neira_factory.selector import NodeEntry

TEXT_IN = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
NORMALIZED_OUT = {"type": "object", "properties": {"normalized": {"type": "string"}}, "required": ["normalized"]}


def make_entry(node_id: str, state: str = "stable", version: str = "0.1.0", node_type: str | None = None,
               input_schema: dict = TEXT_IN, output_schema: dict = NORMALIZED_OUT) -> NodeEntry:
    """An entry whose kind and type come from its id (`analysis.text_normalize.v1`)."""
    kind, node_type_from_id = node_id.split(".")[:2]
    return NodeEntry(node_id, route_of(node_id), version, kind, node_type or node_type_from_id, state,
                     input_schema, output_schema)
