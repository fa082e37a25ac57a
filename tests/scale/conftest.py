"""Scale and reliability fixtures: real `neira-factory serve` processes, several at once and killed at will.

The servers are the end-to-end suite's. This module puts `tests/e2e` on `sys.path` (so `e2e_support` and
`scale_support` import as in the e2e tests), loads `tests/e2e/conftest.py` under a module name of its own
and re-exports its function-scoped `start_server` fixture (the crash tests start, kill and restart with it),
and adds:

- `replica_db`: a new database on the session's PostgreSQL for one test module, dropped after it;
- `replicas`: three serve processes on that one database, each with its own var dir and the test tokens,
  for the whole module (starting servers is the slow part of these tests). The first starts alone (it
  migrates and seeds the empty database), the other two together.
"""
from __future__ import annotations

import importlib.util
import re
import secrets
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

E2E = Path(__file__).resolve().parents[1] / "e2e"
if str(E2E) not in sys.path:
    sys.path.insert(0, str(E2E))

from pg import temporary_database  # noqa: E402 - tests/ is on sys.path as for `support`
from scale_support import REPLICA_ENV, launch  # needs tests/e2e on sys.path (above)


def _e2e_conftest():
    # Loaded by path under a name of its own: pytest may load the same file as tests/e2e's conftest too.
    name = "neira_tests_e2e_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, E2E / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


start_server = _e2e_conftest().start_server  # the fixture, re-exported


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
