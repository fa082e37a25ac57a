"""Memory stores in the factory's database: a memory node's records, their full-text search, usage, eviction
and pruning (schema: store/memory_schema.py). Rows are plain dicts of memory_records' columns.

Search is one statement: FTS5's `bm25` on SQLite (lower is better; it is returned negated, so higher is
better on both), `ts_rank` over the generated `tsvector` on PostgreSQL; the query is an OR of the
normalised terms, so a record that matches more of them ranks higher.
"""
from __future__ import annotations

from typing import Any

import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from ..domain import memory as cells
from . import tables as t

PROGRESS_STEPS = 10_000  # SQLite virtual-machine steps between two looks at the clock (tens of µs)
CHUNK = 10_000  # values a statement binds at most (PostgreSQL's driver takes 65 535, SQLite's default 32 766)
R = t.memory_records
S = t.memory_stores
COLUMNS = ", ".join(f"r.{c.name}" for c in R.columns)
SQLITE_SEARCH = (f"SELECT {COLUMNS}, -bm25(memory_fts) AS relevance FROM memory_fts "
                 "JOIN memory_records r ON r.seq = memory_fts.rowid "
                 "WHERE memory_fts MATCH :match AND r.store = :store{type} ORDER BY bm25(memory_fts) LIMIT :n")
POSTGRES_SEARCH = (f"SELECT {COLUMNS}, ts_rank(r.tsv, q) AS relevance "
                   "FROM memory_records r, to_tsquery('simple', :match) q "
                   "WHERE r.tsv @@ q AND r.store = :store{type} ORDER BY relevance DESC LIMIT :n")


def match_expression(terms: list[str], postgres: bool) -> str:
    """The full-text query for `terms` (words of \\w characters, as library/text_search makes them): any of them."""
    unique = list(dict.fromkeys(terms))
    if postgres:
        return " | ".join(f"'{term}'" for term in unique)
    return " OR ".join(f'"{term}"' for term in unique)


def search_sql(postgres: bool, by_type: bool) -> str:
    """The search statement, as `search` runs it (bench/memory.py runs the same one directly)."""
    return (POSTGRES_SEARCH if postgres else SQLITE_SEARCH).format(type=" AND r.type = :type" if by_type else "")


