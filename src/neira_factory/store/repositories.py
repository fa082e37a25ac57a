"""Repositories over one connection: nodes, transitions, audit, capabilities, settings, artifacts, idempotency,
runtime statistics, analysis measurements and announced phases, the event log and the webhook's cursor."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, delete, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..domain.actors import EXAMPLES
from ..domain.clock import now
from ..domain.errors import Conflict
from ..domain.events import Event
from ..domain.lifecycle import State
from ..domain.node import Node
from ..immune.chain import GENESIS, AuditKey, entry_hash
from . import tables as t
from .records import AuditEntry, TransitionRecord

AUDIT_LOCK_KEY = 0x6E65697261  # "neira": serialises audit appends across PostgreSQL replicas
EVENTS_CHANNEL = "neira_events"  # PostgreSQL: NOTIFY'd by every transaction that logs events (payload: its last id)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _node(row: Any) -> Node:
    data = dict(row._mapping)
    data["created_at"], data["updated_at"] = _aware(data["created_at"]), _aware(data["updated_at"])
    return Node(**data)


class NodeRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, record: Node) -> None:
        values = {**record.__dict__, "state": record.state.value,
                  "prev_state": record.prev_state.value if record.prev_state else None}
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(t.nodes).values(**values))
        except IntegrityError:
            raise Conflict(f"node {record.id} already exists", id=record.id) from None

    def replace(self, record: Node, example: Node) -> bool:
        """Put `record` in the row of the untouched example draft it replaces (Node.yields_to), unless that row
        has moved since it was read; the row's version goes on from the example's."""
        values = {**record.__dict__, "state": record.state.value, "prev_state": None,
                  "row_version": example.row_version + 1}
        n = t.nodes.c
        return self.conn.execute(update(t.nodes).where(
            n.id == example.id, n.row_version == example.row_version, n.created_by == example.created_by,
            n.state == example.state.value).values(**values)).rowcount == 1

    def pin_examples(self, node_ids: list[str]) -> None:
        """The untouched example drafts among `node_ids` stop yielding (Node.yields_to): their row version goes on,
        as a move would, because a node that leaves draft names them and must go on running what it was approved
        with."""
        n = t.nodes.c
        if node_ids:
            self.conn.execute(update(t.nodes).where(
                n.id.in_(node_ids), n.created_by == EXAMPLES.name, n.state == State.DRAFT.value, n.row_version == 1)
                .values(row_version=n.row_version + 1))

    def get(self, node_id: str) -> Node | None:
        row = self.conn.execute(select(t.nodes).where(t.nodes.c.id == node_id)).first()
        return _node(row) if row else None

    def list(
        self,
        *,
        state: str | None = None,
        route: str | None = None,
        kind: str | None = None,
        backend: str | None = None,
        search: str | None = None,
        exclude_kind: str | None = None,
        exclude_prefix: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Node]:
        q = select(t.nodes)
        if exclude_kind is not None:
            q = q.where(t.nodes.c.kind != exclude_kind)
        if exclude_prefix is not None:
            q = q.where(~t.nodes.c.id.startswith(exclude_prefix, autoescape=True))
        for column, value in (("state", state), ("route", route), ("kind", kind), ("backend", backend)):
            if value is not None:
                q = q.where(t.nodes.c[column] == value)
        if search:
            q = q.where(t.nodes.c.id.contains(search, autoescape=True))
        rows = self.conn.execute(q.order_by(t.nodes.c.created_at.desc(), t.nodes.c.id).limit(limit).offset(offset))
        return [_node(r) for r in rows]

    def all(self) -> list[Node]:
        return [_node(r) for r in self.conn.execute(select(t.nodes))]

    def version_mark(self) -> int:
        """The registry's mark: it goes up with every committed write to a node, on any replica (revision 0011's
        triggers), and reading it reads one row, however many nodes there are."""
        return self.conn.execute(select(t.registry_mark.c.version).where(t.registry_mark.c.id == 1)).scalar_one()

    def row_versions(self) -> dict[str, int]:
        """Every node's id and row version."""
        return {node_id: version for node_id, version in self.conn.execute(select(t.nodes.c.id, t.nodes.c.row_version))}

    def count_by_state(self, group: str) -> dict[str, int]:
        """How many nodes of a group (`node`, `organ`, `module`: the factory's own) are in each state, as the
        triggers on `nodes` keep them (revision 0011): a few rows read, however many nodes there are."""
        c = t.node_counts.c
        return {state: n for state, n in self.conn.execute(select(c.state, c.n).where(c.grp == group, c.n > 0))}

    def move(self, record: Node, to_state: State | str, *, prev_state: State | str | None) -> Node | None:
        """Conditional update on (state, row_version): None when someone else moved it first."""
        to_state, prev_state = State(to_state), State(prev_state) if prev_state else None
        stamp = now()
        result = self.conn.execute(
            update(t.nodes)
            .where(t.nodes.c.id == record.id, t.nodes.c.state == record.state.value,
                   t.nodes.c.row_version == record.row_version)
            .values(state=to_state.value, prev_state=prev_state.value if prev_state else None, updated_at=stamp,
                    row_version=record.row_version + 1)
        )
        if result.rowcount != 1:
            return None
        return record.moved(to_state, prev_state=prev_state, at=stamp)

    def add_transition(self, node_id: str, action: str, from_state: str | None, to_state: str, actor: str,
                       reason: str | None, forced: bool = False) -> None:
        self.conn.execute(insert(t.transitions).values(
            node_id=node_id, action=action, from_state=from_state, to_state=to_state, actor=actor,
            reason=reason, forced=forced, ts=now()))

    def history(self, node_id: str) -> list[TransitionRecord]:
        rows = self.conn.execute(
            select(t.transitions).where(t.transitions.c.node_id == node_id).order_by(t.transitions.c.id))
        return [TransitionRecord(action=r.action, from_state=r.from_state, to_state=r.to_state, actor=r.actor,
                                 reason=r.reason, forced=r.forced, ts=_aware(r.ts)) for r in rows]


