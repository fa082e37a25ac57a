"""Execution backends behind one protocol: adapter (no-code), script (Rhai), wasm (WASI), organ (catalog.py)."""
from .base import Backend, ExecContext, ExecutionError, ResolvedNode
from .registry import Backends

__all__ = ["Backend", "Backends", "ExecContext", "ExecutionError", "ResolvedNode"]
