"""Benchmark of the SelectorNode: reuse-or-create decisions over 100,000 registered nodes.

The project side is `SelectorIndex.select`; the baseline is a linear scan over a
plain list of the same nodes, doing the same matching (`matching.why_not`) and
the same ranking (`ranking.decide`). Both answer the same queries in this one
process, and every decision is checked to be the same. Prints decision latency
p50/p99 for both, per query shape and overall, and the ratio (linear / indexed) last.

Run: `.venv/bin/python bench/selector.py [--nodes N] [--queries Q] [--seed S]`
"""
from __future__ import annotations

import argparse
import random
import statistics
import time

from neira_factory.selector import (
    REUSABLE_STATES,
    NodeEntry,
    SelectorDecision,
    SelectorIndex,
    SelectorQuery,
    SelectorWeights,
)
from neira_factory.selector.matching import why_not
from neira_factory.selector.ranking import decide

KINDS = [("analysis", 0.6), ("action", 0.3), ("memory", 0.1)]
TYPES_PER_KIND = 150
STATES = [("stable", 35), ("experimental", 20), ("draft", 15), ("canary", 10), ("deprecated", 10),
          ("rolled_back", 4), ("disabled", 4), ("quarantined", 2)]
FIELDS = [f"f{i}" for i in range(40)]
FIELD_TYPES = ["string", "integer", "number", "boolean", {"type": "array", "items": {"type": "string"}}]


def random_schema(rng: random.Random) -> dict:
    """An object schema with 1-4 typed fields, 1-2 of them required; one in ten is an open object."""
    if rng.random() < 0.1:
        return {"type": "object"}
    names = rng.sample(FIELDS, rng.randint(1, 4))
    props = {n: (t if isinstance(t := rng.choice(FIELD_TYPES), dict) else {"type": t}) for n in names}
    return {"type": "object", "properties": props, "required": sorted(rng.sample(names, min(len(names), rng.randint(1, 2))))}


def make_nodes(n: int, rng: random.Random) -> list[NodeEntry]:
    nodes = []
    states = [s for s, _ in STATES]
    weights = [w for _, w in STATES]
    for i in range(n):
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        node_type = f"t{rng.randrange(TYPES_PER_KIND):03d}"
        route = f"{kind}.{node_type}.r{i // 3}"  # about three versions per route
        v = i % 3 + 1
        nodes.append(NodeEntry(f"{route}.v{v}", route, f"0.{v}.{rng.randrange(3)}", kind, node_type,
                               rng.choices(states, weights)[0], random_schema(rng), random_schema(rng)))
    return nodes


def make_queries(nodes: list[NodeEntry], q: int, rng: random.Random) -> list[tuple[str, SelectorQuery]]:
    """Half copy a registered node's io (so something fits), half random io; one in five names only the kind."""
    queries = []
    for _ in range(q):
        like = rng.choice(nodes)
        copy = rng.random() < 0.5
        kind_only = rng.random() < 0.2
        queries.append(("kind only" if kind_only else "kind+type", SelectorQuery(
            kind=like.kind,
            node_type=None if kind_only else like.node_type,
            input_schema=like.input_schema if copy else random_schema(rng),
            output_schema=like.output_schema if copy else random_schema(rng),
            blocked_types=frozenset({f"t{rng.randrange(TYPES_PER_KIND):03d}"}),
            prefer_id=like.id if rng.random() < 0.3 else None,
        )))
    return queries


def linear_select(nodes: list[NodeEntry], query: SelectorQuery, weights: SelectorWeights) -> SelectorDecision:
    """The baseline: every node of a plain list through the same matching and ranking.

    The cheap comparisons (state, kind, type) come first, so the full check and its
    reasons are built only for the nodes the index would also consider.
    """
    fitting, example = [], None
    for node in nodes:
        if node.state in REUSABLE_STATES and node.kind == query.kind and query.node_type in (None, node.node_type):
            why = why_not(node, query)
            if why is None:
                fitting.append(node)
            elif example is None:
                example = why
    return decide(query, fitting, example, weights)


def timed(fn, query) -> tuple[float, SelectorDecision]:
    start = time.perf_counter()
    decision = fn(query)
    return (time.perf_counter() - start) * 1e3, decision


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    nodes = make_nodes(args.nodes, rng)
    queries = make_queries(nodes, args.queries, rng)
    weights = SelectorWeights()

    start = time.perf_counter()
    index = SelectorIndex(weights)
    for node in nodes:
        index.upsert(node)
    print(f"nodes {len(index):,} ({sum(n.state in REUSABLE_STATES for n in nodes):,} reusable), "
          f"index built in {time.perf_counter() - start:.2f}s; {len(queries)} queries")

    rows: dict[str, dict[str, list[float]]] = {}
    decisions = {"reuse": 0, "create": 0}
    for shape, query in queries:
        fast_ms, fast = timed(index.select, query)
        slow_ms, slow = timed(lambda q: linear_select(nodes, q, weights), query)
        assert (fast.decision, fast.candidates) == (slow.decision, slow.candidates), query
        decisions[fast.decision] += 1
        for key in (shape, "all"):
            row = rows.setdefault(key, {"indexed": [], "linear": []})
            row["indexed"].append(fast_ms)
            row["linear"].append(slow_ms)

    print(f"decisions: {decisions['reuse']} reuse, {decisions['create']} create; index == linear scan on every query")
    for key in sorted(rows, key=lambda k: k == "all"):
        row = rows[key]
        print(f"{key:>10} ({len(row['indexed'])} q): indexed p50 {pct(row['indexed'], 50):.3f} ms p99 {pct(row['indexed'], 99):.3f} ms"
              f" | linear p50 {pct(row['linear'], 50):.3f} ms p99 {pct(row['linear'], 99):.3f} ms")
    row = rows["all"]
    print(f"ratio linear/indexed: p50 {pct(row['linear'], 50) / pct(row['indexed'], 50):.1f}x, "
          f"p99 {pct(row['linear'], 99) / pct(row['indexed'], 99):.1f}x")


if __name__ == "__main__":
    main()