class AuditRepository:
    """Append-only, hash-chained, keyed with `key` (unkeyed without one: immune/chain.py). Appends are serialised
    (SQLite: the write lock; PostgreSQL: an advisory lock). `appended` is the newest entry this unit of work
    appended, for the checkpoint written after its commit."""

    def __init__(self, conn: Connection, postgres: bool, key: AuditKey | None = None):
        self.conn = conn
        self.postgres = postgres
        self.key = key
        self.appended: AuditEntry | None = None

    def append(self, actor: str, action: str, resource: str, *, before: Any = None, after: Any = None,
               reason: str | None = None) -> AuditEntry:
        if self.postgres:
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})
        last = self.conn.execute(select(t.audit.c.seq, t.audit.c.hash).order_by(t.audit.c.seq.desc()).limit(1)).first()
        prev_hash = last.hash if last else GENESIS
        fields = {"ts": now().isoformat(), "actor": actor, "action": action, "resource": resource,
                  "before": before, "after": after, "reason": reason, "key_id": self.key.key_id if self.key else None}
        digest = entry_hash(prev_hash, fields, self.key)
        seq = self.conn.execute(insert(t.audit).values(**fields, prev_hash=prev_hash, hash=digest)).inserted_primary_key[0]
        self.appended = AuditEntry(seq=seq, prev_hash=prev_hash, hash=digest, **fields)
        return self.appended

    def list(self, *, resource: str | None = None, actor: str | None = None, action: str | None = None,
             limit: int = 100, offset: int = 0, newest_first: bool = True) -> list[AuditEntry]:
        q = select(t.audit)
        for column, value in (("resource", resource), ("actor", actor), ("action", action)):
            if value is not None:
                q = q.where(t.audit.c[column] == value)
        order = t.audit.c.seq.desc() if newest_first else t.audit.c.seq
        return [AuditEntry(**r._mapping) for r in self.conn.execute(q.order_by(order).limit(limit).offset(offset))]

    def iter_all(self) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.conn.execute(select(t.audit).order_by(t.audit.c.seq))]


class CapabilityRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def all(self) -> dict[str, dict[str, Any]]:
        rows = self.conn.execute(select(t.capabilities).order_by(t.capabilities.c.name))
        return {r.name: {"state": r.state, "updated_by": r.updated_by, "updated_at": _aware(r.updated_at).isoformat()}
                for r in rows}

    def get(self, name: str) -> str | None:
        return self.conn.execute(select(t.capabilities.c.state).where(t.capabilities.c.name == name)).scalar()

    def put(self, name: str, state: str, actor: str) -> None:
        values = {"state": state, "updated_by": actor, "updated_at": now()}
        if self.conn.execute(update(t.capabilities).where(t.capabilities.c.name == name).values(**values)).rowcount == 0:
            self.conn.execute(insert(t.capabilities).values(name=name, **values))

    def seed(self, defaults: dict[str, str], actor: str) -> list[str]:
        """Insert gates the database does not know yet; returns their names."""
        known = set(self.all())
        added = [name for name in defaults if name not in known]
        for name in added:
            self.conn.execute(insert(t.capabilities).values(name=name, state=defaults[name], updated_by=actor,
                                                            updated_at=now()))
        return added


class SettingsRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute(select(t.settings.c.value).where(t.settings.c.key == key)).first()
        return row.value if row else default

    def put(self, key: str, value: Any) -> None:
        if self.conn.execute(update(t.settings).where(t.settings.c.key == key).values(value=value)).rowcount == 0:
            self.conn.execute(insert(t.settings).values(key=key, value=value))


class ArtifactRepository:
    def __init__(self, conn: Connection, postgres: bool):
        self.conn = conn
        self.postgres = postgres

    def put(self, sha256: str, content: bytes, media_type: str) -> None:
        """Content-addressed: the same content stored by two writers at once is stored once."""
        stmt = (pg_insert if self.postgres else sqlite_insert)(t.artifacts).values(
            sha256=sha256, content=content, media_type=media_type, created_at=now())
        self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["sha256"]))

    def get(self, sha256: str) -> bytes | None:
        return self.conn.execute(select(t.artifacts.c.content).where(t.artifacts.c.sha256 == sha256)).scalar()


class IdempotencyRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self, key: str) -> tuple[str, int, Any] | None:
        row = self.conn.execute(select(t.idempotency).where(t.idempotency.c.key == key)).first()
        return (row.request_hash, row.status_code, row.response) if row else None

    def put(self, key: str, request_hash: str, status_code: int, response: Any) -> None:
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(t.idempotency).values(key=key, request_hash=request_hash,
                                                               status_code=status_code, response=response,
                                                               created_at=now()))
        except IntegrityError:
            raise Conflict("Idempotency-Key is being used by another request right now; retry it",
                           code="idempotency_key_in_use") from None


