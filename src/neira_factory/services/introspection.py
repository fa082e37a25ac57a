"""`/api/neira/introspection/status`: what the factory is and holds, in the shape of Neira's own endpoint
(capabilities as booleans, watchdogs, factory records, queues and backpressure) and the seed's statuses of
nodes, organs and fabricators. The database answers in one statement; the policy state, the watchdog's queues
and the fabricators' load are this replica's, from memory."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from .. import __version__
from ..backends import Backends
from ..domain.actors import Actor
from ..domain.capabilities import BACKEND_GATES, is_open
from ..domain.lifecycle import ACTIVE
from ..policy import PolicyEngine
from ..runtime.backend_load import BackendLoad
from ..runtime.measures import VersionStats
from ..runtime.stats import StatsRecorder
from ..runtime.watchdog import Watchdog
from ..store.status import Listed
from .organs import BUILD_GATE
from .ports import CachedPolicyState, Read

DEFAULT_LIMIT = 100
HEALTH_WINDOWS = 6  # health covers this many recent statistics windows (a minute by default): with 1,000 nodes
# and organs listed from a few replicas, that keeps the rows one answer decodes in the tens of thousands


@dataclass(frozen=True)
class Deps:
    """What the status uses: a read, the policy and its cached state, this replica's name, the database's kind,
    the watchdog, the backends and their load, and this replica's running counters."""

    read: Read
    policy: PolicyEngine
    policy_state: CachedPolicyState
    replica: str
    database: str
    watchdog: Watchdog
    backends: Backends
    load: BackendLoad
    stats: StatsRecorder


class Health(BaseModel):
    requests: int = Field(description="requests of its current state over the health window, all replicas")
    errors: dict[str, int] = Field(description="failed requests by error kind (a client's bad input included)")
    error_rate: float | None = Field(description="the node's own errors (not a client's bad input) / requests; "
                                                 "null without requests")
    p95_ms: float | None = Field(description="95th percentile latency; null without requests")


class VersionStatus(BaseModel):
    id: str
    state: str
    route: str
    version: str
    backend: str
    health: Health


class LastError(BaseModel):
    kind: str
    node: str
    message: str
    at: float = Field(description="epoch seconds")


class Fabricator(BaseModel):
    backend: str
    gate: str = Field(description="the capability gate its nodes need")
    gate_state: str
    enabled: bool = Field(description="the gate is open")
    busy: int = Field(description="its calls running on this replica now")
    queued: int = Field(description="its calls waiting for a worker on this replica now")
    last_error: LastError | None = Field(description="the last failure of one of its nodes on this replica")


class Watchdogs(BaseModel):
    soft_ms: int
    hard_ms: int


class Queues(BaseModel):
    busy: int = Field(description="the watchdog's workers running a node now (abandoned ones included)")
    queued: int = Field(description="calls waiting for a worker")
    workers: int = Field(description="the pool's size")


class IntrospectionStatus(BaseModel):
    service: str
    version: str
    replica: str
    database: str
    safe_mode: bool
    capabilities: dict[str, bool] = Field(description="each gate: open (experimental or stable) or not")
    capability_states: dict[str, str] = Field(description="each gate's state")
    watchdogs: Watchdogs
    factory: dict[str, Any] = Field(description="records_total and active (Neira's), totals by state")
    queues: Queues
    backpressure: int = Field(description="calls waiting for a worker (Neira's sum of queue lengths)")
    health_window_s: int = Field(description="the span the health figures cover")
    nodes: list[VersionStatus]
    organs: list[VersionStatus]
    fabricators: list[Fabricator]


def status(f: Deps, actor: Actor, *, limit: int = DEFAULT_LIMIT, state: str | None = None) -> IntrospectionStatus:
    policy = f.policy_state()
    f.policy.decide(actor, "introspection.read", policy).enforce()
    since = f.stats.window() - HEALTH_WINDOWS * f.stats.window_s
    with f.read() as uow:
        rows = uow.status.rows(since_window=since, limit=limit, state=state)
    nodes_by_state, organs, modules = (dict(rows.counts.get(g, {})) for g in ("node", "organ", "module"))
    listed = [item for items in rows.listed.values() for item in items]
    health = _health(f, listed, since)
    busy, queued = f.watchdog.busy, f.watchdog.queued
    return IntrospectionStatus(
        service="neira-factory", version=__version__, replica=f.replica, database=f.database,
        safe_mode=policy.safe_mode,
        capabilities={name: is_open(gate) for name, gate in policy.gates.items()},
        capability_states=dict(policy.gates),
        watchdogs=Watchdogs(soft_ms=f.watchdog.soft_ms, hard_ms=f.watchdog.hard_ms),
        factory={"records_total": sum(nodes_by_state.values()) + sum(organs.values()),
                 "active": sum(n for by_state in (nodes_by_state, organs) for s, n in by_state.items() if s in ACTIVE),
                 "nodes_total": sum(nodes_by_state.values()), "nodes_by_state": nodes_by_state,
                 "organs_total": sum(organs.values()), "organs_by_state": organs, "modules_by_state": modules},
        queues=Queues(busy=busy, queued=queued, workers=f.watchdog.workers), backpressure=queued,
        health_window_s=HEALTH_WINDOWS * f.stats.window_s,
        nodes=[_version(item, health[item.id]) for item in rows.listed["node"]],
        organs=[_version(item, health[item.id]) for item in rows.listed["organ"]],
        fabricators=[_fabricator(f, name, policy.gates) for name in f.backends.names],
    )


def _health(f: Deps, listed: list[Listed], since: int) -> dict[str, VersionStats]:
    """Each listed version's numbers over the window: the stored rows of every replica, with this replica's
    own replaced by its running counters (newer than its last flush)."""
    mine = f.stats.unflushed({item.id: item.state for item in listed}, since)
    mine_by_id: dict[str, list[VersionStats]] = defaultdict(list)  # one pass: a listing of 1,000 stays linear
    for (node_id, _, _), stats in mine.items():
        mine_by_id[node_id].append(stats)
    merged: dict[str, VersionStats] = {}
    for item in listed:
        rows = [VersionStats.from_row(row) for row in item.stats
                if not (row["replica"] == f.replica and (item.id, item.state, row["window_start"]) in mine)]
        merged[item.id] = VersionStats.merged(rows + mine_by_id[item.id])
    return merged


def _version(item: Listed, stats: VersionStats) -> VersionStatus:
    numbers = stats.summary()
    return VersionStatus(id=item.id, state=item.state, route=item.route, version=item.version, backend=item.backend,
                         health=Health(requests=numbers["requests"], errors=numbers["errors"],
                                       error_rate=numbers["error_rate"], p95_ms=numbers["p95_ms"]))


def _fabricator(f: Deps, backend: str, gates: dict[str, str]) -> Fabricator:
    gate = BACKEND_GATES.get(backend, BUILD_GATE)  # the organ backend: the organ builder's gate
    state = gates.get(gate, "locked")
    return Fabricator(backend=backend, gate=gate, gate_state=state, enabled=is_open(state), **f.load.of(backend))
