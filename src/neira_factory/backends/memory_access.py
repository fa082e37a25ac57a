"""How memory nodes reach their stores: the shared one in the factory's database, or a throwaway one.

* **Shared**: reads in a read transaction, writes in a write transaction whose events (`memory.written`,
  `memory.forgotten`, `memory.changed`) are logged with it; `forget` and imports append their audit entry in
  that same transaction. Every replica drops what those events name from its hot-record cache (`invalidate`,
  called for this replica's commits and for the ones the event tail brings from the others).
* **Throwaway**: an in-memory SQLite database with the same schema (store/memory_schema.py). A dry-run's
  examples share one (in `ExecContext.scratch`), so a put then a search works, and nothing reaches the store.
* **Usage**: the records a get or search returns are counted here (times returned, last time) and written by
  `flush`, with the statistics, so a read does not write.
* **Deadlines**: a read or a write on the shared store stops at the call's deadline — a writer waits for its
  store's turn (one writer of a store at a time in this replica) no longer than that, and the statements are
  interrupted there (`MemoryRepository.until`). Running late is `late()`: kind `limit`, 504, not the
  node's hard timeout, since a busy store or a costly query is the caller's or the load's, not the node's
  fault (three hard timeouts would quarantine the node and stop its route).
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from ..domain import json_values
from ..domain import memory as cells
from ..domain.events import Event
from ..library.text_search import terms
from ..nervous.metrics import FactoryMetrics
from ..store import UnitOfWork, memory_schema
from ..store.memory import MemoryRepository, decoded
from .base import ExecutionError

HOT_RECORDS = 10_000  # per replica
HOT_MAX_CHARS = 4096  # a record larger than this as JSON is not cached (so the cache holds at most ~40 MB)
MAX_EVENT_IDS = 100  # a write that evicts more announces its store as changed instead of each id
EVICT_PER_WRITE = 1000  # a single put evicts at most this many (a capacity lowered by much: over several puts)
Transaction = Callable[[], AbstractContextManager[UnitOfWork]]
RECORD_FIELDS = ("type", "description", "keywords", "links", "credibility", "metadata")
JSON_FIELDS = ("keywords", "links", "metadata")


@dataclass
class Tx:
    """One transaction on a store: its records, and (on the shared store) the audit log and the event log."""

    memory: MemoryRepository
    uow: UnitOfWork | None  # None: a throwaway store, which audits and announces nothing

    def audit(self, actor: str, action: str, resource: str, after: dict[str, Any]) -> None:
        if self.uow is not None:
            self.uow.audit.append(actor, action, resource, after=after)

    def announce(self, kind: str, store: str, **data: Any) -> None:
        if self.uow is not None:
            self.uow.announce(Event(f"memory.{kind}", store, data))


class Throwaway:
    """An in-memory store with the shared one's schema; it goes when the dry-run does."""

    def __init__(self) -> None:
        self.engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        self.lock = threading.Lock()
        with self.engine.begin() as conn:
            for statement in memory_schema.ddl(postgres=False):
                conn.exec_driver_sql(statement)

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        with self.lock, self.engine.begin() as conn:
            yield Tx(MemoryRepository(conn, postgres=False), None)


def late(busy: bool = False) -> ExecutionError:
    """A memory op that ran out of its call's time: 504, kind `limit` (not a hard timeout of the node)."""
    why = ("was busy with another write of it until the call's deadline; try again" if busy else
           "ran its statements past the call's deadline (a busy store or a costly query); try again, or narrow "
           "the query")
    return ExecutionError(f"the memory store {why}", kind="limit", status=504, busy=busy)


def record_out(row: dict[str, Any], pending: int = 0, now: float | None = None) -> dict[str, Any]:
    """A stored row as a memory node answers it: the cell, its version, priority and usage."""
    now = time.time() if now is None else now
    demand = row["demand"] + pending
    touched = now if pending else row["touched_at"]
    used_at = now if pending else row["used_at"]
    return {"id": row["rid"], **{k: decoded(row[k]) if k in JSON_FIELDS else row[k] for k in RECORD_FIELDS},
            "version": row["version"],
            "priority": round(cells.priority(row["credibility"], (now - touched) / cells.DAY_S, demand), 6),
            "created_at": _iso(row["created_at"]), "updated_at": _iso(row["updated_at"]),
            "usage": {"demand": demand, "used_at": _iso(used_at) if used_at else None}}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def indexed(record: cells.RecordIn, language: str) -> str:
    """The text a record is found by: its description and keywords, normalised."""
    return " ".join(terms(" ".join([record.description, *record.keywords]), language))