def _upsert(conn: Connection, postgres: bool, table, keys: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET the other columns, on SQLite or PostgreSQL."""
    if not rows:
        return
    stmt = (pg_insert if postgres else sqlite_insert)(table)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={c: stmt.excluded[c] for c in rows[0] if c not in keys})
    conn.execute(stmt, rows)


class StatsRepository:
    """Per-replica counters: each replica owns its rows and overwrites them with its running totals,
    so replicas never contend and the analysis sums over replicas."""

    KEYS = ("node_id", "state", "window_start", "replica")

    def __init__(self, conn: Connection, postgres: bool):
        self.conn = conn
        self.postgres = postgres

    def put(self, rows: list[dict[str, Any]]) -> None:
        stamp = now()
        _upsert(self.conn, self.postgres, t.node_stats, self.KEYS, [{**r, "updated_at": stamp} for r in rows])

    def rows(self, node_id: str, state: str, since_window: int = 0) -> list[dict[str, Any]]:
        q = select(t.node_stats).where(t.node_stats.c.node_id == node_id, t.node_stats.c.state == state,
                                       t.node_stats.c.window_start >= since_window)
        return [dict(r._mapping) for r in self.conn.execute(q.order_by(t.node_stats.c.window_start))]

    def prune(self, before_window: int) -> int:
        return self.conn.execute(delete(t.node_stats).where(t.node_stats.c.window_start < before_window)).rowcount


class MeasurementRepository:
    """One analysis measurement per node, state and window (the latest verdict in that window wins)."""

    KEYS = ("node_id", "state", "window_start")

    def __init__(self, conn: Connection, postgres: bool):
        self.conn = conn
        self.postgres = postgres

    def put(self, node_id: str, state: str, window_start: int, verdict: str, requests: int, reason: str) -> None:
        _upsert(self.conn, self.postgres, t.measurements, self.KEYS,
                [{"node_id": node_id, "state": state, "window_start": window_start, "verdict": verdict,
                  "requests": requests, "reason": reason, "at": now()}])

    def counts(self, node_id: str, state: str, *, before_window: int | None = None) -> dict[str, int]:
        m = t.measurements
        q = select(m.c.verdict, func.count()).where(m.c.node_id == node_id, m.c.state == state)
        if before_window is not None:
            q = q.where(m.c.window_start < before_window)
        rows = self.conn.execute(q.group_by(m.c.verdict))
        return {verdict: n for verdict, n in rows}

    def prune(self, before_window: int) -> int:
        return self.conn.execute(delete(t.measurements).where(t.measurements.c.window_start < before_window)).rowcount

    def list(self, node_id: str, state: str, limit: int = 100) -> list[dict[str, Any]]:
        m = t.measurements
        q = select(m).where(m.c.node_id == node_id, m.c.state == state).order_by(m.c.window_start.desc()).limit(limit)
        return [{**dict(r._mapping), "at": _aware(r.at).isoformat()} for r in self.conn.execute(q)]


class AnnouncedPhaseRepository:
    """The analysis phase last announced per node. Every replica's supervisor measures every candidate;
    `claim` lets exactly one transaction in the cluster announce each change."""

    def __init__(self, conn: Connection, postgres: bool):
        self.conn = conn
        self.postgres = postgres

    def recorded(self, node_id: str) -> tuple[int, str, bool] | None:
        """(row version, phase, needs_human) last announced for the node, or None."""
        p = t.announced_phases
        row = self.conn.execute(select(p.c.row_version, p.c.phase, p.c.needs_human)
                                .where(p.c.node_id == node_id)).first()
        return None if row is None else (row.row_version, row.phase, bool(row.needs_human))

    def claim(self, node_id: str, row_version: int, state: str, phase: str, needs_human: bool) -> bool:
        """Record this phase of the node (at this row version); True when it differs from the recorded one,
        i.e. this transaction is the one to announce it. A concurrent claim of the same phase waits for this
        transaction (the row's lock) and then finds it recorded."""
        p = t.announced_phases
        values = {"node_id": node_id, "row_version": row_version, "state": state, "phase": phase,
                  "needs_human": needs_human, "at": now()}
        stmt = (pg_insert if self.postgres else sqlite_insert)(p).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["node_id"], set_={c: stmt.excluded[c] for c in values if c != "node_id"},
            where=or_(p.c.row_version != stmt.excluded.row_version, p.c.phase != stmt.excluded.phase,
                      p.c.needs_human != stmt.excluded.needs_human))
        return self.conn.execute(stmt.returning(p.c.node_id)).first() is not None


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """An event's data as JSON every database keeps: anything else as its string, NaN and infinities as null."""
    return json.loads(json.dumps(data, default=str, ensure_ascii=False), parse_constant=lambda _: None)


def _logged(row: Any) -> tuple[int, Event, str]:
    return row.id, Event(row.type, row.resource, row.data, row.ts), row.replica


class EventRepository:
    """The cluster's event log (an outbox): `(id, event, replica)` rows appended by the transaction that made
    the events, so they commit or vanish with it, and read in id order by every replica (nervous/tail.py)."""

    def __init__(self, conn: Connection, postgres: bool):
        self.conn = conn
        self.postgres = postgres

    def append(self, events: list[Event], replica: str) -> list[tuple[int, Event, str]]:
        """Log `events` as made by `replica`; the rows as the log holds them, as `after` reads them. On
        PostgreSQL the same statement NOTIFYs EVENTS_CHANNEL once per id; listeners receive that when (and
        only if) the transaction commits."""
        if not events:
            return []
        kept = [Event(e.type, e.resource, _plain(e.data), e.ts) for e in events]
        rows = [{"type": e.type, "resource": e.resource, "data": e.data, "ts": e.ts, "replica": replica}
                for e in kept]
        if self.postgres:  # one round trip: the rows, and a notification per id
            logged = insert(t.events).values(rows).returning(t.events.c.id).cte("logged")
            ids = sorted(r[0] for r in self.conn.execute(
                select(logged.c.id, func.pg_notify(EVENTS_CHANNEL, cast(logged.c.id, String)))))
        else:
            ids = [self.conn.execute(insert(t.events).values(**row)).inserted_primary_key[0] for row in rows]
        return [(i, e, replica) for i, e in zip(ids, kept)]

    def after(self, last_id: int, limit: int) -> list[tuple[int, Event, str]]:
        """The first `limit` events with an id above `last_id`, oldest first."""
        q = select(t.events).where(t.events.c.id > last_id).order_by(t.events.c.id).limit(limit)
        return [_logged(r) for r in self.conn.execute(q)]

    def newest(self, after: int, upto: int, limit: int) -> list[tuple[int, Event, str]]:
        """The newest `limit` events with an id in (after, upto], oldest first."""
        e = t.events
        q = select(e).where(e.c.id > after, e.c.id <= upto).order_by(e.c.id.desc()).limit(limit)
        return [_logged(r) for r in reversed(self.conn.execute(q).all())]

    def first_id(self) -> int | None:
        """The oldest id still kept (None: the log is empty)."""
        return self.conn.execute(select(func.min(t.events.c.id))).scalar()

    def last_id(self) -> int:
        """The newest id committed so far (0: none yet)."""
        return self.conn.execute(select(func.max(t.events.c.id))).scalar() or 0

    def prune(self, before_ts: float) -> int:
        """Delete the events older than `before_ts`, but never the newest one: the log's last id is where a
        starting replica begins to follow it, and an empty log would hide it."""
        e = t.events
        newest = select(func.max(e.c.id)).scalar_subquery()
        return self.conn.execute(delete(e).where(e.c.ts < before_ts, e.c.id < newest)).rowcount


class WebhookCursorRepository:
    """The webhook's cursor and delivery lease (nervous/notify.py), one row per webhook: every event id up to
    `delivered_upto` is delivered or given up, and `holder` delivers the rest while its lease runs. Each write is
    one conditional statement, so at most one replica holds a lease at a time."""

    def __init__(self, conn: Connection, postgres: bool):
        self.conn = conn
        self.postgres = postgres

    def take(self, name: str, holder: str, lease_s: float) -> int | None:
        """Take or renew the lease for `lease_s` seconds when it is free, has run out or is `holder`'s; the
        cursor when `holder` holds it now, None when another replica does. The webhook's first take creates its
        row with the cursor at the event log's end: the events from before are not delivered."""
        c = t.webhook_cursor
        stamp = func.now() if self.postgres else now()  # PostgreSQL: its clock, the same for every replica
        log_end = select(func.coalesce(func.max(t.events.c.id), 0)).scalar_subquery()
        stmt = (pg_insert if self.postgres else sqlite_insert)(c).values(
            name=name, delivered_upto=log_end, holder=holder, lease_until=stamp + timedelta(seconds=lease_s))
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"], set_={"holder": stmt.excluded.holder, "lease_until": stmt.excluded.lease_until},
            where=or_(c.c.holder == holder, c.c.holder.is_(None), c.c.lease_until < stamp))
        return self.conn.execute(stmt.returning(c.c.delivered_upto)).scalar()

    def advance(self, name: str, holder: str, upto: int) -> bool:
        """Move the cursor to `upto`; False when `holder` no longer holds the lease (another replica took it)."""
        c = t.webhook_cursor
        return self.conn.execute(update(c).where(c.c.name == name, c.c.holder == holder)
                                 .values(delivered_upto=upto)).rowcount == 1

    def release(self, name: str, holder: str) -> None:
        """Give the lease up (when `holder` holds it), so another replica may take it at once."""
        c = t.webhook_cursor
        self.conn.execute(update(c).where(c.c.name == name, c.c.holder == holder).values(holder=None,
                                                                                         lease_until=None))

    def get(self, name: str) -> dict[str, Any] | None:
        """The row: delivered_upto, holder, lease_until (None: no replica has delivered to this webhook yet)."""
        row = self.conn.execute(select(t.webhook_cursor).where(t.webhook_cursor.c.name == name)).first()
        if row is None:
            return None
        return {"delivered_upto": row.delivered_upto, "holder": row.holder,
                "lease_until": _aware(row.lease_until) if row.lease_until else None}


