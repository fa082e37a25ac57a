"""The runtime the invocation path uses: backends, caches, this replica's counters, the watchdog, shadow
copies and the metrics — built once by the composition root."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from ..backends import Backends, ExecContext, ResolvedNode
from ..domain.errors import FactoryError
from ..nervous.metrics import FactoryMetrics
from ..runtime.backend_load import BackendLoad
from ..runtime.caches import RouteCaches
from ..runtime.cache import TTLCache
from ..runtime.router import RouteTable
from ..runtime.shadows import Shadows
from ..runtime.stats import StatsRecorder
from ..runtime.watchdog import HardTimeouts, Watchdog
from .ports import UnitOfWork


class Runtime:
    def __init__(self, *, backends: Backends, caches: RouteCaches, metrics: FactoryMetrics, stats: StatsRecorder,
                 watchdog_ms: tuple[int, int], output_dir: Path,
                 write: Callable[[], AbstractContextManager[UnitOfWork]]):
        self.backends = backends
        self.caches = caches
        self.metrics = metrics
        self.stats = stats
        self.output_dir = output_dir
        self.hard_timeouts = HardTimeouts()
        self.watchdog = Watchdog(*watchdog_ms, self._on_timeout)
        self.load = BackendLoad()  # the watchdog's busy and queued calls, per backend
        self.shadows = Shadows()
        self._write = write
        metrics.watch_sandbox(lambda: self.watchdog.busy, lambda: self.watchdog.queued)

    @property
    def routes(self) -> TTLCache[str, RouteTable]:
        return self.caches.routes

    @property
    def resolved(self) -> TTLCache[str, ResolvedNode | None]:
        return self.caches.resolved

    def runtime_context(self, *, side_effects: bool, deadline: float) -> ExecContext:
        """The context of a routed invocation: linked nodes come from the cache, not a transaction."""
        return ExecContext(side_effects=side_effects, resolve=self.resolved.get, execute=self.backends.execute,
                           output_dir=self.output_dir, deadline=deadline, stable=self.stable)

    def stable(self, route: str) -> ResolvedNode | None:
        """The stable version of `route` from the route cache (dropped when the route's versions change)."""
        try:
            version = self.routes.get(route).stable
        except FactoryError:
            return None
        return None if version is None else ResolvedNode(version.template, version.record.state)

    def _on_timeout(self, kind: str, node_id: str) -> None:
        self.metrics.watchdog_timeouts.labels(kind).inc()
        if kind == "hard":
            self.hard_timeouts.add(node_id)

    def flush_stats(self) -> int:
        """Write this replica's changed counters to the database (one transaction), and what the backends
        buffer (a memory store's usage)."""
        self.backends.flush()
        if not self.stats.dirty:
            return 0

        def write(rows: list[dict[str, Any]]) -> None:
            with self._write() as uow:
                uow.stats.put(rows)

        return self.stats.flush(write)
