"""Which version serves a request: the stable one, a split candidate (sticky by key), shadow copies.

Pure: the route table comes in, a plan goes out. A split candidate takes its
weight of the key space (canary_weight in canary, experimental_weight in
experimental); candidates in shadow mode get a copy of every request instead.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from ..domain.errors import Conflict
from ..domain.lifecycle import State
from ..domain.templates import NodeTemplate
from ..domain.node import Node

CANDIDATE_STATES = (State.EXPERIMENTAL.value, State.CANARY.value)  # best first


@dataclass(frozen=True)
class Version:
    """One serving version of a route: its record (state, version) and its verified template."""

    record: Node
    template: NodeTemplate

    @property
    def weight(self) -> float:
        rollout = self.template.rollout
        return rollout.experimental_weight if self.record.state == State.EXPERIMENTAL.value else rollout.canary_weight

    @property
    def shadow(self) -> bool:
        return self.template.rollout.mode == "shadow"


@dataclass(frozen=True)
class RouteTable:
    route: str
    stable: Version | None
    candidates: tuple[Version, ...]  # canary/experimental, best first
    idle: tuple[str, ...] = ()  # ids on the route that serve nothing (draft, rolled back, …), for error messages
    broken: tuple[tuple[str, str], ...] = ()  # (id, reason): live versions whose artifact failed its integrity check


@dataclass(frozen=True)
class Plan:
    primary: Version
    shadows: tuple[Version, ...]
    reason: str


def bucket(route: str, key: str | None) -> float:
    """A point in [0, 1): the same key always lands on the same point of a route (sticky split)."""
    if key is None:
        return random.random()
    digest = hashlib.blake2b(f"{route}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def sort_candidates(versions: list[Version]) -> tuple[Version, ...]:
    """Experimental before canary, then the newest first."""
    return tuple(sorted(versions, key=lambda v: (CANDIDATE_STATES.index(v.record.state),
                                                 -v.record.created_at.timestamp())))


def plan(table: RouteTable, key: str | None, *, safe_mode: bool) -> Plan:
    """Pick the primary version and the shadow copies for one request."""
    candidates = () if safe_mode else table.candidates
    if table.stable is None:
        return _without_stable(table, safe_mode)
    shadows = tuple(c for c in candidates if c.shadow)
    point, edge = bucket(table.route, key), 0.0
    for candidate in (c for c in candidates if not c.shadow):
        edge = min(1.0, edge + candidate.weight)
        if point < edge:
            return Plan(candidate, shadows, f"split: {candidate.weight:.0%} to {candidate.record.state} "
                                            f"{candidate.record.id}")
    return Plan(table.stable, shadows, "stable")


def _without_stable(table: RouteTable, safe_mode: bool) -> Plan:
    best = table.candidates[0] if table.candidates else None
    if best is not None and best.template.rollout.serve_without_stable and not safe_mode:
        return Plan(best, (), f"no stable version; {best.record.id} serves (rollout.serve_without_stable)")
    if best is None:
        reason = f"route {table.route} has no serving version"
        if table.idle:
            reason += f" (its nodes are not live: {', '.join(table.idle)})"
    elif safe_mode:
        reason = f"route {table.route} has no stable version and safe-mode stops traffic to candidates"
    else:
        reason = (f"route {table.route} has no stable version; its candidate {best.record.id} serves only when its "
                  f"rollout sets serve_without_stable")
    raise Conflict(reason, code="no_stable_version", route=table.route,
                   candidates=[c.record.id for c in table.candidates])
