"""Training runs: `POST /factory/nodes/{id}/train` (and Neira's `/factory/cells/{id}/train`), and
`/training/…`: read, plot, continue, approve (optionally an earlier iteration: a rollback), reject.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ...domain.training import DecisionBody, TrainBody
from ...services import training
from ...services.bootstrap import Services
from ..auth import ActorDep, services
from ..json_body import JSONRoute
from ..schemas import ERRORS, PAGE_LIMIT, PAGE_OFFSET


router = APIRouter(tags=["training"], responses=ERRORS, route_class=JSONRoute)
RUN_ID = Path(description="training run id, e.g. tr-0123456789ab", max_length=40)
NODE_ID = Path(description="node id, e.g. analysis.classify.v1", max_length=200)


class Best(BaseModel):
    iteration: int
    metric: float | None
    params: dict[str, Any] | None


class Failure(BaseModel):
    index: int
    input: Any = None
    expected: Any = None
    got: Any = None
    error: str | None = None


class Iteration(BaseModel):
    n: int
    params: dict[str, Any]
    metric: float | None = Field(description="null: the evaluation failed (see error)")
    error: str | None
    examples: int
    failed: int = Field(description="examples wrong, failed or not comparable")
    failures: list[Failure] = Field(description=f"the first {20} of them: input, expected, got, error")
    ms: float
    at: str


class TrainingRun(BaseModel):
    model_config = ConfigDict(extra="allow")

    run_id: str
    node_id: str
    state: str = Field(description="queued, running, paused (safe-mode), waiting (for a human), converged, "
                                   "not_converged, failed, approved, rejected")
    outcome: str | None = Field(description="how the search ended: converged, not_converged or failed")
    reason: str | None
    objective: str
    maximize: bool
    field: str | None
    params: list[str]
    space: dict[str, Any]
    baseline: dict[str, Any]
    dataset: dict[str, Any]
    max_iterations: int
    target: float | None
    tolerance: float
    patience: int
    approve_every: int | None
    max_errors: int
    iterations_done: int
    best: Best | None
    needs_decision: bool
    decisions: list[dict[str, Any]]
    result_node: str | None
    created_by: str
    created_at: str
    updated_at: str
    finished_at: str | None


class TrainingRunDetail(TrainingRun):
    iterations: list[Iteration]


class Approved(TrainingRun):
    created: dict[str, Any] = Field(description="the new draft version: {id, state, route, sha256}")


def _train(actor: ActorDep, node_id: str = NODE_ID, body: TrainBody | None = Body(default=None),
           f: Services = Depends(services)):
    return training.start(f.training, actor, node_id, body.model_dump(exclude_unset=True) if body else {})


for _prefix, _name in (("/factory/nodes", "train"), ("/factory/cells", "train_cell")):
    router.add_api_route(
        f"{_prefix}/{{node_id}}/train", _train, methods=["POST"], status_code=202, response_model=TrainingRun,
        name=_name, include_in_schema=_prefix == "/factory/nodes",
        summary="Start a training run: search the node's tunable params on a labelled dataset until convergence",
        responses={404: {"description": "unknown node"}, 409: {"description": "not_trainable (quarantined)"},
                   422: {"description": "a bad body: the field is named (an unknown or non-tunable param, a "
                                        "dataset file outside <var>/datasets, …)"}})


@router.get("/training", response_model=list[TrainingRun], summary="Training runs, newest first")
def list_runs(actor: ActorDep,
              node: str | None = Query(default=None, max_length=200, description="only runs of this node"),
              state: str | None = Query(default=None, max_length=20),
              limit: int = PAGE_LIMIT, offset: int = PAGE_OFFSET, f: Services = Depends(services)):
    return training.list_runs(f.training, actor, node=node, state=state, limit=limit, offset=offset)


@router.get("/training/{run_id}", response_model=TrainingRunDetail, responses={404: {"description": "unknown run"}},
            summary="A training run with its iterations (params, metric, failures, time)")
def get_run(actor: ActorDep, run_id: str = RUN_ID, f: Services = Depends(services)):
    return training.get(f.training, actor, run_id)


@router.get("/training/{run_id}/plot.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "the metric per iteration, best marked"},
                       404: {"description": "unknown run, or no iteration yet"}},
            summary="A PNG plot of the run's metric per iteration")
def plot(actor: ActorDep, run_id: str = RUN_ID, f: Services = Depends(services)) -> Response:
    return Response(training.plot(f.training, actor, run_id), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/training/{run_id}/continue", response_model=TrainingRun,
             responses={404: {"description": "unknown run"},
                        409: {"description": "invalid_transition: the run is not waiting"}},
             summary="Let a run that waits at an approve_every checkpoint go on")
def continue_run(actor: ActorDep, run_id: str = RUN_ID, body: DecisionBody | None = None,
                 f: Services = Depends(services)):
    return training.continue_run(f.training, actor, run_id, body.model_dump(exclude_unset=True) if body else {})


@router.post("/training/{run_id}/approve", response_model=Approved,
             responses={404: {"description": "unknown run"},
                        409: {"description": "invalid_transition: the run has not finished, or was rejected"}},
             summary="Make the best params (or those of `iteration`: a rollback) a new draft version of the node")
def approve(actor: ActorDep, run_id: str = RUN_ID, body: DecisionBody | None = None,
            f: Services = Depends(services)):
    return training.approve(f.training, actor, run_id, body.model_dump(exclude_unset=True) if body else {})


@router.post("/training/{run_id}/reject", response_model=TrainingRun,
             responses={404: {"description": "unknown run"},
                        409: {"description": "invalid_transition: the run was approved or rejected already"}},
             summary="Discard the run's params (stopping it if it still runs); nothing is created")
def reject(actor: ActorDep, run_id: str = RUN_ID, body: DecisionBody | None = None,
           f: Services = Depends(services)):
    return training.reject(f.training, actor, run_id, body.model_dump(exclude_unset=True) if body else {})
