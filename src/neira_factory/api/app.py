"""The FastAPI app factory: routers, auth, error handling, body limit, metrics and OpenAPI."""
from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.routing import APIRoute

from .. import __version__
from ..domain.templates import FabricationRequest, FactorySpec, NodeTemplate
from ..nervous.events import EventBus
from ..nervous.notify import WebhookNotifier
from ..services.factory import Factory
from ..services.supervisor import Supervisor
from ..tokens import TokenRegistry
from . import errors, ui
from .limits import BodyLimit
from .routers import admin, commands, events, invoke, nodes, organs, training


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


def _lifespan(factory: Factory):
    """What runs beside the API: the runtime's supervisor (flushes counters, measures candidates,
    rolls back or graduates them) and the webhook notifier (when NEIRA_NOTIFY_WEBHOOK_URL is set).

    At shutdown the supervisor stops and flushes what this replica counted, the bus is closed, so
    open /events streams end, and the notifier delivers what is queued (for a few seconds at most).
    """
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        restore_signals = _close_bus_on_exit_signal(factory.bus)
        supervisor, notifier = Supervisor(factory), None
        try:
            notifier = WebhookNotifier.from_settings(factory.settings, factory.bus,
                                                     factory.metrics.notify_deliveries)
            if notifier:
                notifier.start()
            supervisor.start()
            yield
        finally:
            restore_signals()
            await asyncio.to_thread(supervisor.stop)
            factory.bus.close()
            if notifier:
                await asyncio.to_thread(notifier.stop)

    return lifespan


def _close_bus_on_exit_signal(bus: EventBus) -> Callable[[], None]:
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
            try:  # not bus.close() here: the interrupted code may hold the bus's lock
                loop.call_soon_threadsafe(bus.close)
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


def create_app(factory: Factory, tokens: TokenRegistry) -> FastAPI:
    app = FastAPI(title="neira-factory", version=__version__,
                  description="Neira's Factory System: create nodes from descriptors, sandbox them, and move them "
                              "through Draft → Canary → Experimental → Stable with a human in the loop.",
                  lifespan=_lifespan(factory))
    app.state.factory = factory
    app.state.tokens = tokens
    errors.install(app)
    for prefix, tag in (("/factory/nodes", "nodes"), ("/factory/cells", "cells (Neira's alias)")):
        app.include_router(nodes.build_router(), prefix=prefix, tags=[tag],
                           generate_unique_id_function=_unique_id(prefix.rsplit("/", 1)[-1]))
    app.include_router(admin.router)
    app.include_router(events.router)
    app.include_router(invoke.router)
    app.include_router(organs.router)
    app.include_router(commands.router)
    app.include_router(training.router)
    ui.install(app)  # the admin UI at /admin

    @app.get("/metrics", tags=["nervous"], summary="Prometheus metrics", response_class=Response)
    def metrics() -> Response:
        return Response(factory.metrics.exposition(), media_type="text/plain; version=0.0.4")

    @app.get("/healthz", tags=["nervous"], summary="Liveness")
    def healthz() -> dict:
        return {"ok": True}

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_fabrication_schemas())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
    app.add_middleware(BodyLimit, max_bytes=factory.settings.max_body_bytes)
    return app
