"""Scale and reliability fixtures: real `neira-factory serve` processes, several at once and killed at will.

The servers are the end-to-end suite's (tests/e2e_fixtures.py, which also puts `tests/e2e` on `sys.path`
for `scale_support`). This module re-exports the function-scoped `start_server` fixture (the crash tests
start, kill and restart with it), and adds:

- `replica_db`: a new database on the session's PostgreSQL for one test module, dropped after it;
- `replicas`: three serve processes on that one database, each with its own var dir and the test tokens,
  for the whole module (starting servers is the slow part of these tests). The first starts alone (it
  migrates and seeds the empty database), the other two together.
"""
from __future__ import annotations

import re
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from e2e_fixtures import start_server  # noqa: F401 - the fixture, re-exported; puts tests/e2e on sys.path
from pg import temporary_database  # tests/ is on sys.path as for `support`
from scale_support import REPLICA_ENV, launch  # needs tests/e2e on sys.path (above)


@pytest.fixture(scope="module")
def replica_db(postgres_url, request):
    """URL of a new, empty database on the session's PostgreSQL, for one module; dropped after it."""
    slug = re.sub(r"[^a-z0-9]+", "_", request.module.__name__.lower())[:30].strip("_")
    with temporary_database(postgres_url, f"t_{slug}_{secrets.token_hex(4)}") as url:
        yield url


@pytest.fixture(scope="module")
def replicas(replica_db, tmp_path_factory):
    """Three `neira-factory serve` replicas on one PostgreSQL database (REPLICA_ENV: flush 200 ms, TTL 300 ms)."""
    def start(i: int):
        return launch(tmp_path_factory.mktemp(f"replica{i}-var"), tmp_path_factory.mktemp(f"replica{i}-log"),
                      database_url=replica_db, env=REPLICA_ENV)

    servers = [start(0)]
    try:
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(start, i) for i in (1, 2)]
        failures = [f.exception() for f in futures if f.exception() is not None]
        servers += [f.result() for f in futures if f.exception() is None]
        if failures:
            raise failures[0]
        yield servers
    finally:
        for server in servers:
            server.stop()
