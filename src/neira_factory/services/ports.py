"""The shapes of what the composition root hands the use cases: a unit of work to read or write in (the store's,
or an in-memory one in tests), the policy engine's answers. Each use-case module's `Deps` lists the ones it
uses."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from ..domain.actors import Actor
from ..domain.events import Event
from ..policy import Decision, PolicyState
from ..store import repositories as r
from ..store.status import StatusRepository


class UnitOfWork(Protocol):
    """One transaction: its repositories, the events it announces (logged and published with its commit) and
    savepoints inside it. `store.UnitOfWork` is the real one."""

    nodes: r.NodeRepository
    audit: r.AuditRepository
    capabilities: r.CapabilityRepository
    settings: r.SettingsRepository
    artifacts: r.ArtifactRepository
    idempotency: r.IdempotencyRepository
    stats: r.StatsRepository
    measurements: r.MeasurementRepository
    announced_phases: r.AnnouncedPhaseRepository
    command_plans: r.CommandPlanRepository
    training: r.TrainingRepository
    status: StatusRepository
    events: list[Event]

    def announce(self, event: Event) -> None: ...

    def savepoint(self) -> AbstractContextManager[object]: ...


Read = Callable[[], AbstractContextManager[UnitOfWork]]  # a read-only unit of work
Write = Callable[[], AbstractContextManager[UnitOfWork]]  # a write whose events are published after its commit
PolicyStateOf = Callable[[UnitOfWork], PolicyState]
CachedPolicyState = Callable[[], PolicyState]
FlushStats = Callable[[], int]


class Authorize(Protocol):
    def __call__(self, uow: UnitOfWork, actor: Actor, action: str, *, gates: tuple[str, ...] = (),
                 owner: str | None = None) -> Decision: ...
