"""Training requests: what `POST /factory/nodes/{id}/train` accepts, and what a human's decision on a run says."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Objective = Literal["accuracy", "f1", "mse", "exact_match", "mrr"]
MAX_ITERATIONS = 1000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainBody(Strict):
    """A training run's request. Every field has a default, so `{}` trains a node on its own examples."""

    dataset: Any = Field(default=None, description="inline `[{input, expected}]`, `{file: NAME.jsonl}` (a JSONL file "
                         "under the server's <var>/datasets), or omitted: the node template's examples that have "
                         "`expected`")
    objective: Objective = Field(default="exact_match", description="accuracy, f1 (macro over labels), mse "
                                 "(minimised), exact_match or mrr (mean reciprocal rank of `expected` in a "
                                 "ranked list, default field results[*].id)")
    field: str | None = Field(default=None, min_length=1, max_length=500,
                              description="JMESPath over the output (and a dict `expected`) naming what is compared; "
                                          "default: see docs/training.md")
    params: list[str] | None = Field(default=None, min_length=1, max_length=64,
                                     description="the tunable params to search; default: all tunable ones")
    max_iterations: int = Field(default=20, ge=1, le=MAX_ITERATIONS)
    target: float | None = Field(default=None, allow_inf_nan=False,
                                 description="stop as converged once the best metric reaches this")
    tolerance: float = Field(default=1e-3, ge=0, allow_inf_nan=False,
                             description="an iteration that improves the best metric by less than this is stale")
    patience: int = Field(default=3, ge=1, le=MAX_ITERATIONS,
                          description="this many stale iterations in a row: converged")
    approve_every: int | None = Field(default=None, ge=1, le=MAX_ITERATIONS,
                                      description="wait for a human (POST /training/{run_id}/continue) every k "
                                                  "iterations")
    max_errors: int = Field(default=3, ge=1, le=100,
                            description="this many failed evaluations in a row: the run fails")
    reason: str | None = Field(default=None, max_length=2000, description="why; kept in the audit trail")

    @field_validator("params")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("names a param twice")
        return value


class DecisionBody(Strict):
    """A human's decision on a run: approve the best params (or those of `iteration`), or reject."""

    reason: str | None = Field(default=None, max_length=2000)
    iteration: int | None = Field(default=None, ge=1, le=MAX_ITERATIONS, description="approve this iteration's params instead of the "
                                  "best ones (a rollback to an earlier param set)")
