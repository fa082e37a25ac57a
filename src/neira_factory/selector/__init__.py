"""SelectorNode: decides whether an existing node can be reused for a request or a new one must be created.

`SelectorIndex.select(query)` answers with a `SelectorDecision`: `reuse` or
`create`, the ranked candidates with their scores and one-line explanations,
and the reason. Only experimental and stable nodes are reused.
"""
from ..domain.selector_weights import SelectorWeights
from .index import SelectorIndex
from .models import (
    REUSABLE_STATES,
    Candidate,
    NodeEntry,
    SelectorDecision,
    SelectorQuery,
)
from .templates import entry_for, query_for

__all__ = [
    "REUSABLE_STATES",
    "Candidate",
    "NodeEntry",
    "SelectorDecision",
    "SelectorIndex",
    "SelectorQuery",
    "SelectorWeights",
    "entry_for",
    "query_for",
]
