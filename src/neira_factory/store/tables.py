"""Table definitions (SQLAlchemy Core). Alembic migrations create them; keep both in step."""
from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, MetaData,
                        String, Table, Text)

metadata = MetaData()

nodes = Table(
    "nodes",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("route", String(200), nullable=False, index=True),
    Column("version", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("node_type", String(100), nullable=False),
    Column("backend", String(16), nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("prev_state", String(20)),
    Column("artifact_sha256", String(64), nullable=False),
    Column("report", JSON),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("row_version", Integer, nullable=False, default=1),
    Index("ix_nodes_kind_state_id", "kind", "state", "id"),  # introspection: counts and organs (0009)
    Index("ix_nodes_created_at_id", "created_at", "id"),  # a page of the node list, newest first (0010)
)

registry_mark = Table(  # one row (id 1): its version goes up with every write to nodes (triggers, revision 0011)
    "registry_mark",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

node_counts = Table(  # nodes by introspection's group (node, organ, module) and state (triggers, revision 0011)
    "node_counts",
    metadata,
    Column("grp", String(16), primary_key=True),
    Column("state", String(20), primary_key=True),
    Column("n", BigInteger, nullable=False),
)

transitions = Table(
    "transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", String(200), ForeignKey("nodes.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("from_state", String(20)),
    Column("to_state", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text),
    Column("forced", Boolean, nullable=False, default=False),
    Column("ts", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("ts", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False, index=True),
    Column("resource", String(300), nullable=False, index=True),
    Column("before", JSON),
    Column("after", JSON),
    Column("reason", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("key_id", String(16)),  # the audit key of the entry's HMAC; NULL: a legacy sha256 entry (immune/chain.py)
)

capabilities = Table(
    "capabilities",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=False),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("media_type", String(100), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

node_stats = Table(
    "node_stats",
    metadata,
    Column("node_id", String(200), primary_key=True),
    Column("state", String(20), primary_key=True),
    Column("window_start", BigInteger, primary_key=True),
    Column("replica", String(200), primary_key=True),
    Column("requests", Integer, nullable=False),
    Column("errors", JSON, nullable=False),
    Column("latency_hist", JSON, nullable=False),
    Column("ops_hist", JSON, nullable=False),
    Column("memory_peak_bytes", BigInteger, nullable=False),
    Column("shadow_compared", Integer, nullable=False),
    Column("shadow_mismatched", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

measurements = Table(
    "measurements",
    metadata,
    Column("node_id", String(200), primary_key=True),
    Column("state", String(20), primary_key=True),
    Column("window_start", BigInteger, primary_key=True),
    Column("verdict", String(20), nullable=False),
    Column("requests", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

command_plans = Table(
    "command_plans",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("actor", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("plan", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
)

# -- training (issue 8): a run per POST /factory/nodes/{id}/train, an iteration row as each one happens --------

training_runs = Table(
    "training_runs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("node_id", String(200), ForeignKey("nodes.id"), nullable=False, index=True),
    Column("artifact_sha256", String(64), nullable=False),  # the node's template, as trained
    Column("dataset_sha256", String(64), nullable=False),  # the examples (an artifact, JSON Lines)
    Column("objective", String(20), nullable=False),
    Column("spec", JSON, nullable=False),  # the normalised request and the search space
    Column("state", String(20), nullable=False, index=True),
    Column("outcome", String(20)),  # converged | not_converged | failed, once the search ended
    Column("reason", Text),
    Column("iterations", Integer, nullable=False, default=0),
    Column("best_iteration", Integer),
    Column("best_metric", Float),
    Column("best_params", JSON),
    Column("decisions", JSON, nullable=False),  # [{action, iteration, node_id, actor, reason, at}]
    Column("result_node", String(200)),  # the latest draft an approval created
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("owner", String(200)),  # the replica driving it (while queued, running or paused)
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("row_version", Integer, nullable=False, default=1),
)

training_iterations = Table(
    "training_iterations",
    metadata,
    Column("run_id", String(40), ForeignKey("training_runs.id"), primary_key=True),
    Column("n", Integer, primary_key=True),
    Column("params", JSON, nullable=False),
    Column("metric", Float),  # NULL: the evaluation failed (see error)
    Column("error", Text),
    Column("examples", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("failures", JSON, nullable=False),
    Column("ms", Float, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# -- the cluster's event log (an outbox): every announced event, written in the transaction that made it -------

EVENT_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite: INTEGER PRIMARY KEY AUTOINCREMENT, never reused

events = Table(
    "events",
    metadata,
    Column("id", EVENT_ID, primary_key=True, autoincrement=True),  # the event's id on every stream, everywhere
    Column("type", String(100), nullable=False),
    Column("resource", String(300), nullable=False),
    Column("data", JSON, nullable=False),
    Column("ts", Float, nullable=False, index=True),  # unix seconds, as the event carries it (retention)
    Column("replica", String(200), nullable=False),  # the process that made it
    sqlite_autoincrement=True,
)

announced_phases = Table(  # one analysis.verdict per change of phase in the cluster, not one per replica
    "announced_phases",
    metadata,
    Column("node_id", String(200), primary_key=True),
    Column("row_version", Integer, nullable=False),  # the node's, so a new stay in a state announces afresh
    Column("state", String(20), nullable=False),
    Column("phase", String(20), nullable=False),
    Column("needs_human", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

webhook_cursor = Table(  # one row per webhook: the cluster delivers the event log to it from one replica at a time
    "webhook_cursor",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("delivered_upto", BigInteger, nullable=False),  # every event id up to here is delivered or given up
    Column("holder", String(200)),  # the replica that holds the delivery lease (NULL: released)
    Column("lease_until", DateTime(timezone=True)),
)

# memory stores: created by store/memory_schema.py (revision 0008), which adds the full-text index
memory_records = Table(
    "memory_records",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("store", String(200), nullable=False),
    Column("rid", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(50), nullable=False),
    Column("description", Text, nullable=False),
    Column("keywords", JSON, nullable=False),
    Column("links", JSON, nullable=False),
    Column("credibility", Float, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("demand", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("used_at", Float),
    Column("touched_at", Float, nullable=False),
    Column("rank_key", Float, nullable=False),
    Column("body", Text, nullable=False),
)

memory_stores = Table(
    "memory_stores",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("records", BigInteger, nullable=False),
    Column("evictions", BigInteger, nullable=False),
)