def row_in(record: cells.RecordIn, language: str) -> dict[str, Any]:
    return {"rid": record.id or f"m-{uuid.uuid4().hex}", **record.model_dump(include=set(RECORD_FIELDS)),
            "body": indexed(record, language)}


class MemoryAccess:
    def __init__(self, read: Transaction, write: Transaction, metrics: FactoryMetrics):
        self._read = read
        self._write = write
        self.metrics = metrics
        self._hot: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._uses: dict[str, dict[str, tuple[int, float]]] = {}
        self._turns: dict[str, threading.Lock] = {}  # a store's writers in this replica, one at a time
        self._lock = threading.Lock()
        self._generation = 0  # goes up with every invalidation: a row read before one is not kept

    # transactions -------------------------------------------------------------------------------------------
    @contextmanager
    def reading(self, scratch: Throwaway | None, deadline: float | None) -> Iterator[Tx]:
        """A read that stops at `deadline` (`late`)."""
        with _stopping(deadline):
            if scratch is not None:
                with scratch.tx() as tx, tx.memory.until(deadline):
                    yield tx
                return
            with self._read() as uow, uow.memory.until(deadline):
                yield Tx(uow.memory, uow)

    @contextmanager
    def writing(self, scratch: Throwaway | None, store: str, deadline: float | None = None) -> Iterator[Tx]:
        """A write: on the shared store, after this replica's other writes of `store`, all by `deadline` (`late`)."""
        if scratch is not None:
            with scratch.tx() as tx:
                yield tx
            return
        with self._lock:
            turn = self._turns.setdefault(store, threading.Lock())
        if not turn.acquire(timeout=-1 if deadline is None else max(0.0, deadline - time.monotonic())):
            raise late(busy=True)
        try:
            with _stopping(deadline), self._write() as uow, uow.memory.until(deadline):
                yield Tx(uow.memory, uow)
        finally:
            turn.release()

    # the hot-record cache -----------------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        """Take it before reading a row from the store, and hand it to `keep`."""
        return self._generation

    def cached(self, store: str, rid: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._hot.get((store, rid))
            if row is not None:
                self._hot.move_to_end((store, rid))
            return row

    def keep(self, store: str, row: dict[str, Any], since: int) -> None:
        """Cache a row read from the store, unless something was invalidated since `since` (`generation` before
        the read): the row may predate that change, and would stay stale until the record's next write."""
        if json_values.serialized_size([row[k] for k in RECORD_FIELDS], HOT_MAX_CHARS) > HOT_MAX_CHARS:
            return  # a large record is read from the store each time: the cache stays within HOT_RECORDS × this
        with self._lock:
            if since != self._generation:
                return
            self._hot[(store, row["rid"])] = row
            self._hot.move_to_end((store, row["rid"]))
            while len(self._hot) > HOT_RECORDS:
                self._hot.popitem(last=False)

    def invalidate(self, events: list[Event]) -> None:
        """Drop what committed memory events changed (this replica's, or another's through the event tail)."""
        for event in events:
            if not event.type.startswith("memory."):
                continue
            ids = event.data.get("ids")
            with self._lock:
                self._generation += 1
                if ids is None:  # a whole store changed (an import, a prune, many evictions)
                    for key in [k for k in self._hot if k[0] == event.resource]:
                        del self._hot[key]
                else:
                    for rid in ids:
                        self._hot.pop((event.resource, rid), None)

    # usage --------------------------------------------------------------------------------------------------
    def used(self, store: str, rids: list[str]) -> None:
        """Count that these records were returned (written to the store by `flush`)."""
        at = time.time()
        with self._lock:
            uses = self._uses.setdefault(store, {})
            for rid in rids:
                times, _ = uses.get(rid, (0, at))
                uses[rid] = (times + 1, at)

    def pending(self, store: str, rid: str) -> int:
        with self._lock:
            return self._uses.get(store, {}).get(rid, (0, 0.0))[0]

    def flush(self) -> None:
        """Write the counted uses into the records' demand and rank; drop those records from the cache (its rows'
        demand is now below the store's)."""
        with self._lock:
            uses, self._uses = self._uses, {}
        if not uses:
            return
        try:
            with self._write() as uow:
                for store, by_id in uses.items():
                    uow.memory.used(store, by_id)
        except Exception:
            with self._lock:  # put them back for the next flush
                for store, by_id in uses.items():
                    mine = self._uses.setdefault(store, {})
                    for rid, (times, at) in by_id.items():
                        old = mine.get(rid, (0, at))
                        mine[rid] = (old[0] + times, max(old[1], at))
            raise
        with self._lock:
            self._generation += 1
            for store, by_id in uses.items():
                for rid in by_id:
                    self._hot.pop((store, rid), None)

    def refresh_gauge(self) -> None:
        with self._read() as uow:
            for store, (records, _) in uow.memory.stores().items():
                self.metrics.memory_records.labels(store).set(records)

    # counting -----------------------------------------------------------------------------------------------
    def counted(self, store: str, op: str, outcome: str) -> None:
        self.metrics.memory_ops.labels(store, op, outcome).inc()

    def wrote(self, tx: Tx, store: str) -> None:
        """After a write on the shared store: the records gauge."""
        if tx.uow is not None:
            self.metrics.memory_records.labels(store).set(tx.memory.count(store))

    def evicted(self, tx: Tx, store: str, ids: list[str]) -> None:
        """After an eviction: counted and announced on the shared store (a throwaway one's are neither)."""
        if ids and tx.uow is not None:
            self.metrics.memory_evictions.labels(store).inc(len(ids))
            if len(ids) > MAX_EVENT_IDS:
                tx.announce("changed", store, reason="evicted", count=len(ids))
            else:
                tx.announce("evicted", store, ids=ids)

    # whole stores: export, import, retention -------------------------------------------------------------
    def page(self, store: str, after: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Up to `limit` records after the cursor `after` (0: from the start), and the next cursor."""
        with self._read() as uow:
            rows = uow.memory.page(store, after, limit)
        return [record_out(row) for row in rows], (rows[-1]["seq"] if rows else after)

    def count(self, store: str) -> tuple[int, int]:
        """(records, evictions) of a store."""
        with self._read() as uow:
            return uow.memory.stores().get(store, (0, 0))

    def import_batch(self, store: str, records: list[cells.RecordIn], *, actor: str, capacity: int,
                     language: str, source: str) -> tuple[int, int]:
        """Put `records` in one transaction with its audit entry (who, how many, from where); then evict
        beyond `capacity`. Returns (records written, records evicted)."""
        rows = [row_in(record, language) for record in records]  # normalised before the store's write lock
        with self.writing(None, store) as tx:
            tx.memory.put_many(store, rows, time.time())
            evicted = tx.memory.evict(store, capacity)
            tx.audit(actor, "memory.import", f"memory:{store}", {"records": len(records), "evicted": len(evicted),
                                                                 "source": source})
            tx.announce("changed", store, reason="import", count=len(records))
            self.wrote(tx, store)
        if evicted:
            self.metrics.memory_evictions.labels(store).inc(len(evicted))
        self.counted(store, "import", "ok")
        return len(records), len(evicted)

    def prune(self, store: str, before: float, actor: str, node: str) -> int:
        """Delete the records not updated or used since `before` (retention), audited; how many went."""
        with self.writing(None, store) as tx:
            gone = tx.memory.prune(store, before)
            if gone:
                tx.audit(actor, "memory.prune", f"memory:{store}", {"records": len(gone), "node": node,
                                                                    "before": _iso(before)})
                tx.announce("changed", store, reason="retention", count=len(gone))
                self.wrote(tx, store)
        return len(gone)


@contextmanager
def _stopping(deadline: float | None) -> Iterator[None]:
    """What the database raises when a statement is stopped at `deadline` becomes `late()`."""
    try:
        yield
    except OperationalError:
        if deadline is None or time.monotonic() < deadline:
            raise
        raise late() from None
