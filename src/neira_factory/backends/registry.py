"""Dispatch to the backend a template names, and the guard on what comes back.

Every run goes through `Backends.execute`, so an output is measured here before anything serialises,
scans, compares or stores it: as the JSON text it would become, every shared reference counted each time
(`json_values.serialized_size`, which stops at the cap). A node's cap is `max_output_bytes`
(NEIRA_MAX_OUTPUT_BYTES) or its own `limits.memory_mb`, whichever is lower; an output past it is
`bad_output`. A failure's detail (a script's thrown value) is held to the same cap: what does not fit is
left out of the error, and named in its `dropped`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import Settings
from ..domain import json_values
from ..domain.errors import BadInput
from ..domain.references import run_gates
from ..domain.templates import NodeTemplate
from .base import Backend, ExecContext, ExecutionError

MIB = 1024 * 1024


class Backends:
    def __init__(self, *backends: Backend, max_output_bytes: int = Settings.max_output_bytes):
        self._by_name = {b.name: b for b in backends}
        self.max_output_bytes = max_output_bytes

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def get(self, name: str) -> Backend:
        backend = self._by_name.get(name)
        if backend is None:
            raise BadInput(f"backend {name!r} is not available here; available: {sorted(self._by_name)}",
                           field="backend")
        return backend

    def _hook(self, template: NodeTemplate, name: str) -> Callable[..., Any] | None:
        """The optional method `name` of the template's backend (base.py lists them), or None."""
        return getattr(self.get(template.backend or "adapter"), name, None)

    def policy_action(self, template: NodeTemplate, data: Any) -> str:
        """The policy action invoking `template` on `data` needs."""
        hook = self._hook(template, "policy_action")
        return hook(template, data) if hook is not None else "routes.invoke"

    def mirrors(self, template: NodeTemplate, data: Any) -> bool:
        """Whether a shadow copy of `data` runs on `template` (a memory write does not)."""
        hook = self._hook(template, "mirrors")
        return hook(template, data) if hook is not None else True

    def comparable(self, template: NodeTemplate, output: Any) -> Any:
        """What a shadow's output is compared by (a memory search: the ids it found, in order)."""
        hook = self._hook(template, "comparable")
        return hook(template, output) if hook is not None else output

    def flush(self) -> None:
        """Write what the backends buffer (a memory store's usage counters)."""
        for backend in self._by_name.values():
            if (hook := getattr(backend, "flush", None)) is not None:
                hook()

    def verify(self, template: NodeTemplate) -> None:
        """Re-check the artifacts a template points at (a wasm module's sha256); IntegrityError on a mismatch."""
        check = self._hook(template, "verify")
        if check is not None:
            check(template)

    def output_cap(self, template: NodeTemplate) -> int:
        """The most characters the template's output may take as JSON."""
        return min(self.max_output_bytes, template.limits.memory_mb * MIB)

    def execute(self, template: NodeTemplate, data: Any, ctx: ExecContext) -> Any:
        """Run a template on its backend. What leaves is plain JSON (domain/json_values) or an
        ExecutionError: a defect of a backend or of the node's code is kind `exception`, an output that
        could be neither answered, compared nor stored is `bad_output`. An organ's answer that is its last
        member's output, checked under a cap no higher than the organ's, is not measured twice."""
        backend = self.get(template.backend or "adapter")
        cap = self.output_cap(template)
        if ctx.closed:
            for gate in run_gates(template):
                if gate in ctx.closed:
                    raise ExecutionError(f"{template.id} does not run: capability {gate} is off", kind="policy",
                                         node=template.id, capability=gate)
        try:
            output = backend.run(template, data, ctx)
        except ExecutionError as exc:
            _hold_detail(exc, cap)
            raise
        except Exception as exc:
            raise ExecutionError.defect(template.id, exc) from None
        checked = ctx.checked
        if checked is not None and checked[0] is output and checked[1] <= cap:
            return output
        flat = json_values.flat_size(output)  # measured and checked in one pass, when it is the commonest shape
        size = json_values.serialized_size(output, cap) if flat is None else flat
        if size > cap:
            raise ExecutionError(f"{template.id} returned an output of more than {cap} characters as JSON (at least "
                                 f"{size}; the cap is NEIRA_MAX_OUTPUT_BYTES or the node's memory_mb, whichever is "
                                 "lower)", kind="bad_output", node=template.id, limit_bytes=cap)
        found = json_values.problem(output, "output") if flat is None else None
        if found is not None:
            raise ExecutionError(f"{template.id} returned something that is not plain JSON: {found[0]}: {found[1]}",
                                 kind="bad_output", node=template.id)
        return output


def _hold_detail(error: ExecutionError, cap: int) -> None:
    """Leave out of `error` the parts of its detail past `cap` (measured in order), naming them in `dropped`."""
    left, dropped = cap, []
    for key in list(error.extra):
        size = json_values.serialized_size(error.extra[key], left)
        if size > left:
            del error.extra[key]
            dropped.append(key)
        else:
            left -= size
    if dropped:
        error.extra["dropped"] = dropped
