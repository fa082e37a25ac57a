"""Descriptors: NodeTemplate, FactorySpec, FabricationRequest and OrganTemplate.

Neira's own fields are accepted as its Rust server writes them; our extensions
(`backend`, `io`, the backend payloads of backend_kinds.py, `params`, `limits`,
`examples`, `rollout`) are optional and strict: an unknown field in them is an error.
"""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, create_model, field_validator,
                      model_serializer, model_validator)

from .backend_kinds import BACKEND_KINDS, DEFAULT_BACKEND, BackendName, Strict
from .ids import is_valid_id, route_of
from .integrations import MAX_REQUIREMENT_CHARS, MAX_REQUIRES, requirement_text, unique

Kind = Literal["analysis", "action", "memory"]
KIND_FIELDS: dict[str, Kind] = {"analysis_type": "analysis", "action_type": "action", "memory_type": "memory"}
MAX_EXAMPLES = 100
ORGAN_TIMEOUT_MS = 10_000


def node_ids(value: list[str]) -> list[str]:
    """Validator body: every entry is a node id."""
    for node_id in value:
        if not is_valid_id(node_id):
            raise ValueError(f"{node_id!r} is not a node id")
    return value


class IOSpec(Strict):
    """JSON Schemas of a node's input and output."""

    input: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    output: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class ParamSpec(Strict):
    """A declared parameter; tunable ones can be trained (within min/max/step or choices)."""

    value: Any = None
    min: float | None = None
    max: float | None = None
    step: float | None = Field(default=None, gt=0)
    choices: list[Any] | None = None
    tunable: bool = False

    @model_validator(mode="after")
    def _bounds(self) -> "ParamSpec":
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class Limits(Strict):
    max_operations: int = Field(default=1_000_000, gt=0, le=10_000_000_000)
    timeout_ms: int = Field(default=1000, gt=0, le=600_000)
    memory_mb: int = Field(default=64, gt=0, le=4096)
    fuel: int = Field(default=10_000_000, gt=0, le=10_000_000_000_000)


class Example(Strict):
    input: Any
    expected: Any = None

    @model_serializer(mode="wrap")
    def _keep_input(self, handler: Any) -> dict[str, Any]:
        """`input: null` is an input: it survives the stored document's exclude_none."""
        data = handler(self)
        data.setdefault("input", self.input)
        return data


