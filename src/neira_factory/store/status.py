"""The introspection status in one statement (one round trip, however many nodes): the node counts by group
and state, and the first nodes and organs of a listing with their statistics rows since a window.

It is a UNION ALL of selects with the same columns: per listed group, its first versions by id (cut at the
limit before the join) left-joined to their current state's statistics rows; then the counts, whose rows
carry only `grp`, `state` and `n`: read from `node_counts`, which triggers on `nodes` keep (revision 0011),
so they cost the same however many nodes there are."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Select, and_, cast, literal, null, select, union_all
from sqlalchemy.engine import Connection

from ..domain.capabilities import FACTORY_NODE_PREFIX
from . import tables as t

STATS_COLUMNS = ("replica", "window_start", "requests", "errors", "latency_hist")  # what health needs
LISTED = ("node", "organ")  # the groups that are listed; `module` (the factory's own nodes) is only counted


@dataclass
class Listed:
    id: str
    state: str
    route: str
    version: str
    backend: str
    stats: list[dict[str, Any]] = field(default_factory=list)  # node_stats rows (replica, window_start, …)


@dataclass
class StatusRows:
    counts: dict[str, dict[str, int]]  # group -> state -> how many
    listed: dict[str, list[Listed]]  # group -> its first versions by id


class StatusRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def rows(self, *, since_window: int, limit: int, state: str | None = None) -> StatusRows:
        n, c = t.nodes, t.node_counts
        module = n.c.id.startswith(FACTORY_NODE_PREFIX, autoescape=True)
        where = {"node": (n.c.kind != "organ", ~module), "organ": (n.c.kind == "organ",)}
        counts = select(literal("count"), c.c.grp, c.c.state, c.c.n, null(), null(), null(), null(),
                        *(null() for _ in STATS_COLUMNS)).where(c.c.n > 0)
        listed = [self._first(grp, (*where[grp], *([n.c.state == state] if state else ())), limit, since_window)
                  for grp in LISTED]
        result = StatusRows(counts=defaultdict(dict), listed={g: [] for g in LISTED})
        seen: dict[str, Listed] = {}
        for row in self.conn.execute(union_all(*listed, counts)).mappings():
            if row["row"] == "count":
                result.counts[row["grp"]][row["state"]] = int(row["n"])
                continue
            item = seen.get(row["id"])
            if item is None:
                item = seen[row["id"]] = Listed(row["id"], row["state"], row["route"], row["version"], row["backend"])
                result.listed[row["grp"]].append(item)
            if row["replica"] is not None:
                item.stats.append({c: row[c] for c in STATS_COLUMNS})
        for items in result.listed.values():
            items.sort(key=lambda item: item.id)
        return result

    @staticmethod
    def _first(grp: str, where: tuple[Any, ...], limit: int, since_window: int) -> Select:
        """The group's first `limit` versions by id (the primary key's order: the scan stops there), with their
        current state's statistics rows since the window."""
        n, s = t.nodes, t.node_stats
        first = (select(n.c.id, n.c.state, n.c.route, n.c.version, n.c.backend).where(*where)
                 .order_by(n.c.id).limit(limit).subquery())
        joined = first.outerjoin(s, and_(s.c.node_id == first.c.id, s.c.state == first.c.state,
                                         s.c.window_start >= since_window))
        return (select(literal("item").label("row"), literal(grp).label("grp"), first.c.state, cast(null(), BigInteger).label("n"),
                       first.c.id, first.c.route, first.c.version, first.c.backend, *(s.c[c] for c in STATS_COLUMNS))
                .select_from(joined))
