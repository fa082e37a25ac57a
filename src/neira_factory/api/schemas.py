"""Request bodies, error bodies and the response models that are not a use case's answer (those are defined
next to their use case in services/ and returned by it as they are)."""
from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from ..domain.capabilities import GateState


class ErrorBody(BaseModel):
    code: str
    reason: str
    capability: str | None = None
    required_role: str | None = None
    suggestions: list[str] | None = None
    field: str | None = None
    allowed: list[str] | None = None
    model_config = ConfigDict(extra="allow")


class NodeSummary(BaseModel):
    id: str
    route: str
    version: str
    kind: str
    node_type: str
    backend: str
    state: str
    prev_state: str | None
    artifact_sha256: str
    created_by: str
    created_at: str
    updated_at: str
    row_version: int


class Transition(BaseModel):
    action: str
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    forced: bool
    ts: str


class NodeDetail(NodeSummary):
    template: dict[str, Any]
    report: dict[str, Any] | None
    allowed: list[str]
    history: list[Transition]


class TransitionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "dry-run clean, looks good"}]})
    reason: str | None = Field(default=None, max_length=2000)
    force: bool = Field(default=False, description="admin only: skip a failed or missing analysis (needs a reason)")


class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"input": {"text": " Привет "}}]})
    input: Any = None


class RunResult(BaseModel):
    output: Any
    node_id: str
    version: str
    state: str
    dry_run: bool
    ms: float


class InvokeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"input": {"text": "hi"}, "key": "user-42"}]})
    input: Any = None
    key: str | None = Field(default=None, max_length=200,
                            description="sticky split: the same key always reaches the same version")


class InvokeResult(BaseModel):
    output: Any
    route: str
    node_id: str
    version: str
    state: str
    ms: float


class MetricVerdict(BaseModel):
    name: str
    value: float | int | None
    threshold: float | int | None
    verdict: str = Field(description="pass | fail | inconclusive")
    reason: str


class AnalysisReport(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    route: str
    state: str
    candidate: bool = Field(description="canary or experimental: the analysis decides its graduation")
    phase: str = Field(description="passed | failed | inconclusive | running")
    reason: str
    needs_human: bool
    verdict: str = Field(description="the current measurement: pass | fail | inconclusive")
    requests: int
    min_requests: int
    metrics: list[MetricVerdict]
    stats: dict[str, Any] = Field(description="this version's numbers in its current state, all replicas")
    baseline: dict[str, Any] | None = Field(description="the stable version compared with, and its numbers")
    windows: list[dict[str, Any]] = Field(description="per-window totals over all replicas, oldest first")
    history: list[dict[str, Any]] = Field(description="stored measurements, newest first")


class OrganBuildBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"organ_template": {
        "id": "organ.echo.v1", "roles": ["echo"], "nodes": ["analysis.echo.v1"],
        "channels": [{"name": "main", "nodes": ["analysis.echo.v1"]}], "policies": {"gates": ["organ_echo"]}},
        "dryrun": True}]})
    organ_template: dict[str, Any] = Field(description="an OrganTemplate (Neira's `cells`/`pathways` welcome)")
    dryrun: bool = Field(default=True, description="true: only the report; false: create the organ as a draft")


class OrganBuilt(BaseModel):
    organ_id: str | None
    state: str = Field(description="dry_run | draft")
    report: dict[str, Any] = Field(description="graph, roles, missing, fabrications, type_errors, risks, examples")


class OrganNodeHealth(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    state: str
    health: str = Field(description="ok | failing | no_data | down")
    reason: str


class OrganStatus(BaseModel):
    id: str
    route: str
    version: str
    state: str
    allowed: list[str]
    nodes: list[OrganNodeHealth]
    metrics: dict[str, Any]


class OrganRunResult(BaseModel):
    output: Any
    trace: list[dict[str, Any]] = Field(description="each node in order: {node, version, ms, ok}")
    organ_id: str
    version: str
    state: str
    dry_run: bool
    ms: float


class CommandBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"text": "создай голосовой орган v1"}, {"text": "upgrade vision to v2 (grayscale)"},
        {"text": "собери speak-pipeline normalize→phonemes→adapter"}]})
    text: str = Field(min_length=1, max_length=1000, description="a command in Russian or English")


class CommandPlan(BaseModel):
    intent: dict[str, Any] = Field(description="what was understood: action, target, name, version, options, steps")
    plan: dict[str, Any] = Field(description="summary and the exact steps a confirmation makes")
    policy: dict[str, Any] = Field(description="the PolicyEngine's answer for the caller, per step")
    report: dict[str, Any] | None = Field(description="dry-run reports of what would be created; status answers")
    diff: str | None = Field(description="for updates: a unified diff against the current version")
    confirm_token: str | None = Field(description="confirms exactly this plan, once, for 15 minutes; null when "
                                                  "the policy refuses it or there is nothing to confirm")


class ConfirmBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm_token: str = Field(min_length=1, max_length=200)


class CommandDone(BaseModel):
    summary: str
    done: list[dict[str, Any]]
    created: list[dict[str, Any]] = Field(description="the drafts made: [{id, state}]")


class CapabilityBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"state": "experimental"}]})
    state: GateState
    reason: str | None = Field(default=None, max_length=2000)


class SafeModeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"on": True, "reason": "incident"}]})
    on: bool
    reason: str | None = Field(default=None, max_length=2000)


RUN_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "not_runnable: the version is disabled or quarantined"},
    502: {"model": ErrorBody, "description": "execution_failed: the node failed (its kind and node are named)"},
    504: {"model": ErrorBody, "description": "the node ran past its hard timeout (execution_failed, kind timeout)"},
}
PAGE_LIMIT = Query(default=100, ge=1, le=1000, description="at most this many")
PAGE_OFFSET = Query(default=0, ge=0, le=2**31 - 1, description="skip this many")

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in ((401, "no or unknown token"), (403, "refused by policy"), (422, "bad input"))
}
