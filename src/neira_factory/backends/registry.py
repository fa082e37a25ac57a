"""Dispatch to the backend a template names."""
from __future__ import annotations

from typing import Any

from ..domain import json_values
from ..domain.errors import BadInput
from ..domain.references import run_gates
from ..domain.templates import NodeTemplate
from .base import Backend, ExecContext, ExecutionError


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
        """Run a template on its backend. What leaves is plain JSON (domain/json_values) or an
        ExecutionError: a defect of a backend or of the node's code is kind `exception`, an output that
        could be neither answered, compared nor stored is `bad_output`."""
        backend = self.get(template.backend or "adapter")
        if ctx.closed:
            for gate in run_gates(template):
                if gate in ctx.closed:
                    raise ExecutionError(f"{template.id} does not run: capability {gate} is off", kind="policy",
                                         node=template.id, capability=gate)
        try:
            output = backend.run(template, data, ctx)
        except ExecutionError:
            raise
        except Exception as exc:
            raise ExecutionError.defect(template.id, exc) from None
        found = json_values.problem(output, "output")
        if found is not None:
            raise ExecutionError(f"{template.id} returned something that is not plain JSON: {found[0]}: {found[1]}",
                                 kind="bad_output", node=template.id)
        return output
