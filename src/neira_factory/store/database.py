"""The database: engine set-up (SQLite WAL or PostgreSQL), migrations, units of work, the event log as the
event tail reads it (nervous/tail.py's EventLog), (PostgreSQL) a connection that listens for notifications,
and the readiness check (/readyz)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from ..immune.seal import AuditSeal
from .repositories import EVENTS_CHANNEL, EventRepository
from .uow import UnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"
STARTUP_LOCK_KEY = 0x6E65697262  # serialises migration and seeding across replicas starting together
VERSION_TABLE = "alembic_version"


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=8, max_overflow=8)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - exercised by every SQLite test
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        # Writers take the write lock up front, so two writers never deadlock on an upgrade.
        mode = "IMMEDIATE" if conn.get_execution_options().get("neira_write", True) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@dataclass(frozen=True)
class Readiness:
    """Whether the database answers and its schema is current (`Database.readiness`)."""

    error: Exception | None  # what reading the schema's revision raised (then the rest is empty)
    ms: float = 0.0  # how long the database took to answer
    revision: str | None = None  # the schema's revision(s), comma-separated (None: no schema)
    head: str = ""  # this version's migration head(s), comma-separated
    current: bool = False  # at the head, or at a revision this version does not know (a newer one migrated it)


class Database:
    """One factory database. `unit_of_work()` is the only way services touch it; `replica` names this
    process in the event log (the events its units of work announce); `seal` keys the audit entries its units
    of work append and checkpoints the chain's head after each commit that appended some (immune/seal.py)."""

    def __init__(self, url: str, replica: str = "", seal: AuditSeal | None = None):
        self.url = url
        self.replica = replica
        self.seal = seal or AuditSeal()
        self._open = threading.local()  # .read: the connection of this thread's open read, if any
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)

    def alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    @contextmanager
    def startup_lock(self) -> Iterator[None]:
        """One process at a time migrates and seeds: replicas started together on an empty PostgreSQL wait
        for each other (a session advisory lock). SQLite's write lock serialises them already."""
        if self.is_sqlite:
            yield
            return
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": STARTUP_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": STARTUP_LOCK_KEY})
                conn.commit()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic `upgrade head`)."""
        with self.engine.connect() as conn:
            cfg = self.alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()

    @contextmanager
    def unit_of_work(self, write: bool = True) -> Iterator[UnitOfWork]:
        """A transaction: commits when the block ends, with the events it announced in the event log (then
        checkpoints the audit chain's head if it appended to it); rolls back on any exception (and logs nothing).

        A read opened while this thread's read is open (a service that reads inside another's read, e.g. a
        cache filled by an invocation during a dry-run) reads in that transaction, on its connection. A
        second connection per thread could exhaust the pool: with every connection held by a request that
        waits for its second one, none would ever come back."""
        outer = getattr(self._open, "read", None)
        if outer is not None and not write:
            yield UnitOfWork(outer, postgres=not self.is_sqlite, replica=self.replica, audit_key=self.seal.key)
            return
        with self.engine.connect() as conn:
            conn = conn.execution_options(neira_write=write)
            with conn.begin():
                uow = UnitOfWork(conn, postgres=not self.is_sqlite, replica=self.replica, audit_key=self.seal.key)
                self._open.read = None if write else conn
                try:
                    yield uow
                finally:
                    self._open.read = outer
                uow.log_events()
        if uow.audit.appended is not None:
            self.seal.committed(uow.audit.appended.seq, uow.audit.appended.hash)

    @contextmanager
    def listen(self, channel: str) -> Iterator[Callable[[float], str | None]]:
        """PostgreSQL only: a connection of its own (outside the pool) that LISTENs on `channel`. Yields
        `wait(timeout_s)`: the payload of the next notification, or None when none came within the timeout."""
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql(f"LISTEN {channel}")
                driver = conn.connection.driver_connection

                def wait(timeout_s: float) -> str | None:
                    return next((n.payload for n in driver.notifies(timeout=timeout_s, stop_after=1)), None)

                yield wait
        finally:
            engine.dispose()

    @contextmanager
    def read_events(self) -> Iterator[EventRepository]:
        """A read transaction on the event log."""
        with self.unit_of_work(write=False) as uow:
            yield uow.event_log

    def listen_events(self) -> AbstractContextManager[Callable[[float], str | None]]:
        """PostgreSQL only: `listen` to the notifications of the commits that log events (payload: their last id)."""
        return self.listen(EVENTS_CHANNEL)

    def readiness(self) -> Readiness:
        """Read the schema's revision (timed) and compare it with this version's migration heads. What reading the
        revision raises is returned; what reading the migration scripts raises propagates."""
        started = time.perf_counter()
        try:
            with self.unit_of_work(write=False) as uow:
                versioned = inspect(uow.conn).has_table(VERSION_TABLE)
                rows = uow.conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")) if versioned else ()
                current = frozenset(row[0] for row in rows)
        except Exception as exc:  # noqa: BLE001 - whatever the driver raises: the database cannot serve
            return Readiness(exc)
        ms = round((time.perf_counter() - started) * 1000, 1)
        heads, known = self._revisions
        return Readiness(None, ms, ",".join(sorted(current)) or None, ",".join(sorted(heads)),
                         current == heads or bool(current and not current & known))

    @cached_property
    def _revisions(self) -> tuple[frozenset[str], frozenset[str]]:
        """(heads, every revision known), read once: the migration scripts do not change while the process runs."""
        script = ScriptDirectory.from_config(self.alembic_config())
        return frozenset(script.get_heads()), frozenset(r.revision for r in script.walk_revisions())

    def dispose(self) -> None:
        self.engine.dispose()
