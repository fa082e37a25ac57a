"""A bucket of reusable nodes grouped by io signature, with postings that find the plausible groups.

Nodes sharing (input, output) signatures form a group. Two postings narrow a
query to plausible groups without visiting the others:

* output: the query's output requires fields R, so a group is plausible only
  when its output declares every field of R, or declares no field at all
  (an open object may carry them): the intersection of `output_fields[r]`,
  plus `output_open`;
* input: the query's input declares fields P, so a group is plausible only
  when the fields its input requires lie within P: the groups under every
  `input_required[S]` with S a subset of P.

Each plausible group is then checked on its whole signatures
(`signatures_compatible`), and its nodes one by one. The postings never drop a
group `signatures_compatible` would keep (objects only: a side that cannot be
an object has no field constraints).
"""
from __future__ import annotations

from collections.abc import Iterator

from neira_factory.domain.schemas import SignatureParts, signatures_compatible

from .models import NodeEntry

Signatures = tuple[frozenset[str], frozenset[str]]  # (input, output), as `domain.schemas.signature` gives them
NO_FIELDS: frozenset[str] = frozenset()


class Group:
    """The nodes of one bucket that share io signatures, with those signatures taken apart."""

    __slots__ = ("entries", "input", "output")

    def __init__(self, parts: tuple[SignatureParts, SignatureParts]):
        self.input, self.output = parts
        self.entries: dict[str, NodeEntry] = {}

    def may_fit(self, wanted_in: SignatureParts | None, wanted_out: SignatureParts | None) -> bool:
        """False when no node of the group can fit the query's io."""
        return (wanted_in is None or signatures_compatible(wanted_in, self.input)) and (
            wanted_out is None or signatures_compatible(self.output, wanted_out)
        )


class Bucket:
    """The groups of one (kind, node_type) or one kind, and their postings."""

    def __init__(self) -> None:
        self.groups: dict[Signatures, Group] = {}
        self.output_fields: dict[str, set[Signatures]] = {}
        self.output_open: set[Signatures] = set()
        self.input_required: dict[frozenset[str], set[Signatures]] = {}

    def add(self, key: Signatures, parts: tuple[SignatureParts, SignatureParts], entry: NodeEntry) -> None:
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(parts)
            self._post(key, group, add=True)
        group.entries[entry.id] = entry

    def discard(self, key: Signatures, node_id: str) -> None:
        group = self.groups[key]
        del group.entries[node_id]
        if not group.entries:
            del self.groups[key]
            self._post(key, group, add=False)

    def plausible(self, wanted_in: SignatureParts | None, wanted_out: SignatureParts | None) -> Iterator[Group]:
        """The groups whose signatures may fit the query's (input, output) signatures."""
        keys: set[Signatures] | None = None
        required = _field_constraints(wanted_out, "required")
        if required:
            postings = sorted((self.output_fields.get(r, set()) for r in required), key=len)
            keys = set.intersection(*postings) | self.output_open
        declared = _field_constraints(wanted_in, "present")
        if declared and not wanted_in.nothing:
            fitting_in = set().union(*(keys_ for needs, keys_ in self.input_required.items() if needs <= declared))
            keys = fitting_in if keys is None else keys & fitting_in
        groups = self.groups.values() if keys is None else (self.groups[k] for k in keys)
        return (g for g in groups if g.may_fit(wanted_in, wanted_out))

    def _post(self, key: Signatures, group: Group, add: bool) -> None:
        fields = _field_constraints(group.output, "present")
        needs = _field_constraints(group.input, "required")
        homes = [(self.output_fields, f) for f in fields] + [(self.input_required, needs)]
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
