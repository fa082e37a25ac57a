"""SelectorIndex: the registered nodes, indexed so that a decision touches only plausible ones.

Reusable (experimental or stable) nodes sit in groups keyed by their io
signatures (`domain.schemas.signature` of input and output), and the groups sit
in two buckets: by (kind, node_type) for queries naming a type, by kind for
queries naming only a kind. A query visits its bucket's groups, skips every
group whose signatures cannot fit (`signatures_compatible`), and runs the full
check (`matching.mismatch`) only on the nodes of the rest.
"""
from __future__ import annotations

import threading

from neira_factory.domain.schemas import SignatureParts, parse_signature, signature, signatures_compatible

from .matching import why_not
from .models import REUSABLE_STATES, NodeEntry, SelectorDecision, SelectorQuery
from .ranking import decide
from .weights import SelectorWeights

Signatures = tuple[frozenset[str], frozenset[str]]  # (input, output)


class _Group:
    """The reusable nodes of one bucket that share io signatures, with those signatures taken apart."""

    __slots__ = ("input", "output", "entries")

    def __init__(self, key: Signatures):
        self.input, self.output = parse_signature(key[0]), parse_signature(key[1])
        self.entries: dict[str, NodeEntry] = {}

    def may_fit(self, wanted_in: SignatureParts | None, wanted_out: SignatureParts | None) -> bool:
        """False when no node of the group can fit the query's io (see `signatures_compatible`)."""
        return (wanted_in is None or signatures_compatible(wanted_in, self.input)) and (
            wanted_out is None or signatures_compatible(self.output, wanted_out)
        )


Groups = dict[Signatures, _Group]


class SelectorIndex:
    """Reuse-or-create decisions over registered nodes; safe to share between threads."""

    def __init__(self, weights: SelectorWeights = SelectorWeights()):
        self.weights = weights
        self._lock = threading.Lock()
        self._entries: dict[str, NodeEntry] = {}
        self._by_type: dict[tuple[str, str], Groups] = {}
        self._by_kind: dict[str, Groups] = {}

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
                for index, bucket in self._homes(entry):
                    groups = index.setdefault(bucket, {})
                    (groups.get(key) or groups.setdefault(key, _Group(key))).entries[entry.id] = entry

    def remove(self, node_id: str) -> None:
        """Forget a node; forgetting an unknown id does nothing."""
        with self._lock:
            self._drop(node_id)

    def select(self, query: SelectorQuery) -> SelectorDecision:
        """Reuse the best fitting node, or say why one must be created."""
        wanted_in, wanted_out = (None if sig is None else parse_signature(sig) for sig in query.signatures())
        fitting: list[NodeEntry] = []
        example: str | None = None
        with self._lock:
            groups = self._by_type.get((query.kind, query.node_type)) if query.node_type else self._by_kind.get(query.kind)
            for group in (groups or {}).values():
                if group.may_fit(wanted_in, wanted_out):
                    for entry in group.entries.values():
                        why = why_not(entry, query)
                        if why is None:
                            fitting.append(entry)
                        else:
                            example = example or why
                elif example is None:
                    example = why_not(next(iter(group.entries.values())), query)
        return decide(query, fitting, example, self.weights)

    def _homes(self, entry: NodeEntry) -> tuple[tuple[dict, object], ...]:
        return (self._by_type, (entry.kind, entry.node_type)), (self._by_kind, entry.kind)

    def _drop(self, node_id: str) -> None:
        old = self._entries.pop(node_id, None)
        if old is None or old.state not in REUSABLE_STATES:
            return
        key = _signatures(old)
        for index, bucket in self._homes(old):
            groups = index[bucket]
            del groups[key].entries[node_id]
            if not groups[key].entries:
                del groups[key]
            if not groups:
                del index[bucket]


def _signatures(entry: NodeEntry) -> Signatures:
    return signature(entry.input_schema), signature(entry.output_schema)
