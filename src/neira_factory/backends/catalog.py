"""The class that runs each backend kind of domain/backend_kinds.py (by its `name`), and the organ backend."""
from __future__ import annotations

from ..config import Settings
from .adapter import AdapterBackend
from .memory import MemoryBackend
from .memory_access import MemoryAccess
from .organ import OrganBackend
from .registry import Backends
from .script import ScriptBackend
from .wasm import WasmBackend

CATALOG = (AdapterBackend, ScriptBackend, WasmBackend, OrganBackend, MemoryBackend)


def build_backends(settings: Settings, memory: MemoryAccess) -> Backends:
    """One of each, under the settings' output cap; a class gets the collaborators its `needs` names
    (a memory node's store access)."""
    deps = {"memory": memory}
    return Backends(*(backend(**{name: deps[name] for name in getattr(backend, "needs", ())}) for backend in CATALOG),
                    max_output_bytes=settings.max_output_bytes)
