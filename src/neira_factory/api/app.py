"""The FastAPI app factory: routers, auth, error handling, body limit, metrics, liveness and readiness probes
and OpenAPI."""
from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from .. import __version__
from ..domain.templates import FabricationRequest, FactorySpec, NodeTemplate
from ..services.bootstrap import DatabaseReadiness, Services
from ..config.tokens import TokenRegistry
from . import errors, ui
from .limits import BodyLimit
from .routers import admin, commands, events, invoke, memory, nodes, organs, training

log = logging.getLogger(__name__)
READY_TIMEOUT_S = 2.0  # a database slower than this to answer makes the replica not ready


def _unique_id(prefix: str):
    def generate(route: APIRoute) -> str:
        return f"{prefix}_{route.name}"
    return generate


def _fabrication_schemas() -> dict:
    """Component schemas for the fabrication body, which the endpoints read as raw JSON (several shapes)."""
    ref = "#/components/schemas/{model}"
    components: dict = {}
    for model in (NodeTemplate, FactorySpec, FabricationRequest):
        schema = model.model_json_schema(ref_template=ref)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    components["FabricationBody"] = {
        "description": "Any of Neira's shapes: a flat template (+ optional backend and request fields), "
                       "{template}, {tpl}, or {spec: {backend, template}}.",
        "oneOf": [{"$ref": ref.format(model="NodeTemplate")}, {"$ref": ref.format(model="FabricationRequest")},
                  {"type": "object", "required": ["tpl"], "properties": {"tpl": {"$ref": ref.format(model="NodeTemplate")}}},
                  {"type": "object", "required": ["spec"], "properties": {"spec": {"$ref": ref.format(model="FactorySpec")}}}],
    }
    return components


def _lifespan(services: Services):
    """What runs beside the API: the composition root's workers (services/workers.py), started in order at
    start-up and stopped in reverse at shutdown: the webhook notifier (when NEIRA_NOTIFY_WEBHOOK_URL is set; it
    delivers what is pending, for a few seconds at most, and releases its lease), the event bus (closed, so open
    /events streams end), the event tail (publishes the other replicas' events from the event log), the
    runtime's supervisor (flushes counters, measures candidates, rolls back or graduates them; at shutdown it
    flushes what this replica counted) and the training workers (resume orphaned runs; at shutdown they give
    their runs up for the next replica).
    """
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        restore_signals = _close_bus_on_exit_signal(services.bus.close)
        try:
            await asyncio.to_thread(services.workers.start)
            yield
        finally:
            restore_signals()
            await asyncio.to_thread(services.workers.stop)

    return lifespan


