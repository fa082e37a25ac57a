"""Scoring fitting nodes and turning the ranking into a reuse-or-create decision.

Input: the nodes that fit a query (see `matching`), however they were found;
the index and a linear scan give the same decision for the same nodes. A score
depends only on a node's traits (`score`), which lets the index rank without
scoring every fitting node (see `search`).
"""
from __future__ import annotations

import heapq

from neira_factory.domain.ids import version_number
from neira_factory.domain.lifecycle import State
from neira_factory.domain.schemas import signature
from neira_factory.domain.selector_weights import SelectorWeights

from .models import Candidate, NodeEntry, SelectorDecision, SelectorQuery


def decide(query: SelectorQuery, fitting: list[NodeEntry], example: str | None, weights: SelectorWeights) -> SelectorDecision:
    """Rank `fitting` by score (desc, then id) and reuse the best when it reaches `min_score`.

    `example` (`"<id>: <why not>"`) is a node that was considered and did not fit;
    it goes into the reason when nothing fits.
    """
    newest = _newest_per_route(fitting)
    wanted = query.signatures()
    scored = [candidate(e, query, weights, _exact(wanted, e), version_rank(e) == newest[e.route]) for e in fitting]
    return decision_of(query, heapq.nsmallest(query.limit, scored, key=lambda c: (-c.score, c.id)), example, weights)


def decision_of(query: SelectorQuery, ranked: list[Candidate], example: str | None, weights: SelectorWeights) -> SelectorDecision:
    """The decision on the best `query.limit` candidates, already ranked (score desc, then id)."""
    if not ranked:
        why = f" (e.g. {example})" if example else ""
        return SelectorDecision("create", [], f"no stable or experimental {query.wanted} node fits the request{why}")
    best = ranked[0]
    if best.score >= weights.min_score:
        return SelectorDecision("reuse", ranked, f"reuse {best.id}: {best.explanation}, score {best.score:g} >= {weights.min_score:g}")
    return SelectorDecision(
        "create", ranked, f"the best fitting {query.wanted} node, {best.id}, scores {best.score:g} < min_score {weights.min_score:g}"
    )


def version_key(version: str) -> tuple:
    """Orders versions: numeric parts as numbers, a pre-release (`1.0.0-rc1`) before its release."""
    core, _, pre = version.split("+")[0].partition("-")
    return _parts(core), not pre, _parts(pre)


def _parts(text: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in text.split(".") if p)


def version_rank(entry: NodeEntry) -> tuple:
    """How new `entry` is within its route: its version, then the number in its id."""
    return version_key(entry.version), version_number(entry.id) or 0


def _newest_per_route(entries: list[NodeEntry]) -> dict[str, tuple]:
    newest: dict[str, tuple] = {}
    for entry in entries:
        key = version_rank(entry)
        if entry.route not in newest or key > newest[entry.route]:
            newest[entry.route] = key
    return newest


def _exact(wanted: tuple, entry: NodeEntry) -> bool:
    return all(sig is None or sig == signature(have) for sig, have in zip(wanted, (entry.input_schema, entry.output_schema)))


def score(query: SelectorQuery, w: SelectorWeights, stable: bool, exact: bool, preferred: tuple[bool, bool], newest: bool) -> float:
    """The score of a fitting node with these traits; `preferred`: (its id is the query's, its version is)."""
    return _scored(_traits(query, w, stable, exact, preferred, newest))


def candidate(entry: NodeEntry, query: SelectorQuery, w: SelectorWeights, exact: bool, newest: bool) -> Candidate:
    """Score `entry`, a fitting node; `exact`: its io signatures are the query's (where it sets a schema)."""
    stable = entry.state == State.STABLE.value
    preferred = entry.id == query.prefer_id, entry.version == query.prefer_version
    traits = _traits(query, w, stable, exact, preferred, newest)
    words = [f"{entry.state} {entry.kind}/{entry.node_type}"] + [label for present, _, label in traits if present and label]
    return Candidate(entry.id, entry.version, entry.state, _scored(traits), ", ".join(words))


def _traits(query: SelectorQuery, w: SelectorWeights, stable: bool, exact: bool, preferred: tuple[bool, bool],
            newest: bool) -> list[tuple[bool, float, str | None]]:
    return [
        (query.node_type is not None, w.type_match, None),
        (True, w.io_fit + (w.io_exact if exact else 0.0), "io fits exactly" if exact else "io fits"),
        (True, w.stable if stable else w.experimental, None),
        (preferred[0], w.prefer_id, "preferred id"),
        (preferred[1], w.prefer_version, "preferred version"),
        (newest, w.newest, "newest of its route"),
    ]


def _scored(traits: list[tuple[bool, float, str | None]]) -> float:
    return round(sum(weight for present, weight, _ in traits if present), 6)
