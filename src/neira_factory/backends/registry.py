"""Dispatch to the backend a template names."""
from __future__ import annotations

from typing import Any

from ..domain.errors import BadInput
from ..domain.templates import NodeTemplate
from .base import Backend, ExecContext


class Backends:
    def __init__(self, *backends: Backend):
        self._by_name = {b.name: b for b in backends}

    def get(self, name: str) -> Backend:
        backend = self._by_name.get(name)
        if backend is None:
            raise BadInput(f"backend {name!r} is not available here; available: {sorted(self._by_name)}",
                           field="backend")
        return backend

    def verify(self, template: NodeTemplate) -> None:
        """Re-check the artifacts a template points at (a wasm module's sha256); IntegrityError on a mismatch."""
        check = getattr(self.get(template.backend or "adapter"), "verify", None)
        if check is not None:
            check(template)

    def execute(self, template: NodeTemplate, data: Any, ctx: ExecContext) -> Any:
        return self.get(template.backend or "adapter").run(template, data, ctx)
