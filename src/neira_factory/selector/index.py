"""SelectorIndex: the registered nodes, indexed so that a decision touches only plausible ones.

Reusable (experimental or stable) nodes sit in two kinds of buckets: by
(kind, node_type) for queries naming a type, by kind for queries naming only a
kind. Inside a bucket, nodes are grouped by io signature and found through
postings (see `buckets`); only the nodes of plausible groups get the full check
(`matching.why_not`). Other states are registered but never indexed as reusable.
"""
from __future__ import annotations

import threading

from neira_factory.domain.schemas import parse_signature, signature
from neira_factory.domain.selector_weights import SelectorWeights

from .buckets import Bucket, Signatures
from .matching import why_not
from .models import REUSABLE_STATES, NodeEntry, SelectorDecision, SelectorQuery
from .ranking import decide


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
                key = _signatures(entry)
                parts = parse_signature(key[0]), parse_signature(key[1])
                for buckets, name in self._homes(entry):
                    buckets.setdefault(name, Bucket()).add(key, parts, entry)

    def remove(self, node_id: str) -> None:
        """Forget a node; forgetting an unknown id does nothing."""
        with self._lock:
            self._drop(node_id)

    def select(self, query: SelectorQuery, weights: SelectorWeights | None = None) -> SelectorDecision:
        """Reuse the best fitting node, or say why one must be created (scored with `weights`, or the index's)."""
        wanted_in, wanted_out = (None if sig is None else parse_signature(sig) for sig in query.signatures())
        fitting: list[NodeEntry] = []
        example: str | None = None
        with self._lock:
            bucket = self._by_type.get((query.kind, query.node_type)) if query.node_type else self._by_kind.get(query.kind)
            for group in bucket.plausible(wanted_in, wanted_out) if bucket else ():
                for entry in group.entries.values():
                    why = why_not(entry, query)
                    if why is None:
                        fitting.append(entry)
                    else:
                        example = example or why
            if bucket and not fitting and example is None:  # every group was implausible: any node says why
                example = why_not(next(iter(next(iter(bucket.groups.values())).entries.values())), query)
        return decide(query, fitting, example, weights or self.weights)

    def _homes(self, entry: NodeEntry) -> tuple[tuple[dict, object], ...]:
        return (self._by_type, (entry.kind, entry.node_type)), (self._by_kind, entry.kind)

    def _drop(self, node_id: str) -> None:
        old = self._entries.pop(node_id, None)
        if old is None or old.state not in REUSABLE_STATES:
            return
        key = _signatures(old)
        for buckets, name in self._homes(old):
            buckets[name].discard(key, node_id)
            if not buckets[name].groups:
                del buckets[name]


def _signatures(entry: NodeEntry) -> Signatures:
    return signature(entry.input_schema), signature(entry.output_schema)
