"""Unit of work: one transaction, the repositories that share it, and the events it will publish.

Each transition and its audit entry are written through the same UnitOfWork, so
they commit or vanish together. Events are collected here and published by the
service only after the commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from ..domain.events import Event
from .repositories import (
    ArtifactRepository,
    AuditRepository,
    CapabilityRepository,
    CommandPlanRepository,
    IdempotencyRepository,
    MeasurementRepository,
    NodeRepository,
    SettingsRepository,
    StatsRepository,
    TrainingRepository,
)


@dataclass
class UnitOfWork:
    conn: Connection
    postgres: bool = False
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.nodes = NodeRepository(self.conn)
        self.audit = AuditRepository(self.conn, self.postgres)
        self.capabilities = CapabilityRepository(self.conn)
        self.settings = SettingsRepository(self.conn)
        self.artifacts = ArtifactRepository(self.conn, self.postgres)
        self.idempotency = IdempotencyRepository(self.conn)
        self.stats = StatsRepository(self.conn, self.postgres)
        self.measurements = MeasurementRepository(self.conn, self.postgres)
        self.command_plans = CommandPlanRepository(self.conn)
        self.training = TrainingRepository(self.conn)

    def announce(self, event: Event) -> None:
        self.events.append(event)
