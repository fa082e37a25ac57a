"""The class that runs each backend kind of domain/backend_kinds.py (by its `name`), and the organ backend."""
from __future__ import annotations

from ..config import Settings
from .adapter import AdapterBackend
from .organ import OrganBackend
from .registry import Backends
from .script import ScriptBackend
from .wasm import WasmBackend

CATALOG = (AdapterBackend, ScriptBackend, WasmBackend, OrganBackend)


def build_backends(settings: Settings) -> Backends:
    """One of each, under the settings' output cap."""
    return Backends(*(backend() for backend in CATALOG), max_output_bytes=settings.max_output_bytes)
