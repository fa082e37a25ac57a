"""The Factory: the adapters every use case receives (database, policy, selector, backends,
metrics, events and their tail, the runtime's counters, watchdog and caches) and the few helpers they
all share (authorize, load a template, publish and invalidate after a commit)."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from ..backends import Backends, ExecContext, ResolvedNode
from ..config import Settings
from ..domain.actors import Actor
from ..domain.capabilities import FACTORY_NODE_PREFIX
from ..domain.errors import NotFound
from ..domain.events import Event
from ..domain.lifecycle import LIVE, State
from ..domain.templates import NodeTemplate, OrganTemplate
from ..immune.integrity import IntegrityError, sha256_hex, verified
from ..nervous.events import EventBus, Logged
from ..nervous.metrics import FactoryMetrics
from ..nervous.tail import EventTail
from ..policy import Decision, PolicyEngine, PolicyState
from ..store import Database, NodeRecord, UnitOfWork
from ..runtime.cache import TTLCache
from ..runtime.router import RouteTable, Version, sort_candidates
from ..runtime.shadows import Shadows
from ..runtime.stats import StatsRecorder
from ..runtime.watchdog import HardTimeouts, Watchdog
from .selector_sync import SelectorSync

log = logging.getLogger(__name__)
SAFE_MODE_KEY = "safe_mode"
TEMPLATE_MEDIA_TYPE = "application/vnd.neira.node-template+json"
LIVE_STATES = frozenset(s.value for s in LIVE)


def template_bytes(template: NodeTemplate | OrganTemplate) -> bytes:
    return json.dumps(template.to_document(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class Factory:
    settings: Settings
    db: Database
    backends: Backends
    policy: PolicyEngine = field(default_factory=PolicyEngine)
    bus: EventBus = field(default_factory=EventBus)

    def __post_init__(self) -> None:
        s = self.settings
        ttl = s.cache_ttl_ms / 1000
        self.metrics = FactoryMetrics(self._count_active)
        self.selector = SelectorSync(self.db)
        self.stats = StatsRecorder(s.replica, s.stats_window_s)
        self.hard_timeouts = HardTimeouts()
        self.watchdog = Watchdog(s.watchdog_soft_ms, s.watchdog_hard_ms, self._on_timeout)
        self.shadows = Shadows()
        self.metrics.watch_sandbox(lambda: self.watchdog.busy, lambda: self.watchdog.queued)
        self.metrics.safe_mode.set_function(self._safe_mode_now)
        self.routes: TTLCache[str, RouteTable] = TTLCache(self._route_table, ttl)
        self.resolved: TTLCache[str, ResolvedNode | None] = TTLCache(self._resolve, ttl)
        self.policy_states: TTLCache[None, PolicyState] = TTLCache(self._read_policy_state, ttl)
        self.tail = EventTail(self.db, self.bus, s.replica, poll_s=s.events_poll_ms / 1000,
                              on_remote=self._invalidate)
        self.bus.history = self.tail.replay

    # -- policy ---------------------------------------------------------------------------
    def policy_state(self, uow: UnitOfWork) -> PolicyState:
        gates = {name: row["state"] for name, row in uow.capabilities.all().items()}
        return PolicyState(gates=gates, safe_mode=bool(uow.settings.get(SAFE_MODE_KEY, False)),
                           four_eyes=self.settings.four_eyes)

    def _read_policy_state(self, _key: None) -> PolicyState:
        with self.read() as uow:
            return self.policy_state(uow)

    def cached_policy_state(self) -> PolicyState:
        """The policy state for the hot path (invocations): this replica's changes at once, others' as their
        events arrive (within the TTL at worst)."""
        return self.policy_states.get(None)

    def authorize(self, uow: UnitOfWork, actor: Actor, action: str, *, gates: tuple[str, ...] = (),
                  owner: str | None = None) -> Decision:
        return self.policy.decide(actor, action, self.policy_state(uow), gates=gates, owner=owner).enforce()

    # -- templates --------------------------------------------------------------------------
    def node(self, uow: UnitOfWork, node_id: str) -> NodeRecord:
        record = uow.nodes.get(node_id)
        if record is None:
            raise NotFound(f"node {node_id} does not exist", id=node_id)
        return record

    def load_template(self, uow: UnitOfWork, record: NodeRecord) -> NodeTemplate | OrganTemplate:
        """The node's (or organ's) template, re-verified against its recorded sha256 at every load."""
        content = uow.artifacts.get(record.artifact_sha256) or b""
        model = OrganTemplate if record.is_organ else NodeTemplate
        return model.model_validate_json(verified(content, record.artifact_sha256, f"{record.kind} {record.id}"))

    @staticmethod
    def store_template(uow: UnitOfWork, template: NodeTemplate | OrganTemplate) -> str:
        content = template_bytes(template)
        digest = sha256_hex(content)
        uow.artifacts.put(digest, content, TEMPLATE_MEDIA_TYPE)
        return digest

    def runtime_context(self, *, side_effects: bool, deadline: float) -> ExecContext:
        """The context of a routed invocation: linked nodes come from the cache, not a transaction."""
        return ExecContext(side_effects=side_effects, resolve=self.resolved.get, execute=self.backends.execute,
                           output_dir=self.settings.output_dir, deadline=deadline)

    # -- runtime caches -----------------------------------------------------------------------
    def _route_table(self, route: str) -> RouteTable:
        """The live versions of a route, each template verified as it is loaded."""
        with self.read() as uow:
            records = uow.nodes.list(route=route, limit=1000)
            if not records:
                raise NotFound(f"route {route} has no nodes", route=route)
            stable, candidates, idle, broken = None, [], [], []
            for record in records:
                if record.state not in LIVE_STATES:
                    idle.append(f"{record.id} ({record.state})")
                    continue
                try:
                    version = Version(record, self.load_template(uow, record))
                    self.backends.verify(version.template)
                except IntegrityError as exc:
                    broken.append((record.id, exc.reason))
                    continue
                if record.state != State.STABLE.value:
                    candidates.append(version)
                elif stable is None:
                    stable = version
        return RouteTable(route, stable, sort_candidates(candidates), tuple(idle), tuple(broken))

    def _resolve(self, node_id: str) -> ResolvedNode | None:
        with self.read() as uow:
            return self.resolved_in(uow, node_id)

    def resolved_in(self, uow: UnitOfWork, node_id: str) -> ResolvedNode | None:
        """A node to link to or to run inside an organ (an organ is neither)."""
        record = uow.nodes.get(node_id)
        if record is None or record.is_organ:
            return None
        return ResolvedNode(self.load_template(uow, record), record.state)

    def _on_timeout(self, kind: str, node_id: str) -> None:
        self.metrics.watchdog_timeouts.labels(kind).inc()
        if kind == "hard":
            self.hard_timeouts.add(node_id)

    def _invalidate(self, events: list[Event]) -> None:
        """Drop what `events` changed from the caches: this replica's after its commit, the others' as the
        event tail brings them."""
        for event in events:
            if event.type.startswith(("node.", "organ.")):
                self.routes.invalidate(event.data.get("route"))
                self.resolved.invalidate(event.resource)
            elif event.type in ("capability.changed", "safe_mode.changed"):
                self.policy_states.invalidate()

    def flush_stats(self) -> int:
        """Write this replica's changed counters to the database (one transaction)."""
        if not self.stats.dirty:
            return 0

        def write(rows: list[dict[str, Any]]) -> None:
            with self.db.unit_of_work(write=True) as uow:
                uow.stats.put(rows)

        return self.stats.flush(write)

    # -- units of work ---------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A write transaction whose events are logged with it and published once it has committed."""
        with self.db.unit_of_work(write=True) as uow:
            yield uow
        self._invalidate(uow.events)
        if uow.logged:
            try:
                self.tail.committed([Logged(*row) for row in uow.logged])
            except SQLAlchemyError:  # committed all the same: the tail's thread publishes them when it can
                log.warning("events %s..%s are committed but not yet published: the event log cannot be read "
                            "right now", uow.logged[0][0], uow.logged[-1][0], exc_info=True)

    def read(self):
        return self.db.unit_of_work(write=False)

    def _count_active(self) -> float:
        """For the gauge: NaN while the database cannot answer, so /metrics still serves everything else."""
        try:
            with self.read() as uow:
                counts = uow.nodes.count_by_state(exclude_kind="organ", exclude_prefix=FACTORY_NODE_PREFIX)
        except SQLAlchemyError:
            return float("nan")
        return float(sum(counts.get(s, 0) for s in ("canary", "experimental", "stable")))

    def _safe_mode_now(self) -> float:
        """For the gauge: as this replica sees it (another replica's switch within the cache TTL)."""
        try:
            return 1.0 if self.cached_policy_state().safe_mode else 0.0
        except SQLAlchemyError:
            return float("nan")
