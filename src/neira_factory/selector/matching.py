"""Whether one node can serve a query: state, kind, type, allowed/blocked types, io fit."""
from __future__ import annotations

from neira_factory.domain.schemas import schema_fits

from .models import REUSABLE_STATES, NodeEntry, SelectorQuery


def mismatch(entry: NodeEntry, query: SelectorQuery) -> list[str]:
    """Why `entry` cannot serve `query`, one reason per problem; empty when it can."""
    if entry.state not in REUSABLE_STATES:
        return [f"{entry.state}, only experimental or stable nodes are reused"]
    if entry.kind != query.kind:
        return [f"kind {entry.kind}, needs {query.kind}"]
    if query.node_type is not None and entry.node_type != query.node_type:
        return [f"type {entry.node_type}, needs {query.node_type}"]
    if entry.node_type in query.blocked_types:
        return [f"type {entry.node_type} is blocked"]
    if query.allowed_types is not None and entry.node_type not in query.allowed_types:
        return [f"type {entry.node_type} is not among the allowed types"]
    found = []
    if query.input_schema is not None:
        found += [f"input: {p}" for p in schema_fits(query.input_schema, entry.input_schema)]
    if query.output_schema is not None:
        found += [f"output: {p}" for p in schema_fits(entry.output_schema, query.output_schema)]
    return found


def why_not(entry: NodeEntry, query: SelectorQuery) -> str | None:
    """`"<id>: <reasons>"` when `entry` cannot serve `query`, else None."""
    problems = mismatch(entry, query)
    return f"{entry.id}: {'; '.join(problems)}" if problems else None