class CommandPlanRepository:
    """Plans waiting for confirmation, found by the sha256 of their token (the token itself is not kept)."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def put(self, token_sha256: str, actor: str, text: str, plan: dict[str, Any], expires_at: datetime) -> None:
        self.conn.execute(insert(t.command_plans).values(token_sha256=token_sha256, actor=actor, text=text, plan=plan,
                                                         created_at=now(), expires_at=expires_at))

    def get(self, token_sha256: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(t.command_plans).where(t.command_plans.c.token_sha256 == token_sha256)).first()
        if row is None:
            return None
        data = dict(row._mapping)
        for key in ("created_at", "expires_at", "confirmed_at"):
            data[key] = _aware(data[key]) if data[key] else None
        return data

    def confirm(self, token_sha256: str) -> bool:
        """Mark it used; False when someone confirmed it first."""
        result = self.conn.execute(update(t.command_plans).where(t.command_plans.c.token_sha256 == token_sha256,
                                                                 t.command_plans.c.confirmed_at.is_(None))
                                   .values(confirmed_at=now()))
        return result.rowcount == 1

    def prune(self, before: datetime) -> int:
        return self.conn.execute(delete(t.command_plans).where(t.command_plans.c.expires_at < before)).rowcount


# -- training (issue 8) ---------------------------------------------------------------------------------------

_ANY = object()


def _training_run(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    for key in ("created_at", "updated_at", "finished_at", "heartbeat_at"):
        data[key] = _aware(data[key]) if data[key] else None
    return data


class TrainingRepository:
    """Training runs and their iterations. Run updates are conditional (on state and, where given, on the
    replica that owns the run), so a worker that lost its run to a human's reject or to another replica
    finds out at its next write and stops."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def add_run(self, **values: Any) -> None:
        stamp = now()
        self.conn.execute(insert(t.training_runs).values(created_at=stamp, updated_at=stamp, iterations=0,
                                                         decisions=[], row_version=1, **values))

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(t.training_runs).where(t.training_runs.c.id == run_id)).first()
        return _training_run(row) if row else None

    def list_runs(self, *, node_id: str | None = None, state: str | None = None, limit: int = 100,
                  offset: int = 0) -> list[dict[str, Any]]:
        r = t.training_runs
        q = select(r)
        if node_id is not None:
            q = q.where(r.c.node_id == node_id)
        if state is not None:
            q = q.where(r.c.state == state)
        rows = self.conn.execute(q.order_by(r.c.created_at.desc(), r.c.id).limit(limit).offset(offset))
        return [_training_run(row) for row in rows]

    def update_run(self, run_id: str, *, states: tuple[str, ...] | None = None, owned_by: Any = _ANY,
                   row_version: int | None = None, **values: Any) -> bool:
        """Set `values` when the run is in one of `states` (and owned by `owned_by`, and at `row_version`,
        where given); False when it is not (any more)."""
        r = t.training_runs
        q = update(r).where(r.c.id == run_id)
        if states is not None:
            q = q.where(r.c.state.in_(states))
        if owned_by is not _ANY:
            q = q.where(r.c.owner.is_(None) if owned_by is None else r.c.owner == owned_by)
        if row_version is not None:
            q = q.where(r.c.row_version == row_version)
        result = self.conn.execute(q.values(updated_at=now(), row_version=r.c.row_version + 1, **values))
        return result.rowcount == 1

    def claim(self, run_id: str, replica: str, *, states: tuple[str, ...], stale_before: datetime) -> bool:
        """Take over an active run nobody drives: no owner, or an owner silent since `stale_before`."""
        r = t.training_runs
        stamp = now()
        result = self.conn.execute(
            update(r).where(r.c.id == run_id, r.c.state.in_(states),
                            r.c.owner.is_(None) | r.c.heartbeat_at.is_(None) | (r.c.heartbeat_at < stale_before))
            .values(owner=replica, heartbeat_at=stamp, updated_at=stamp, row_version=r.c.row_version + 1))
        return result.rowcount == 1

    def orphans(self, *, states: tuple[str, ...], stale_before: datetime, limit: int = 100) -> list[str]:
        r = t.training_runs
        q = select(r.c.id).where(r.c.state.in_(states),
                                 r.c.owner.is_(None) | r.c.heartbeat_at.is_(None) | (r.c.heartbeat_at < stale_before))
        return [row.id for row in self.conn.execute(q.order_by(r.c.created_at).limit(limit))]

    def add_iteration(self, **values: Any) -> None:
        self.conn.execute(insert(t.training_iterations).values(at=now(), **values))

    def iterations(self, run_id: str) -> list[dict[str, Any]]:
        i = t.training_iterations
        rows = self.conn.execute(select(i).where(i.c.run_id == run_id).order_by(i.c.n))
        return [{**dict(row._mapping), "at": _aware(row.at).isoformat()} for row in rows]

    def iteration(self, run_id: str, n: int) -> dict[str, Any] | None:
        i = t.training_iterations
        row = self.conn.execute(select(i).where(i.c.run_id == run_id, i.c.n == n)).first()
        return {**dict(row._mapping), "at": _aware(row.at).isoformat()} if row else None
