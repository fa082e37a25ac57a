"""A bucket of reusable nodes grouped by io signature, with postings that find the plausible groups.

Nodes sharing (input, output) signatures form a group. Two postings narrow a
query to plausible groups without visiting the others:

* output: the query's output requires fields R, so a group is plausible only
  when its output declares every field of R, or declares no field at all
  (an open object may carry them): the intersection of `output_fields[r]`,
  plus the open ones;
* input: the query's input declares fields P, so a group is plausible only
  when the fields its input requires lie within P: the groups under every
  `input_required[(S, open)]` with S a subset of P (`open`: the group's output
  declares no field, so it is plausible for any R).

The postings never drop a group `signatures_compatible` would keep (objects
only: a side that cannot be an object has no field constraints). An open query
side constrains nothing, and then a whole bucket may fit: the bucket also keeps
its nodes in the orders a ranking walks (see `search`).
"""
from __future__ import annotations

import bisect
from itertools import combinations

from neira_factory.domain.schemas import SignatureParts, signatures_compatible

from .models import NodeEntry

Signatures = tuple[frozenset[str], frozenset[str]]  # (input, output), as `domain.schemas.signature` gives them
NO_FIELDS: frozenset[str] = frozenset()


class Record:
    """A reusable node as the buckets hold it, with what a decision reads of it computed once.

    `schemas` are keys of its exact (input, output) schemas: nodes with equal keys
    fit or fail a query together, so a decision checks each key once.
    """

    __slots__ = ("entry", "key", "rank", "schemas", "stable")

    def __init__(self, entry: NodeEntry, key: Signatures, rank: tuple, stable: bool):
        self.entry, self.key, self.rank, self.stable = entry, key, rank, stable
        self.schemas = repr(entry.input_schema), repr(entry.output_schema)


class Group:
    """The nodes of one bucket that share io signatures, with those signatures taken apart."""

    __slots__ = ("entries", "input", "order", "output")

    def __init__(self, parts: tuple[SignatureParts, SignatureParts]):
        self.input, self.output = parts
        self.entries: dict[str, Record] = {}
        self.order: dict[bool, list[str]] = {True: [], False: []}  # ids of its stable / experimental nodes, sorted

    def may_fit(self, wanted_in: SignatureParts | None, wanted_out: SignatureParts | None) -> bool:
        """False when no node of the group can fit the query's io."""
        return (wanted_in is None or signatures_compatible(wanted_in, self.input)) and (
            wanted_out is None or signatures_compatible(self.output, wanted_out)
        )


class Bucket:
    """The nodes of one (kind, node_type) or one kind: io groups and their postings, and the orders a ranking walks.

    `order[stable]` holds the ids of the stable (True) or experimental (False)
    nodes, sorted; `routes` and `versions` find a node's route siblings and the
    nodes of a version; `exact[(side, signature)]` the groups with that input (0)
    or output (1) signature.
    """

    def __init__(self) -> None:
        self.groups: dict[Signatures, Group] = {}
        self.output_fields: dict[tuple[str, bool], set[Signatures]] = {}  # (field, the input requires none)
        self.output_open: set[Signatures] = set()
        self.input_required: dict[tuple[frozenset[str], bool], set[Signatures]] = {}  # (fields, output open)
        self.exact: dict[tuple[int, frozenset[str]], set[Signatures]] = {}
        self.records: dict[str, Record] = {}
        self.order: dict[bool, list[str]] = {True: [], False: []}
        self.routes: dict[str, dict[str, Record]] = {}
        self.versions: dict[str, set[str]] = {}

    def add(self, record: Record, parts: tuple[SignatureParts, SignatureParts]) -> None:
        group = self.groups.get(record.key)
        if group is None:
            group = self.groups[record.key] = Group(parts)
            self._post(record.key, group, add=True)
        node_id, entry = record.entry.id, record.entry
        group.entries[node_id] = self.records[node_id] = record
        for order in (self.order[record.stable], group.order[record.stable]):
            bisect.insort(order, node_id)
        self.routes.setdefault(entry.route, {})[node_id] = record
        self.versions.setdefault(entry.version, set()).add(node_id)

    def discard(self, record: Record) -> None:
        node_id, entry = record.entry.id, record.entry
        group = self.groups[record.key]
        del group.entries[node_id], self.records[node_id]
        if not group.entries:
            del self.groups[record.key]
            self._post(record.key, group, add=False)
        for order in (self.order[record.stable], group.order[record.stable]):
            del order[bisect.bisect_left(order, node_id)]
        del self.routes[entry.route][node_id]
        self.versions[entry.version].discard(node_id)
        for homes, name in ((self.routes, entry.route), (self.versions, entry.version)):
            if not homes[name]:
                del homes[name]

    def plausible(self, wanted_in: SignatureParts | None, wanted_out: SignatureParts | None, cap: int) -> set[Signatures] | None:
        """The keys of the groups the postings keep for the query's (input, output) signatures, a superset of those
        `Group.may_fit` keeps; None when no posting applies, or one side's alone applies and keeps more than `cap`."""
        required = _field_constraints(wanted_out, "required")
        declaring = [[self.output_fields.get((r, needs_none), set()) for r in required] for needs_none in (False, True)]
        declared = NO_FIELDS if wanted_in is None or wanted_in.nothing else _field_constraints(wanted_in, "present")
        if declared:
            within = self._requiring_within(declared)
            if not required and sum(len(found) for _, found in within) > cap:
                return None
            keys: set[Signatures] = set()
            for (needs, open_out), found in within:
                if open_out or not required:
                    keys |= found
                elif needs:  # found is small: the groups requiring exactly these fields
                    keys |= found.intersection(*declaring[False])
                else:  # found is every group with an input requiring nothing: read the output's postings instead
                    keys |= set.intersection(*sorted(declaring[True], key=len))
            return keys
        if not required or sum(min(map(len, postings)) for postings in declaring) + len(self.output_open) > cap:
            return None
        return set.union(*(set.intersection(*sorted(postings, key=len)) for postings in declaring), self.output_open)

    def _requiring_within(self, declared: frozenset[str]) -> list[tuple[tuple[frozenset[str], bool], set[Signatures]]]:
        """The `input_required` postings of inputs that require only fields of `declared`."""
        if 2 << len(declared) >= len(self.input_required):
            return [(token, keys) for token, keys in self.input_required.items() if token[0] <= declared]
        subsets = (frozenset(c) for size in range(len(declared) + 1) for c in combinations(sorted(declared), size))
        tokens = ((subset, open_out) for subset in subsets for open_out in (True, False))
        return [(token, self.input_required[token]) for token in tokens if token in self.input_required]

    def _post(self, key: Signatures, group: Group, add: bool) -> None:
        fields = _field_constraints(group.output, "present")
        needs = _field_constraints(group.input, "required")
        homes = [(self.output_fields, (f, not needs)) for f in fields] + [(self.input_required, (needs, not fields))]
        homes += [(self.exact, (0, key[0])), (self.exact, (1, key[1]))]
        if add:
            for postings, token in homes:
                postings.setdefault(token, set()).add(key)
            if not fields:
                self.output_open.add(key)
            return
        for postings, token in homes:
            postings[token].discard(key)
            if not postings[token]:
                del postings[token]
        self.output_open.discard(key)


def _field_constraints(parts: SignatureParts | None, which: str) -> frozenset[str]:
    """`parts.present` or `parts.required`, where fields matter: the side may be an object."""
    if parts is None or (parts.types and "object" not in parts.types):
        return NO_FIELDS
    return getattr(parts, which)
