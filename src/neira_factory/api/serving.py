"""The app `neira-factory serve` runs: uvicorn builds it (`factory=True`) over what `services.serving.start`
prepared."""
from __future__ import annotations

from fastapi import FastAPI

from ..services import serving
from .app import create_app


def app() -> FastAPI:
    started = serving.started()
    return create_app(started.services, started.tokens)
