"""Training runs: `POST /factory/nodes/{id}/train` (and Neira's `/factory/cells/{id}/train`), and
`/training/…`: read, plot, continue, approve (optionally an earlier iteration: a rollback), reject.
"""
from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import Response

from ...domain.training import DecisionBody, TrainBody
from ...services import training
from ...services.bootstrap import Services
from ...services.training import Approved, TrainingRun, TrainingRunDetail
from ..auth import ActorDep, services
from ..json_body import JSONRoute
from ..schemas import ERRORS, PAGE_LIMIT, PAGE_OFFSET


router = APIRouter(tags=["training"], responses=ERRORS, route_class=JSONRoute)
RUN_ID = Path(description="training run id, e.g. tr-0123456789ab", max_length=40)
NODE_ID = Path(description="node id, e.g. analysis.classify.v1", max_length=200)


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