def _close_bus_on_exit_signal(close_bus: Callable[[], None]) -> Callable[[], None]:
    """Close the bus as soon as SIGINT or SIGTERM arrives, then let the server's own handler run.

    uvicorn waits for open connections to finish before it runs the lifespan shutdown, so an open
    /events stream would hold a graceful shutdown up for ever; closing the bus when the signal
    arrives ends the streams and the shutdown goes on. Only where the server installed handlers
    (the main thread); returns what puts the previous handlers back.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    installed: dict[int, tuple[Callable, Callable]] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if not callable(previous):  # default or ignored: not ours to change
            continue

        def handler(signum, frame, previous=previous) -> None:
            try:  # not close_bus() here: the interrupted code may hold the bus's lock
                loop.call_soon_threadsafe(close_bus)
            except RuntimeError:  # the loop is closed already
                pass
            previous(signum, frame)

        signal.signal(sig, handler)
        installed[sig] = (handler, previous)

    def restore() -> None:
        for sig, (handler, previous) in installed.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, previous)

    return restore


class Ready(BaseModel):
    ok: bool
    checks: dict[str, dict[str, Any]] = Field(description="one entry per check, each with `ok` and details: "
                                                          "`database` (`ms`), `schema` (`revision`, `head`)")


class NotReady(BaseModel):
    code: str = Field(description="`not_ready`")
    reason: str = Field(description="the first failing check, in words")
    checks: dict[str, dict[str, Any]]


class Readiness:
    """`GET /readyz`: may the load balancer send this replica requests? Ready when the database answers a
    short query within READY_TIMEOUT_S and its schema is at this version's migration head (or at a revision
    this version does not know: a newer version migrated it first, which a rolling upgrade does).

    One check runs at a time, in a daemon thread: concurrent probes share it, and a check that hangs (an
    unreachable PostgreSQL) holds that one thread, neither a worker per probe nor the process at exit.
    The answer's changes are logged: a warning with the cause when the replica becomes not ready, and
    info when it is ready again. The answer itself names only the kind of failure (no hosts or
    messages: the endpoint needs no token).
    """

    def __init__(self, probe: Callable[[], DatabaseReadiness], timeout_s: float = READY_TIMEOUT_S):
        self.probe = probe  # the store's check (Database.readiness)
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._running: Future | None = None
        self._ready = True

    async def check(self) -> tuple[str | None, dict[str, dict[str, Any]]]:
        """(None, checks) when ready, else (reason, checks)."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await asyncio.shield(asyncio.wrap_future(self._start()))
        except TimeoutError:
            reason = f"the database did not answer within {self.timeout_s:g} s"
            self._note(reason, reason)
            return reason, {"database": {"ok": False, "error": "timeout"}}

    def _start(self) -> Future:
        with self._lock:
            if self._running is None or self._running.done():
                running: Future = Future()

                def work() -> None:
                    try:
                        reason, checks, detail = self._probe()
                    except Exception as exc:  # noqa: BLE001 - a defect here must not leave the probes waiting
                        reason, checks, detail = self._failure("readiness", "the readiness check failed", exc)
                    self._note(reason, detail)
                    running.set_result((reason, checks))

                self._running = running
                threading.Thread(target=work, name="neira-readyz", daemon=True).start()
            return self._running

    def _probe(self) -> tuple[str | None, dict[str, dict[str, Any]], str]:
        """(reason or None, checks, what the log says about a failure)."""
        found = self.probe()
        if found.error is not None:
            return self._failure("database", "the database is unreachable or failing", found.error)
        checks: dict[str, dict[str, Any]] = {"database": {"ok": True, "ms": found.ms}}
        schema = {"revision": found.revision, "head": found.head}
        checks["schema"] = {"ok": found.current, **schema}
        if found.current:
            return None, checks, ""
        reason = (f"the database schema is at {found.revision}, this version needs {found.head}"
                  if found.revision else "the database has no schema") + ": run the migrations"
        return reason, checks, reason

    @staticmethod
    def _failure(check: str, what: str, exc: Exception) -> tuple[str, dict[str, dict[str, Any]], str]:
        name = type(exc).__name__
        return f"{what} ({name})", {check: {"ok": False, "error": name}}, f"{what}: {name}: {exc}"

    def _note(self, reason: str | None, detail: str) -> None:
        with self._lock:
            changed, self._ready = self._ready != (reason is None), reason is None
        if changed and reason is None:
            log.info("ready again: the database answers and its schema is current")
        elif changed:
            log.warning("not ready: %s", detail)


def create_app(services: Services, tokens: TokenRegistry) -> FastAPI:
    app = FastAPI(title="neira-factory", version=__version__,
                  description="Neira's Factory System: create nodes from descriptors, sandbox them, and move them "
                              "through Draft → Canary → Experimental → Stable with a human in the loop.",
                  lifespan=_lifespan(services))
    app.state.services = services
    app.state.tokens = tokens
    errors.install(app)
    for prefix, tag in (("/factory/nodes", "nodes"), ("/factory/cells", "cells (Neira's alias)")):
        app.include_router(nodes.build_router(), prefix=prefix, tags=[tag],
                           generate_unique_id_function=_unique_id(prefix.rsplit("/", 1)[-1]))
    app.include_router(admin.router)
    app.include_router(events.router)
    app.include_router(invoke.router)
    app.include_router(memory.router)
    app.include_router(organs.router)
    app.include_router(commands.router)
    app.include_router(training.router)
    ui.install(app)  # the admin UI at /admin

    @app.get("/metrics", tags=["nervous"], summary="Prometheus metrics", response_class=Response)
    def metrics() -> Response:
        return Response(services.metrics.exposition(), media_type="text/plain; version=0.0.4")

    @app.get("/healthz", tags=["nervous"], summary="Liveness: the process serves HTTP (checks nothing else)")
    async def healthz() -> dict:  # on the event loop: busy request threads do not make the process look dead
        return {"ok": True}

    readiness = Readiness(services.db.readiness)

    @app.get("/readyz", tags=["nervous"], summary="Readiness: the database answers and its schema is current",
             response_model=Ready,
             responses={503: {"model": NotReady, "description": "not_ready: the database is unreachable, failing, "
                                                                 "slow, or its schema is behind this version"}})
    async def readyz() -> Response:
        reason, checks = await readiness.check()
        if reason is None:
            return JSONResponse({"ok": True, "checks": checks})
        return JSONResponse({"code": "not_ready", "reason": reason, "checks": checks}, status_code=503)

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_fabrication_schemas())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
    app.add_middleware(BodyLimit, max_bytes=services.settings.max_body_bytes)
    return app
