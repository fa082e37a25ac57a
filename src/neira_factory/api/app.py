"""The FastAPI app factory: routers, auth, error handling, body limit, metrics and OpenAPI."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.routing import APIRoute

from .. import __version__
from ..domain.templates import FabricationRequest, FactorySpec, NodeTemplate
from ..services.factory import Factory
from ..tokens import TokenRegistry
from . import errors
from .limits import BodyLimit
from .routers import admin, nodes


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


def create_app(factory: Factory, tokens: TokenRegistry) -> FastAPI:
    app = FastAPI(title="neira-factory", version=__version__,
                  description="Neira's Factory System: create nodes from descriptors, sandbox them, and move them "
                              "through Draft → Canary → Experimental → Stable with a human in the loop.")
    app.state.factory = factory
    app.state.tokens = tokens
    errors.install(app)
    for prefix, tag in (("/factory/nodes", "nodes"), ("/factory/cells", "cells (Neira's alias)")):
        app.include_router(nodes.build_router(), prefix=prefix, tags=[tag],
                           generate_unique_id_function=_unique_id(prefix.rsplit("/", 1)[-1]))
    app.include_router(admin.router)

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
