"""SelectorIndex: the registered nodes, indexed so that a decision touches a handful of them.

Reusable (experimental or stable) nodes sit in two kinds of buckets: by
(kind, node_type) for queries naming a type, by kind for queries naming only a
kind. Inside a bucket, nodes are grouped by io signature and found through
postings (see `buckets`); a decision visits the fitting ones in rank order and
stops once the top is settled (see `search`). Other states are registered but
never indexed as reusable.
"""
from __future__ import annotations

import threading

from neira_factory.domain.lifecycle import State
from neira_factory.domain.schemas import parse_signature, signature
from neira_factory.domain.selector_weights import SelectorWeights

from .buckets import Bucket, Record
from .models import REUSABLE_STATES, NodeEntry, SelectorDecision, SelectorQuery
from .ranking import decide, version_rank
from .search import Search


class SelectorIndex:
    """Reuse-or-create decisions over registered nodes; safe to share between threads."""

    def __init__(self, weights: SelectorWeights = SelectorWeights()):  # noqa: B008 - frozen, safe to share
        self.weights = weights
        self._lock = threading.Lock()
        self._entries: dict[str, NodeEntry] = {}
        self._by_type: dict[tuple[str, str], Bucket] = {}
        self._by_kind: dict[str, Bucket] = {}

    def __len__(self) -> int:
        """Registered nodes, in any state."""
        return len(self._entries)

    def upsert(self, entry: NodeEntry) -> None:
        """Add a node, or replace the one with its id (a state change is an upsert)."""
        with self._lock:
            self._drop(entry.id)
            self._entries[entry.id] = entry
            if entry.state in REUSABLE_STATES:
                key = signature(entry.input_schema), signature(entry.output_schema)
                record = Record(entry, key, version_rank(entry), entry.state == State.STABLE.value)
                parts = parse_signature(key[0]), parse_signature(key[1])
                for buckets, name in self._homes(entry):
                    buckets.setdefault(name, Bucket()).add(record, parts)

    def remove(self, node_id: str) -> None:
        """Forget a node; forgetting an unknown id does nothing."""
        with self._lock:
            self._drop(node_id)

    def select(self, query: SelectorQuery, weights: SelectorWeights | None = None) -> SelectorDecision:
        """Reuse the best fitting node, or say why one must be created (scored with `weights`, or the index's)."""
        weights = weights or self.weights
        with self._lock:
            bucket = self._by_type.get((query.kind, query.node_type)) if query.node_type else self._by_kind.get(query.kind)
            if bucket is not None:
                return Search(bucket, query, weights).decision()
        return decide(query, [], None, weights)

    def _homes(self, entry: NodeEntry) -> tuple[tuple[dict, object], ...]:
        return (self._by_type, (entry.kind, entry.node_type)), (self._by_kind, entry.kind)

    def _drop(self, node_id: str) -> None:
        old = self._entries.pop(node_id, None)
        if old is None or old.state not in REUSABLE_STATES:
            return
        for buckets, name in self._homes(old):
            buckets[name].discard(buckets[name].records[node_id])
            if not buckets[name].groups:
                del buckets[name]
