"""The PostgreSQL test harness itself: a real server, a fresh database per test."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

_seen: list[str] = []  # fresh databases handed out in this module, in order


def _query(url, sql, **params):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()
    finally:
        engine.dispose()


def test_server_is_postgresql(postgres_url):
    assert make_url(postgres_url).drivername == "postgresql+psycopg"
    assert "PostgreSQL" in _query(postgres_url, "select version()")


@pytest.mark.parametrize("run", [1, 2])
def test_fresh_databases_are_distinct_empty_and_dropped(fresh_pg_url, postgres_url, run):
    name = make_url(fresh_pg_url).database
    assert name not in _seen and name != make_url(postgres_url).database
    assert _query(fresh_pg_url, "select current_database()") == name
    # the previous test's database is gone, and this one starts empty
    for old in _seen:
        assert _query(postgres_url, "select count(*) from pg_database where datname = :n", n=old) == 0
    assert _query(fresh_pg_url, "select count(*) from pg_tables where schemaname = 'public'") == 0
    _seen.append(name)

    engine = create_engine(fresh_pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("create table t (x int)"))
            conn.execute(text("insert into t values (:run)"), {"run": run})
        assert _query(fresh_pg_url, "select x from t") == run
        assert _query(postgres_url, "select to_regclass('public.t') is null")  # no leak into main db
    finally:
        engine.dispose()
