"""One decision over one bucket: fitting nodes visited in rank order, stopping as soon as the top is settled.

A fitting node's score is fixed by a few traits: stable or experimental, exact io
signatures, preferred id, preferred version, newest of its route. The walk visits
nodes in order of the best score their traits allow (newest or not is known only
once the node fits), then id; it keeps the best `limit` fitting nodes and stops
when the next node, even at its best, would rank below the last of them. So a
query that thousands of nodes fit (an open io schema) scores a handful.

The visiting order comes from one of two sources:

* the postings leave few plausible nodes (`Bucket.plausible`): they are sorted on the spot;
* otherwise the orders the bucket keeps (stable and experimental nodes, each by id)
  are merged with the few nodes whose traits lift them (preferred id or version,
  exact io signatures), sorted on the spot.

Fit is checked once per io group and once per distinct schema on each side
(`Record.schemas`), never per node, and gives what `matching.why_not` gives.
"""
from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Iterator
from math import isqrt

from neira_factory.domain.schemas import parse_signature, schema_fits
from neira_factory.domain.selector_weights import SelectorWeights

from .buckets import Bucket, Record
from .matching import why_not
from .models import SelectorDecision, SelectorQuery
from .ranking import candidate, decision_of, score

Visit = tuple[float, str, Record]  # (minus the best score the node's traits allow, its id, the node)
Ranked = tuple[float, str, Record, bool]  # (minus its score, its id, the node, newest of its route)