def _former_names(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The JSON Schema lists a renamed field's former names (its later validation aliases) as deprecated."""
    for name, field in model.model_fields.items():
        if isinstance(field.validation_alias, AliasChoices):
            for former in field.validation_alias.choices[1:]:
                schema["properties"][former] = {**schema["properties"][name], "deprecated": True,
                                                "title": former.replace("_", " ").title(),
                                                "description": f"the former name of {name}"}


class SLO(Strict):
    """Absolute thresholds a candidate must meet; an unset one is not checked."""

    model_config = ConfigDict(json_schema_extra=_former_names)

    error_rate_max: float | None = Field(default=0.05, ge=0, le=1)
    p95_ms_max: float | None = Field(default=None, gt=0)
    p99_ms_max: float | None = Field(default=None, gt=0)
    operations_p95_max: float | None = Field(
        default=None, gt=0, validation_alias=AliasChoices("operations_p95_max", "max_operations_p95"),
        description="p95 of the operations (or fuel) per call, where the backend counts them; "
                    "formerly max_operations_p95, still accepted")
    memory_peak_mb_max: float | None = Field(default=None, gt=0,
                                             description="peak memory in MiB, where the backend measures it")
    mismatch_rate_max: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _one_operations_limit(cls, data: Any) -> Any:
        """Both spellings given: the same value is one limit, different values are an error."""
        if isinstance(data, dict) and "operations_p95_max" in data and "max_operations_p95" in data:
            data = dict(data)
            if data.pop("max_operations_p95") != data["operations_p95_max"]:
                raise ValueError("operations_p95_max and max_operations_p95 (its former name) disagree: give one")
        return data


class BaselinePolicy(Strict):
    """How a candidate is compared with the stable version of its route."""

    enabled: bool = True
    error_p_value: float = Field(default=0.05, gt=0, lt=1,
                                 description="one-sided Fisher exact test: fail when p is below this")
    latency_ratio_max: float = Field(default=1.5, ge=1, description="candidate p95 / stable p95")
    latency_slack_ms: float = Field(default=2.0, ge=0, description="a p95 difference below this never fails")
    memory_ratio_max: float = Field(default=1.5, ge=1, description="candidate memory peak / stable memory peak")
    memory_slack_mb: float = Field(default=8.0, ge=0,
                                   description="a memory peak difference (MiB) below this never fails")
    operations_ratio_max: float = Field(default=1.5, ge=1, description="candidate operations p95 / stable's")
    operations_slack: float = Field(default=1000, ge=0,
                                    description="an operations p95 difference below this never fails")


class RolloutPolicy(Strict):
    mode: Literal["split", "shadow"] = "split"
    canary_weight: float = Field(default=0.05, ge=0, le=1)
    experimental_weight: float = Field(default=0.5, ge=0, le=1)
    min_requests: int = Field(default=200, ge=0)
    slo: SLO = Field(default_factory=SLO)
    auto_graduate: bool = False
    auto_rollback: bool = True
    failure_limit: int = Field(default=0, ge=0)
    inconclusive_limit: int = Field(default=0, ge=0)
    baseline: BaselinePolicy = Field(default_factory=BaselinePolicy)
    serve_without_stable: bool = Field(
        default=False, description="let the best candidate serve a route that has no stable version")


class _Descriptor(BaseModel):
    # NodeTemplate's fields up to `io`; then come the payloads, then the rest (fields keep this order)
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(description="kind.namespace.name[.vN]", examples=["analysis.text_normalize.v1"])
    version: str = Field(min_length=1, max_length=64, examples=["0.1.0"])
    analysis_type: str | None = Field(default=None, min_length=1, max_length=100)
    action_type: str | None = Field(default=None, min_length=1, max_length=100)
    memory_type: str | None = Field(default=None, min_length=1, max_length=100)
    links: list[str] = Field(default_factory=list, max_length=64)
    confidence_threshold: float | None = Field(default=None, ge=0, le=1)
    draft_content: str | None = Field(default=None, max_length=100_000)
    metadata: dict[str, Any] = Field(default_factory=lambda: {"schema": "v1"})
    # extensions
    backend: BackendName | None = None
    route: str | None = Field(default=None, description="explicit route; default: id without its .vN suffix")
    io: IOSpec = Field(default_factory=IOSpec)


# an optional payload field per backend kind, named after it
_WithPayloads = create_model("_WithPayloads", __base__=_Descriptor,
                             **{name: (kind.payload | None, None) for name, kind in BACKEND_KINDS.items()})


class NodeTemplate(_WithPayloads):
    """One node version. Neira's fields first, then our optional extensions."""

    params: dict[str, ParamSpec] = Field(default_factory=dict)
    limits: Limits = Field(default_factory=Limits)
    examples: list[Example] = Field(default_factory=list, max_length=MAX_EXAMPLES)
    rollout: RolloutPolicy = Field(default_factory=RolloutPolicy)
    requires: list[Annotated[str, Field(max_length=MAX_REQUIREMENT_CHARS),
                             AfterValidator(requirement_text)]] = Field(
        default_factory=list, max_length=MAX_REQUIRES, examples=[["memory:memory.facts", "capability:factory_memory"]],
        description="integrations the node needs: metrics, immune, memory:ROUTE, node:ID, capability:NAME")

    _unique_requires = field_validator("requires")(lambda value: unique(value))

    @field_validator("id", "route")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_id(value):
            raise ValueError("must look like kind.namespace.name[.vN]: lowercase letters, digits, _ and -, dot-separated")
        return value

    _valid_links = field_validator("links")(lambda value: node_ids(value))

    @model_validator(mode="after")
    def _kind_and_backend(self) -> "NodeTemplate":
        given = [f for f in KIND_FIELDS if getattr(self, f)]
        if len(given) != 1:
            raise ValueError("exactly one of analysis_type, action_type, memory_type is required (it gives the kind)")
        prefix = self.id.split(".", 1)[0]
        if prefix in KIND_FIELDS.values() and prefix != self.kind:
            raise ValueError(f"id starts with {prefix!r} but {given[0]} makes it a {self.kind} node")
        payloads = [name for name in BACKEND_KINDS if getattr(self, name) is not None]
        if self.backend is None:
            if len(payloads) > 1:
                raise ValueError(f"several backend payloads ({', '.join(payloads)}): say which with `backend`")
            self.backend = payloads[0] if payloads else DEFAULT_BACKEND
        backend = BACKEND_KINDS[self.backend]
        if backend.payload_required and getattr(self, backend.name) is None:
            raise ValueError(backend.missing_payload())
        if self.id in self.links:
            raise ValueError("a node cannot link to itself")
        return self

    @property
    def kind(self) -> Kind:
        return next(KIND_FIELDS[f] for f in KIND_FIELDS if getattr(self, f))

    @property
    def node_type(self) -> str:
        return next(getattr(self, f) for f in KIND_FIELDS if getattr(self, f))

    @property
    def route_name(self) -> str:
        return self.route or route_of(self.id)

    def param_values(self) -> dict[str, Any]:
        return {name: spec.value for name, spec in self.params.items() if spec.value is not None}

    def to_document(self) -> dict[str, Any]:
        """The template as stored and shown: JSON-ready, without unset defaults noise (an empty `requires`
        is left out, so a template that declares none keeps the digest it had before the field existed)."""
        return self.model_dump(mode="json", exclude_none=True, exclude=None if self.requires else {"requires"})


class FactorySpec(BaseModel):
    """Neira's `{backend, template}` pair."""

    model_config = ConfigDict(extra="forbid")

    backend: BackendName | None = None
    template: NodeTemplate


REQUEST_FIELDS = ("reason", "requester", "dry_run", "hitl")


class FabricationRequest(BaseModel):
    """"Make me a node": a template plus why, who, and the dry-run / HITL flags."""

    model_config = ConfigDict(extra="forbid")

    template: NodeTemplate
    reason: str | None = Field(default=None, max_length=2000)
    requester: str | None = Field(default=None, max_length=200)
    dry_run: bool = False
    hitl: bool = True


def entry_ids(value: Any) -> Any:
    """Validator body (before): Neira writes a list of cells as ids or as objects with an `id`."""
    if isinstance(value, list):
        return [v.get("id") if isinstance(v, dict) else v for v in value]
    return value


class Channel(BaseModel):
    """One pathway of an organ: its nodes in order (Neira's `cells`, as ids or `{id}` objects)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000, description="Neira's note on the pathway")
    nodes: list[str] = Field(min_length=1, max_length=64, alias="cells")

    _entries = field_validator("nodes", mode="before")(lambda value: entry_ids(value))
    _node_ids = field_validator("nodes")(lambda value: node_ids(value))


class OrganPolicies(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: str | None = Field(default=None, max_length=50, description="Neira's informational stage, e.g. draft")
    hitl: bool = True
    gates: list[str] = Field(default_factory=list)


class OrganTemplate(BaseModel):
    """A typed graph of nodes with roles, ordered channels and the gates it needs."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    version: str = "0.1.0"
    roles: list[str] | dict[str, str] = Field(default_factory=list)
    nodes: list[str] = Field(default_factory=list, alias="cells")
    channels: list[Channel] = Field(default_factory=list, alias="pathways")
    policies: OrganPolicies = Field(default_factory=OrganPolicies)
    rollout: RolloutPolicy = Field(default_factory=RolloutPolicy)
    limits: Limits = Field(default_factory=lambda: Limits(timeout_ms=ORGAN_TIMEOUT_MS),
                           description="the whole organ's budget; each node keeps its own limits inside it")
    examples: list[Example] = Field(default_factory=list, max_length=MAX_EXAMPLES)
    metadata: dict[str, Any] = Field(default_factory=dict)

    backend: ClassVar[str] = "organ"
    kind: ClassVar[str] = "organ"

    @property
    def node_type(self) -> str:
        """The organ's name: `organ.voice.v1` → voice."""
        return route_of(self.id).split(".", 1)[-1]

    @property
    def route_name(self) -> str:
        return route_of(self.id)

    def to_document(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not is_valid_id(value) or not value.startswith("organ."):
            raise ValueError("must look like organ.name[.vN]")
        return value

    _entries = field_validator("nodes", mode="before")(lambda value: entry_ids(value))
    _node_ids = field_validator("nodes")(lambda value: node_ids(value))

    @model_validator(mode="after")
    def _needs_nodes(self) -> "OrganTemplate":
        if not self.nodes and not self.channels:
            raise ValueError("an organ needs `nodes` (or `cells`) or `channels` (or `pathways`)")
        if not self.nodes:
            seen: dict[str, None] = {}
            for channel in self.channels:
                seen.update(dict.fromkeys(channel.nodes))
            self.nodes = list(seen)
        return self
