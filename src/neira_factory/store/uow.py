"""Unit of work: one transaction, the repositories that share it, and the events it announces.

Each transition and its audit entry are written through the same UnitOfWork, so
they commit or vanish together. Events are collected here (`announce`) and, when the
block ends without an error, written to the event log in the same transaction
(`log_events`, called by `Database.unit_of_work` just before the commit): an event is
logged exactly when its change commits. Every replica then publishes it from the log
(nervous/tail.py).
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from ..domain.events import Event
from ..immune.chain import AuditKey
from .memory import MemoryRepository
from .repositories import (
    AnnouncedPhaseRepository,
    ArtifactRepository,
    AuditRepository,
    CapabilityRepository,
    CommandPlanRepository,
    EventRepository,
    IdempotencyRepository,
    MeasurementRepository,
    NodeRepository,
    SettingsRepository,
    StatsRepository,
    TrainingRepository,
    WebhookCursorRepository,
)
from .status import StatusRepository


@dataclass
class UnitOfWork:
    conn: Connection
    postgres: bool = False
    replica: str = ""  # the process whose events these are (the event log's `replica` column)
    audit_key: AuditKey | None = None  # keys the audit entries it appends (immune/chain.py)
    events: list[Event] = field(default_factory=list)
    logged: list[tuple[int, Event, str]] = field(default_factory=list)  # (id, event, replica), once log_events ran

    def __post_init__(self) -> None:
        self.nodes = NodeRepository(self.conn)
        self.audit = AuditRepository(self.conn, self.postgres, self.audit_key)
        self.capabilities = CapabilityRepository(self.conn)
        self.settings = SettingsRepository(self.conn)
        self.artifacts = ArtifactRepository(self.conn, self.postgres)
        self.idempotency = IdempotencyRepository(self.conn)
        self.stats = StatsRepository(self.conn, self.postgres)
        self.measurements = MeasurementRepository(self.conn, self.postgres)
        self.announced_phases = AnnouncedPhaseRepository(self.conn, self.postgres)
        self.command_plans = CommandPlanRepository(self.conn)
        self.training = TrainingRepository(self.conn)
        self.event_log = EventRepository(self.conn, self.postgres)
        self.webhook_cursor = WebhookCursorRepository(self.conn, self.postgres)
        self.memory = MemoryRepository(self.conn, self.postgres)
        self.status = StatusRepository(self.conn)

    def announce(self, event: Event) -> None:
        self.events.append(event)

    def savepoint(self) -> AbstractContextManager[object]:
        """A nested transaction: what it wrote is rolled back when its block raises, the rest goes on."""
        return self.conn.begin_nested()

    def log_events(self) -> None:
        """Write the announced events to the event log (in this transaction, just before its commit)."""
        if self.events:
            self.logged = self.event_log.append(self.events, self.replica)
