"""The memory stores' schema, as DDL per dialect: Alembic's revision 0008 runs it, and so does a throwaway
store (an in-memory SQLite database a dry-run writes to), so the two cannot drift apart.

`memory_records` holds the cells (one row per store and id; `body` is the normalised text that is
searched; `rank_key` orders by priority, see domain/memory.py). Full-text search is SQLite FTS5 (an
external-content index over `body`, kept in step by triggers) or PostgreSQL's `tsvector` (a generated
column with a GIN index, `simple` configuration: the text is normalised already). `memory_stores` counts
each store's records and evictions, so a put never counts rows.
"""
from __future__ import annotations

_RECORDS = """CREATE TABLE memory_records (
    seq {seq},
    store VARCHAR(200) NOT NULL,
    rid VARCHAR(200) NOT NULL,
    version INTEGER NOT NULL,
    type VARCHAR(50) NOT NULL,
    description TEXT NOT NULL,
    keywords {json} NOT NULL,
    links {json} NOT NULL,
    credibility FLOAT NOT NULL,
    metadata {json} NOT NULL,
    demand BIGINT NOT NULL,
    created_at FLOAT NOT NULL,
    updated_at FLOAT NOT NULL,
    used_at FLOAT,
    touched_at FLOAT NOT NULL,
    rank_key FLOAT NOT NULL,
    body TEXT NOT NULL{extra}
)"""
_COMMON = [
    "CREATE UNIQUE INDEX ux_memory_records_store_rid ON memory_records (store, rid)",
    "CREATE INDEX ix_memory_records_store_rank ON memory_records (store, rank_key)",
    "CREATE INDEX ix_memory_records_store_touched ON memory_records (store, touched_at)",
    """CREATE TABLE memory_stores (
    name VARCHAR(200) PRIMARY KEY,
    records BIGINT NOT NULL,
    evictions BIGINT NOT NULL
)""",
]
SQLITE = [
    _RECORDS.format(seq="INTEGER PRIMARY KEY AUTOINCREMENT", json="JSON", extra=""),
    *_COMMON,
    "CREATE VIRTUAL TABLE memory_fts USING fts5(body, content='memory_records', content_rowid='seq')",
    """CREATE TRIGGER memory_records_ai AFTER INSERT ON memory_records BEGIN
    INSERT INTO memory_fts(rowid, body) VALUES (new.seq, new.body);
END""",
    """CREATE TRIGGER memory_records_ad AFTER DELETE ON memory_records BEGIN
    INSERT INTO memory_fts(memory_fts, rowid, body) VALUES ('delete', old.seq, old.body);
END""",
    """CREATE TRIGGER memory_records_au AFTER UPDATE OF body ON memory_records BEGIN
    INSERT INTO memory_fts(memory_fts, rowid, body) VALUES ('delete', old.seq, old.body);
    INSERT INTO memory_fts(rowid, body) VALUES (new.seq, new.body);
END""",
]
POSTGRES = [
    _RECORDS.format(seq="BIGSERIAL PRIMARY KEY", json="JSONB",
                    extra=",\n    tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED"),
    *_COMMON,
    "CREATE INDEX ix_memory_records_tsv ON memory_records USING GIN (tsv)",
]
DROP = ["DROP TABLE IF EXISTS memory_fts", "DROP TABLE IF EXISTS memory_stores", "DROP TABLE IF EXISTS memory_records"]


def ddl(postgres: bool) -> list[str]:
    return POSTGRES if postgres else SQLITE