class Search:
    """The state of one decision: the query, and what was learnt about groups and schemas on the way."""

    def __init__(self, bucket: Bucket, query: SelectorQuery, weights: SelectorWeights):
        self.bucket, self.query, self.weights = bucket, query, weights
        self.signatures = query.signatures()
        self.wanted = tuple(None if sig is None else parse_signature(sig) for sig in self.signatures)
        self._groups: dict = {}
        self._schemas: tuple[dict[str, bool], dict[str, bool]] = ({}, {})
        self._scores: dict[tuple, float] = {}
        self._lifted: set[str] = set()
        self._failed: Record | None = None

    def decision(self) -> SelectorDecision:
        top = self._walk(self._order())
        ranked = [candidate(rec.entry, self.query, self.weights, self._exact(rec), newest) for _, _, rec, newest in top]
        example = None
        if not ranked:
            failed = self._failed or next(iter(self.bucket.records.values()))
            example = why_not(failed.entry, self.query)
        return decision_of(self.query, ranked, example, self.weights)

    def fits(self, rec: Record) -> bool:
        """What `why_not(rec.entry, query) is None` says, for a node of the bucket."""
        query, node_type = self.query, rec.entry.node_type
        fits = node_type not in query.blocked_types and (query.allowed_types is None or node_type in query.allowed_types)
        fits = fits and self._group_fits(rec) and self._side_fits(rec, 0) and self._side_fits(rec, 1)
        if not fits and self._failed is None:
            self._failed = rec
        return fits

    def _walk(self, order: Iterable[Visit]) -> list[Ranked]:
        top: list[Ranked] = []
        limit = self.query.limit
        for best, node_id, rec in order:
            if len(top) == limit and (best, node_id) > top[-1][:2]:
                break  # neither this node nor any after it can rank above the last of the top
            if not self.fits(rec):
                continue
            newest = not any(other.rank > rec.rank and self.fits(other)
                             for other in self.bucket.routes[rec.entry.route].values())
            item = (-self._score(rec, self._exact(rec), newest), node_id, rec, newest)
            if len(top) < limit or item[:2] < top[-1][:2]:
                bisect.insort(top, item)
                del top[limit:]
        return top

    def _order(self) -> Iterator[Visit]:
        """Lifted nodes first where their traits say so, then the plain ones by id, in plausible groups only."""
        bucket, orders = self.bucket, self.bucket.order
        cap = 64 + isqrt(4 * self.query.limit * len(bucket.records))  # sorting this many costs about what a walk does
        keys = bucket.plausible(*self.wanted, cap=cap)
        if keys is not None and len(keys) <= cap:
            ids: dict[bool, list[str]] = {True: [], False: []}
            for key in keys:
                group = bucket.groups[key].order
                ids[True] += group[True]
                ids[False] += group[False]
            if len(ids[True]) + len(ids[False]) <= cap:
                ids[True].sort()  # sorted runs: a merge
                ids[False].sort()
                orders, keys = ids, None
        return heapq.merge(self._lift(), *(self._plain(stable, orders[stable], keys) for stable in (True, False)))

    def _lift(self) -> list[Visit]:
        """The nodes whose traits may lift them above the plain ones: preferred id or version, exact io."""
        bucket, query = self.bucket, self.query
        preferred = {query.prefer_id} & bucket.records.keys()
        if query.prefer_version is not None:
            preferred |= bucket.versions.get(query.prefer_version, set())
        visits = [(self._best(rec, self._exact(rec)), node_id, rec)
                  for node_id, rec in zip(preferred, map(bucket.records.__getitem__, preferred))]
        for key in self._exact_groups():
            visits += [(self._best(rec, True), node_id, rec)
                       for node_id, rec in bucket.groups[key].entries.items() if node_id not in preferred]
        self._lifted = {node_id for _, node_id, _ in visits}
        return sorted(visits)

    def _plain(self, stable: bool, order: list[str], keys: set | None) -> Iterator[Visit]:
        """The stable (or experimental) nodes of `order` not lifted; only those in the groups of `keys`, if given."""
        best = -max(self._traits_score(stable, self.signatures == (None, None), (False, False), newest)
                    for newest in (True, False))
        records, lifted = self.bucket.records, self._lifted
        for node_id in order:
            rec = records[node_id]
            if node_id not in lifted and (keys is None or rec.key in keys):
                yield best, node_id, rec

    def _exact_groups(self) -> Iterable:
        """The keys of the groups with the query's io signatures (where it sets a schema); none when all have them."""
        wanted_in, wanted_out = self.signatures
        if wanted_in is None and wanted_out is None:
            return ()
        if wanted_in is not None and wanted_out is not None:
            return [(wanted_in, wanted_out)] if (wanted_in, wanted_out) in self.bucket.groups else []
        return self.bucket.exact.get((0, wanted_in) if wanted_in is not None else (1, wanted_out), ())

    def _best(self, rec: Record, exact: bool) -> float:
        """Minus the best score `rec` may get if it fits: newest of its route or not."""
        return -max(self._score(rec, exact, newest) for newest in (True, False))

    def _score(self, rec: Record, exact: bool, newest: bool) -> float:
        entry, query = rec.entry, self.query
        return self._traits_score(rec.stable, exact, (entry.id == query.prefer_id, entry.version == query.prefer_version), newest)

    def _traits_score(self, stable: bool, exact: bool, preferred: tuple[bool, bool], newest: bool) -> float:
        traits = stable, exact, preferred, newest
        found = self._scores.get(traits)
        if found is None:
            found = self._scores[traits] = score(self.query, self.weights, *traits)
        return found

    def _exact(self, rec: Record) -> bool:
        return all(sig is None or sig == have for sig, have in zip(self.signatures, rec.key))

    def _group_fits(self, rec: Record) -> bool:
        fits = self._groups.get(rec.key)
        if fits is None:
            fits = self._groups[rec.key] = self.bucket.groups[rec.key].may_fit(*self.wanted)
        return fits

    def _side_fits(self, rec: Record, side: int) -> bool:
        """The node's input accepts the query's, or its output fits the query's (side 1); None on the query passes."""
        wanted = (self.query.input_schema, self.query.output_schema)[side]
        if wanted is None:
            return True
        known = self._schemas[side].get(rec.schemas[side])
        if known is None:
            entry = rec.entry
            problems = schema_fits(wanted, entry.input_schema) if side == 0 else schema_fits(entry.output_schema, wanted)
            known = self._schemas[side][rec.schemas[side]] = not problems
        return known
