"""Shared fixtures: a PostgreSQL server for the whole session, a fresh database per test."""

from __future__ import annotations

import gc
import importlib.util
import os
import re
import secrets
import sys
from pathlib import Path

import pytest

from support import make_settings


def _load_pg():
    # Loaded by path so it works whether or not tests/ is a package.
    name = "neira_tests_pg"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("pg.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


def pytest_collection_modifyitems(items):
    # Tests that use the PostgreSQL fixtures carry the `postgres` marker (-m "not postgres").
    for item in items:
        if {"postgres_url", "fresh_pg_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_url():
    """NEIRA_TEST_POSTGRES_URL, or a throwaway cluster started for this session. Never skips."""
    url = os.environ.get("NEIRA_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    pg = _load_pg()
    cluster, error = None, None
    try:
        cluster = pg.start()
    except Exception as e:  # noqa: BLE001 - any failure here is "no PostgreSQL"
        error = e
    if cluster is None:
        pytest.fail(
            "PostgreSQL tests need a server: set NEIRA_TEST_POSTGRES_URL=postgresql+psycopg://... "
            f"or install PostgreSQL (./scripts/setup.sh). Starting a throwaway cluster failed: {error}",
            pytrace=False,
        )
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def fresh_pg_url(postgres_url, request):
    """URL of a new, empty database on the session's server; dropped after the test."""
    import psycopg

    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40].strip("_")
    database = _load_pg().temporary_database(postgres_url, f"t_{slug}_{secrets.token_hex(4)}")
    try:
        url = database.__enter__()
    except psycopg.Error as e:
        pytest.fail(f"cannot create a test database on {postgres_url!r}: {e}", pytrace=False)
    try:
        yield url
    finally:
        database.__exit__(None, None, None)


# -- the factory under test -----------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """The store under test: embedded SQLite, then a fresh database on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'factory.db'}"
    return request.getfixturevalue("fresh_pg_url")


@pytest.fixture
def factory(tmp_path):
    from neira_factory.services.bootstrap import build_services

    f = build_services(make_settings(tmp_path))
    yield f
    f.db.dispose()


@pytest.fixture
def store_factory(db_url, tmp_path):
    """A factory on the store under test (`db_url`: SQLite, then PostgreSQL)."""
    from neira_factory.services.bootstrap import build_services

    f = build_services(make_settings(tmp_path, db_url))
    yield f
    f.db.dispose()


@pytest.fixture
def client(factory):
    """An HTTP client on the real app (in-process ASGI) over the `factory` fixture."""
    from fastapi.testclient import TestClient

    from neira_factory.api.app import create_app
    from neira_factory.config.tokens import TokenRegistry

    with TestClient(create_app(factory, TokenRegistry.load(factory.settings))) as c:
        yield c


@pytest.fixture
def quiet_gc():
    """For tests that time a bound (a limit stops hostile work within its budget): the heap so far frozen
    (gc.freeze: cheap, and out of every later collection), so that a collection of the whole suite's heap —
    seconds, late in a full run — does not land inside the timed call."""
    gc.freeze()
    yield
    gc.unfreeze()
