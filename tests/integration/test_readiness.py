"""GET /readyz through the real app: ready (200, its checks) on a current database; 503 `not_ready` naming
the failing check when the database cannot be opened, when its schema is behind this version or missing,
and while a check hangs past the timeout (concurrent probes share one check); ready again once the cause
is gone, the changes logged; a schema newer than this version is ready (a rolling upgrade); no token
needed; declared in OpenAPI beside /healthz, which stays a liveness check that touches nothing."""
from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import contextmanager

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from support import make_settings

from neira_factory.api.app import Readiness, create_app
from neira_factory.services.bootstrap import build_services
from neira_factory.store.database import MIGRATIONS
from neira_factory.config.tokens import TokenRegistry

SCRIPTS = ScriptDirectory(str(MIGRATIONS))
HEAD = SCRIPTS.get_current_head()


@pytest.fixture
def f(tmp_path):
    factory = build_services(make_settings(tmp_path))
    yield factory
    factory.db.dispose()


@pytest.fixture
def client(f):
    return TestClient(create_app(f, TokenRegistry.load(f.settings)), raise_server_exceptions=False)


@contextmanager
def database_at(f, path):
    """The factory's engine on another SQLite file for the block (a path that cannot be opened, an empty
    database); the real engine comes back after it."""
    real = f.db.engine
    f.db.engine = create_engine(f"sqlite:///{path}")
    try:
        yield
    finally:
        f.db.engine.dispose()
        f.db.engine = real


def test_ready_on_a_current_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and set(body["checks"]) == {"database", "schema"}
    assert body["checks"]["database"]["ok"] is True and body["checks"]["database"]["ms"] >= 0
    assert body["checks"]["schema"] == {"ok": True, "revision": HEAD, "head": HEAD}


def test_not_ready_while_the_database_cannot_be_opened_then_ready_again(f, client, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="neira_factory.api.app")
    with database_at(f, tmp_path / "missing" / "neira.db"):  # its directory does not exist
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["code"] == "not_ready"
        assert body["reason"] == "the database is unreachable or failing (OperationalError)"
        assert body["checks"] == {"database": {"ok": False, "error": "OperationalError"}}
        assert "missing" not in response.text  # the open endpoint does not say where the database is
        assert client.get("/healthz").json() == {"ok": True}  # liveness is not readiness
        assert client.get("/readyz").status_code == 503
    assert client.get("/readyz").status_code == 200
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]  # each change once
    assert "unable to open database file" in caplog.records[0].getMessage()  # the log has the cause
    assert caplog.records[1].getMessage().startswith("ready again")


def test_not_ready_while_the_schema_is_behind_this_version(f, client):
    with f.db.engine.connect() as conn:
        cfg = f.db.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "-1")
        conn.commit()
    previous = SCRIPTS.get_revision(HEAD).down_revision
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["reason"] == f"the database schema is at {previous}, this version needs {HEAD}: run the migrations"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["schema"] == {"ok": False, "revision": previous, "head": HEAD}
    f.db.migrate()
    assert client.get("/readyz").status_code == 200


def test_not_ready_on_a_database_without_a_schema(f, client, tmp_path):
    with database_at(f, tmp_path / "empty.db"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"] == "the database has no schema: run the migrations"
    assert response.json()["checks"]["schema"] == {"ok": False, "revision": None, "head": HEAD}


def test_a_schema_newer_than_this_version_is_ready(f, client):
    with f.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["schema"] == {"ok": True, "revision": "f00d", "head": HEAD}


def test_a_hanging_check_is_not_ready_after_the_timeout_and_probes_share_it(f):
    readiness = Readiness(f, timeout_s=0.2)
    release, calls = threading.Event(), []

    def hanging():
        calls.append(1)
        release.wait(10)
        return None, {"database": {"ok": True, "ms": 0.0}}, ""

    readiness._probe = hanging

    async def probes(n: int):
        return await asyncio.gather(*(readiness.check() for _ in range(n)))

    answers = asyncio.run(probes(3))
    assert answers == [("the database did not answer within 0.2 s", {"database": {"ok": False, "error": "timeout"}})] * 3
    assert asyncio.run(probes(1))[0][0] is not None and len(calls) == 1  # still the one hanging check
    release.set()
    readiness._running.result(timeout=5)
    assert asyncio.run(probes(1)) == [(None, {"database": {"ok": True, "ms": 0.0}})]
    assert len(calls) == 2


def test_readyz_needs_no_token_and_is_declared_in_openapi(client):
    assert client.get("/readyz").status_code == 200  # no Authorization header
    operation = client.get("/openapi.json").json()["paths"]["/readyz"]["get"]
    assert operation["tags"] == ["nervous"]
    assert set(operation["responses"]) >= {"200", "503"}
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schema["NotReady"]["properties"]) == {"code", "reason", "checks"}
    assert set(schema["Ready"]["properties"]) == {"ok", "checks"}
