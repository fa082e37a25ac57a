"""Request bodies, error bodies, and `InvokeResult` (invoke, the hot path, returns a dict this describes); every
other answer is a model defined next to its use case in services/ and returned by it as it is."""
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


class TransitionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "dry-run clean, looks good"}]})
    reason: str | None = Field(default=None, max_length=2000)
    force: bool = Field(default=False, description="admin only: skip a failed or missing analysis (needs a reason)")


class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"input": {"text": " Привет "}}]})
    input: Any = None


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


class OrganBuildBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"organ_template": {
        "id": "organ.echo.v1", "roles": ["echo"], "nodes": ["analysis.echo.v1"],
        "channels": [{"name": "main", "nodes": ["analysis.echo.v1"]}], "policies": {"gates": ["organ_echo"]}},
        "dryrun": True}]})
    organ_template: dict[str, Any] = Field(description="an OrganTemplate (Neira's `cells`/`pathways` welcome)")
    dryrun: bool = Field(default=True, description="true: only the report; false: create the organ as a draft")


class CommandBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"text": "создай голосовой орган v1"}, {"text": "upgrade vision to v2 (grayscale)"},
        {"text": "собери speak-pipeline normalize→phonemes→adapter"}]})
    text: str = Field(min_length=1, max_length=1000, description="a command in Russian or English")


class ConfirmBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm_token: str = Field(min_length=1, max_length=200)


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