class MemoryRepository:
    def __init__(self, conn: Connection, postgres: bool):
        self.conn = conn
        self.postgres = postgres

    @contextmanager
    def until(self, deadline: float | None) -> Iterator[None]:
        """Statements in this block stop at `deadline` (time.monotonic()): SQLite's progress handler interrupts
        them, PostgreSQL's statement_timeout cancels them; either raises OperationalError."""
        if deadline is None:
            yield
            return
        if self.postgres:
            ms = max(1, math.ceil((deadline - time.monotonic()) * 1000))  # not before the deadline
            self.conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
            yield  # not reset after a failure: the transaction is aborted (a statement now would hide the error)
            self.conn.exec_driver_sql("SET LOCAL statement_timeout TO DEFAULT")
            return
        driver = self.conn.connection.driver_connection
        driver.set_progress_handler(lambda: time.monotonic() >= deadline, PROGRESS_STEPS)
        try:
            yield
        finally:
            driver.set_progress_handler(None, PROGRESS_STEPS)

    def get(self, store: str, rid: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(R).where(R.c.store == store, R.c.rid == rid)).first()
        return dict(row._mapping) if row else None

    def put(self, store: str, record: dict[str, Any], now: float) -> dict[str, Any]:
        """Insert the record, or make it the next version of the one with its id (its demand goes up by one, as
        a write counts as a use). Returns the row as stored."""
        self._lock(store)
        old = self.get(store, record["rid"])
        row = _next(store, record, old, now)
        if old:
            self.conn.execute(update(R).where(R.c.seq == old["seq"]).values(**row))
            return {**old, **row}
        seq = self.conn.execute(R.insert().values(**row)).inserted_primary_key[0]
        self._count(store, 1, 0)
        return {**row, "seq": seq}

    def put_many(self, store: str, records: list[dict[str, Any]], now: float) -> None:
        """`put` each record, in bulk (an import): one read of the ids that exist, one insert of the new records
        and one update of the others; an id that comes again in the batch is put again after them."""
        self._lock(store)
        first: dict[str, dict[str, Any]] = {}
        again = []
        for record in records:
            if record["rid"] in first:
                again.append(record)
            else:
                first[record["rid"]] = record
        old = {r["rid"]: dict(r) for r in self.conn.execute(
            select(R).where(R.c.store == store, R.c.rid.in_(list(first)))).mappings()} if first else {}
        new = [_next(store, r, None, now) for rid, r in first.items() if rid not in old]
        changed = [{**_next(store, r, old[rid], now), "_seq": old[rid]["seq"]} for rid, r in first.items()
                   if rid in old]
        if new:
            self.conn.execute(R.insert(), new)
            self._count(store, len(new), 0)
        if changed:
            columns = [c for c in changed[0] if c != "_seq"]
            self.conn.execute(update(R).where(R.c.seq == bindparam("_seq"))
                              .values({c: bindparam(c) for c in columns}), changed)
        for record in again:
            self.put(store, record, now)

    def forget(self, store: str, rid: str) -> bool:
        self._lock(store)
        gone = self.conn.execute(delete(R).where(R.c.store == store, R.c.rid == rid)).rowcount
        if gone:
            self._count(store, -gone, 0)
        return bool(gone)

    def evict(self, store: str, capacity: int, most: int | None = None) -> list[str]:
        """Delete the lowest-priority records beyond `capacity` (at most `most` of them); their ids."""
        over = self.count(store) - capacity
        if over <= 0:
            return []
        victims = self.conn.execute(select(R.c.seq, R.c.rid).where(R.c.store == store)
                                    .order_by(R.c.rank_key, R.c.seq).limit(min(over, most or over))).all()
        self._delete([v.seq for v in victims])
        self._count(store, -len(victims), len(victims))
        return [v.rid for v in victims]

    def prune(self, store: str, before: float) -> list[str]:
        """Delete the records not updated or used since `before` (epoch seconds); their ids."""
        self._lock(store)
        gone = self.conn.execute(select(R.c.seq, R.c.rid).where(R.c.store == store, R.c.touched_at < before)).all()
        if gone:
            self._delete([g.seq for g in gone])
            self._count(store, -len(gone), 0)
        return [g.rid for g in gone]

    def search(self, store: str, terms: list[str], n: int, type_: str | None = None) -> list[dict[str, Any]]:
        """The `n` records most relevant to `terms`, best first, each with its `relevance` (higher is better)."""
        if not terms:
            return []
        params: dict[str, Any] = {"match": match_expression(terms, self.postgres), "store": store, "n": n}
        if type_ is not None:
            params["type"] = type_
        result = self.conn.execute(text(search_sql(self.postgres, type_ is not None)), params)
        keys = list(result.keys())
        return [dict(zip(keys, row)) for row in result.all()]  # JSON columns as the driver gives them: `decoded`

    def used(self, store: str, uses: dict[str, tuple[int, float]]) -> None:
        """Add each record's uses (`id -> (times returned, last time)`) to its demand, and refresh its rank."""
        ids = list(uses)
        rows = [row for start in range(0, len(ids), CHUNK) for row in self.conn.execute(
            select(R.c.seq, R.c.rid, R.c.credibility, R.c.demand, R.c.touched_at)
            .where(R.c.store == store, R.c.rid.in_(ids[start:start + CHUNK])))]
        for row in rows:
            times, at = uses[row.rid]
            demand, touched = row.demand + times, max(row.touched_at, at)
            self.conn.execute(update(R).where(R.c.seq == row.seq).values(
                demand=demand, used_at=at, touched_at=touched,
                rank_key=cells.rank_key(row.credibility, demand, touched)))

    def set_metrics(self, store: str, rid: str, credibility: float | None, demand: int | None) -> dict[str, Any] | None:
        self._lock(store)
        row = self.get(store, rid)
        if row is None:
            return None
        row["credibility"] = row["credibility"] if credibility is None else credibility
        row["demand"] = row["demand"] if demand is None else demand
        row["rank_key"] = cells.rank_key(row["credibility"], row["demand"], row["touched_at"])
        self.conn.execute(update(R).where(R.c.seq == row["seq"]).values(
            credibility=row["credibility"], demand=row["demand"], rank_key=row["rank_key"]))
        return row

    def count(self, store: str) -> int:
        return self.conn.execute(select(S.c.records).where(S.c.name == store)).scalar() or 0

    def stores(self) -> dict[str, tuple[int, int]]:
        """Every store: (records, evictions)."""
        return {r.name: (r.records, r.evictions) for r in self.conn.execute(select(S))}

    def page(self, store: str, after_seq: int, limit: int) -> list[dict[str, Any]]:
        """Records in the order they were first written, after `after_seq` (an export's cursor)."""
        q = select(R).where(R.c.store == store, R.c.seq > after_seq).order_by(R.c.seq).limit(limit)
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def _delete(self, seqs: list[int]) -> None:
        for start in range(0, len(seqs), CHUNK):
            self.conn.execute(delete(R).where(R.c.seq.in_(seqs[start:start + CHUNK])))

    def _lock(self, store: str) -> None:
        """PostgreSQL: hold the store's counter row until the commit, before any record's row, so the writers of
        a store go one at a time: two puts of one id make two versions (not one, nor a duplicate-key error), and
        no two writers wait for each other's rows (a put evicting what a forget deletes). SQLite has one
        writer at a time anyway."""
        if self.postgres:
            self._count(store, 0, 0)

    def _count(self, store: str, records: int, evictions: int) -> None:
        stmt = (pg_insert if self.postgres else sqlite_insert)(S).values(name=store, records=max(0, records),
                                                                          evictions=evictions)
        self.conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={
            "records": S.c.records + records, "evictions": S.c.evictions + evictions}))


def _next(store: str, record: dict[str, Any], old: dict[str, Any] | None, now: float) -> dict[str, Any]:
    """The row a put writes: a new record, or the next version of `old`."""
    demand = (old["demand"] + 1) if old else 1
    return {**record, "store": store, "demand": demand, "updated_at": now, "touched_at": now,
            "used_at": old["used_at"] if old else None, "version": (old["version"] + 1) if old else 1,
            "created_at": old["created_at"] if old else now,
            "rank_key": cells.rank_key(record["credibility"], demand, now)}


def decoded(value: Any) -> Any:
    """A JSON column of a search row: SQLite gives its text (decoded only for the rows that are answered)."""
    if not isinstance(value, str):
        return value
    return [] if value == "[]" else {} if value == "{}" else json.loads(value)
