"""``Scope``: the variables and constants a script's top level sees, kept across runs (Rhai's Scope).
It lives in ``runtime.scope`` (the runtime lends scopes to ``eval`` and ``!`` calls)."""

from __future__ import annotations

from .runtime.scope import Scope

__all__ = ["Scope"]
