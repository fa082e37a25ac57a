"""SelectorWeights: every scoring weight and threshold of the selector (selector/), in one place.

They become the tunable params of the node `factory.selector.v1` (library/factory_modules.py); the selector
reads them from here and hard-codes none.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SelectorWeights:
    """What each trait of a fitting node adds to its score, and the score needed to reuse it.

    With the defaults, a node of the requested type with fitting io scores at
    least 0.8 and is reused; a query naming only the kind (no `type_match`) reuses
    a node only when it prefers that node's id or version.
    """

    type_match: float = 0.4  # the query names the node's analysis/action/memory type
    io_fit: float = 0.3  # the node's io fits the requested io (a node whose io does not fit is no candidate)
    io_exact: float = 0.05  # ... and has exactly the requested io signature
    stable: float = 0.2
    experimental: float = 0.1
    prefer_id: float = 0.5  # the node is the query's prefer_id
    prefer_version: float = 0.2  # the node has the query's prefer_version
    newest: float = 0.05  # the highest version among the fitting nodes of its route
    min_score: float = 0.7  # the best candidate is reused at or above this score
