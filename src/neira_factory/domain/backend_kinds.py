"""The backend kinds a template may name: one entry each, with its payload model next to it.

Templates (the `backend` names, the payload fields and their check), the capability gates and their defaults,
the command language's words, the admin UI and backends/catalog.py (the class that runs each kind) all read
`BACKEND_KINDS`: a new backend is its entry here and its class in the catalog.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    # a template's extension: an unknown field in it is an error
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RouteRule(Strict):
    """An adapter routing rule: when the JMESPath condition holds on the input, send it to `to`."""

    when: str = Field(min_length=1, max_length=1000, description="JMESPath condition over the input")
    to: str = Field(description="id of a linked node or a library implementation name")


class AdapterSpec(Strict):
    """Adapter backend payload: a built-in implementation or a chain of linked nodes."""

    impl: str | None = Field(default=None, description="library implementation; defaults to the template's *_type")
    chain: list[str] | None = Field(default=None, description="linked node ids run in order, each output feeding the next")
    map: dict[str, str] | None = Field(default=None, description="output field -> JMESPath over the input, applied before the call")
    routes: list[RouteRule] = Field(default_factory=list)
    fallback: str | None = Field(default=None, description="node id or impl used when confidence is below the threshold")


class ScriptSpec(Strict):
    source: str = Field(min_length=1, max_length=200_000)


class WasmSpec(Strict):
    module: str = Field(min_length=1, description="path of the .wasm file or its base64 content")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    abi: Literal["neira-json-v1", "wasi-command"] = "neira-json-v1"


class MemorySpec(Strict):
    """Memory backend payload: the store its records live in and how it is kept (docs/memory.md)."""

    store: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$",
                              description="the store's name; default: the node's route (its versions share it)")
    capacity: float = Field(default=100_000, allow_inf_nan=False,
                            description="records; beyond it the lowest-priority ones are evicted")
    language: Literal["ru", "en", "auto"] = Field(default="auto", description="how text is normalised for search")
    retention_days: float | None = Field(default=None, allow_inf_nan=False,
                                         description="records not updated or used for this long are pruned")


@dataclass(frozen=True)
class BackendKind:
    name: str  # a template's `backend:` and the field that holds its payload
    gate: str  # the capability gate that must be open to create and run its nodes
    default_state: str  # the gate's GateState value before capabilities.yaml or an admin sets it
    payload: type[Strict]
    payload_required: bool  # False: a template of this kind works without its payload
    words: tuple[str, ...]  # what commands call it besides its name (Russian words in any form)

    def missing_payload(self) -> str:
        return f"backend {self.name!r} needs a `{self.name}: {{{', '.join(self.payload.model_fields)}}}` payload"


BACKEND_KINDS: dict[str, BackendKind] = {kind.name: kind for kind in (
    BackendKind("adapter", "factory_adapter", "experimental", AdapterSpec, False, ("адаптер", "адаптерный")),
    BackendKind("script", "factory_script", "locked", ScriptSpec, True, ("скрипт", "скриптовый", "сценарий", "rhai")),
    BackendKind("wasm", "factory_wasm", "locked", WasmSpec, True, ("васм", "webassembly")),
    BackendKind("memory", "factory_memory", "experimental", MemorySpec, False, ("память", "памяти", "memory")),
)}
DEFAULT_BACKEND = "adapter"  # a template that names no backend and carries no payload
BackendName = Literal[tuple(BACKEND_KINDS)]  # type: ignore[valid-type]
