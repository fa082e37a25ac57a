"""The admin UI at /admin: server-rendered pages (Jinja2) over the same services as the API and the CLI.

`install(app)` mounts it on the FastAPI app: the static files, then the pages (whose catch-all
answers unknown /admin paths with a page, so the static mount must come first).
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .session import SessionSigner

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    from .pages import router

    app.state.ui_sessions = SessionSigner(app.state.services.settings, app.state.tokens)
    app.mount("/admin/static", StaticFiles(directory=STATIC), name="admin-static")
    app.include_router(router)
