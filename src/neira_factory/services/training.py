"""The Training Orchestrator's use cases: start a run, read it, plot it, and the human's decisions
(continue, approve — optionally an earlier iteration's params —, reject). The answers are `TrainingRun`,
`TrainingRunDetail` (with its iterations) and `Approved`. The workers that drive runs in the background are
services/trainer.py.

A run trains a snapshot of the node's template (its artifact) on a snapshot of the dataset (an
artifact too). Each iteration runs every example through the node's real backend, under its
watchdog and sandbox limits, with side effects off, on a copy of the template whose param values are
replaced; it is written to the database as it happens, with the run's best so far, in one
transaction. Nothing about the node changes until a human approves: approval creates a new version
of the node (`….vN+1`, same route, the chosen params) as a Draft through the ordinary fabrication
use case, so it follows the normal lifecycle.

Workers (services/trainer.py): each run is driven by one daemon thread of the replica that owns it (at
most MAX_RUNNING at once; the others wait as `queued`). The owner writes a heartbeat as it goes; a run in `queued`,
`running` or `paused` whose owner has been silent for LEASE_S (a crashed or stopped replica) is taken
over by the next replica that scans (at start-up, then every SCAN_S) and **resumed**: the search is
deterministic, so it is replayed from the recorded iterations (none is evaluated twice) and goes on
from there. While safe-mode is on, or a gate the node needs is closed (its backend's kill switch), a
run pauses before its next iteration and resumes when that is over.
"""
from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ..domain.actors import Actor
from ..domain.capabilities import TRAINING_GATE
from ..domain.errors import BadInput, Conflict, InvalidTransition, NotFound
from ..domain.events import Event
from ..domain.ids import route_of, version_number
from ..domain.lifecycle import State
from ..domain.references import self_edit_gates
from ..domain.shapes import validate
from ..domain.templates import NodeTemplate, ParamSpec
from ..domain.training import DecisionBody, TrainBody
from ..immune.integrity import verified
from ..nervous.metrics import FactoryMetrics
from ..domain.clock import now
from ..training import datasets, objectives
from ..training.datasets import Sample
from ..training.plot import metric_png
from ..training.search import build_space
from ..store.templates import load_template, require_node
from . import fabricate
from .ports import Authorize, Read, Write, UnitOfWork

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running", "paused")  # a worker drives it (or will)
FINISHED = ("converged", "not_converged", "failed")  # the search ended; a human decides
APPROVABLE = (*FINISHED, "approved")  # approving again (another iteration) is a rollback
REJECTABLE = (*ACTIVE, "waiting", *FINISHED)
STATES = (*ACTIVE, "waiting", *FINISHED, "approved", "rejected")
DATASETS_DIR = "datasets"  # {"file": NAME} is read from <var_dir>/datasets
MAX_DATASET_BYTES = 32 * 1024 * 1024
MAX_RUNNING = 4
LEASE_S = 30.0
HEARTBEAT_S = 5.0
SCAN_S = 10.0
PAUSE_POLL_S = 0.2


class Launcher(Protocol):
    def launch(self, run_id: str) -> None: ...


class Trainers(Protocol):
    def current(self) -> Launcher: ...


@dataclass(frozen=True)
class Deps:
    """What the training use cases use: units of work, the policy, the metrics, this replica's name and
    datasets directory, fabrication (approve creates a draft) and the replica's training workers."""

    read: Read
    write: Write
    authorize: Authorize
    metrics: FactoryMetrics
    replica: str
    var_dir: Path
    fabricate: fabricate.Deps
    trainers: Trainers


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


# ---- starting a run ----------------------------------------------------------------------------------

def start(f: Deps, actor: Actor, node_id: str, body: dict[str, Any] | None) -> TrainingRun:
    """Validate the request, snapshot the template and the dataset, record the run (queued) and hand it
    to a worker. Returns the run (without iterations)."""
    if body is not None and not isinstance(body, dict):
        raise BadInput("body: expected a JSON object", field="body")
    spec = validate(TrainBody, body or {})
    obj = objectives.objective(spec.objective)
    objectives.compile_field(spec.field)
    with f.read() as uow:
        f.authorize(uow, actor, "training.start")
        record = require_node(uow, node_id)
        f.authorize(uow, actor, "training.start", gates=(TRAINING_GATE, *self_edit_gates(record.id, record.route)))
        if record.is_organ:
            raise BadInput(f"{node_id} is an organ: organs have no params; train its nodes", field="node_id")
        if record.state == State.QUARANTINED.value:
            raise Conflict(f"{node_id} is quarantined and is not trained", code="not_trainable", state=record.state)
        template = load_template(uow, record)
    dims = build_space(template.params, spec.params)
    samples = _dataset(f, spec.dataset, template)
    content = datasets.to_jsonl(samples)
    dataset_sha = datasets.sha256(content)
    run_id = f"tr-{secrets.token_hex(6)}"
    source = ("examples" if spec.dataset is None else
              f"file:{spec.dataset['file']}" if isinstance(spec.dataset, dict) else "inline")
    stored = {
        "objective": obj.name, "maximize": obj.maximize, "field": spec.field,
        "params": [d.name for d in dims], "space": {d.name: d.describe() for d in dims},
        "max_iterations": spec.max_iterations, "target": spec.target, "tolerance": spec.tolerance,
        "patience": spec.patience, "approve_every": spec.approve_every, "max_errors": spec.max_errors,
        "dataset": {"source": source, "size": len(samples), "sha256": dataset_sha},
        "baseline": {d.name: template.params[d.name].value for d in dims},
    }
    with f.write() as uow:
        f.authorize(uow, actor, "training.start")
        uow.artifacts.put(dataset_sha, content, datasets.DATASET_MEDIA_TYPE)
        uow.training.add_run(id=run_id, node_id=node_id, artifact_sha256=record.artifact_sha256,
                             dataset_sha256=dataset_sha, objective=obj.name, spec=stored, state="queued",
                             created_by=actor.name, owner=f.replica, heartbeat_at=now())
        uow.audit.append(actor.name, "training.start", f"training:{run_id}", reason=spec.reason, after={
            "node": node_id, "objective": obj.name, "params": stored["params"], "dataset": stored["dataset"],
            "max_iterations": spec.max_iterations, "target": spec.target})
        uow.announce(Event("training.started", run_id, {"node": node_id, "objective": obj.name,
                                                        "params": stored["params"], "actor": actor.name}))
        run = uow.training.get_run(run_id)
    f.trainers.current().launch(run_id)
    return present(run)


def _dataset(f: Deps, given: Any, template: NodeTemplate) -> list[Sample]:
    if given is None:
        return datasets.from_examples(template.examples, template.id)
    if isinstance(given, dict):
        unknown = sorted(set(given) - {"file"})
        if unknown or not isinstance(given.get("file"), str) or not given["file"]:
            raise BadInput("dataset: expected [{input, expected}] or {file: NAME.jsonl}", field="dataset")
        return datasets.from_text(read_dataset_file(f, given["file"]))
    return datasets.from_items(given)


def datasets_root(f: Deps) -> Path:
    return (f.var_dir / DATASETS_DIR).resolve()


def read_dataset_file(f: Deps, name: str) -> str:
    """A dataset file under <var_dir>/datasets (relative to it, or absolute inside it); anything that
    resolves elsewhere (.., a symlink out, another absolute path) is refused."""
    root = datasets_root(f)
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise BadInput(f"dataset.file: must be inside the server's datasets directory {root}", field="dataset.file")
    try:
        if path.stat().st_size > MAX_DATASET_BYTES:
            raise BadInput(f"dataset.file: larger than {MAX_DATASET_BYTES} bytes", field="dataset.file")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"dataset.file: {name} does not exist under {root}", field="dataset.file") from None
    except IsADirectoryError:
        raise BadInput(f"dataset.file: {name} is a directory", field="dataset.file") from None
    except UnicodeDecodeError:
        raise BadInput(f"dataset.file: {name} is not UTF-8 text", field="dataset.file") from None
    except OSError as exc:
        raise BadInput(f"dataset.file: cannot read {name}: {exc.strerror}", field="dataset.file") from None


# ---- reading ----------------------------------------------------------------------------------------

def _fields(run: dict[str, Any]) -> dict[str, Any]:
    """A stored run as the fields of a `TrainingRun`."""
    spec = run["spec"]
    best = None if run["best_iteration"] is None else {
        "iteration": run["best_iteration"], "metric": run["best_metric"], "params": run["best_params"]}
    return {
        "run_id": run["id"], "node_id": run["node_id"], "state": run["state"], "outcome": run["outcome"],
        "reason": run["reason"], "objective": run["objective"], "maximize": spec["maximize"],
        "field": spec["field"], "params": spec["params"], "space": spec["space"], "baseline": spec["baseline"],
        "dataset": spec["dataset"], "max_iterations": spec["max_iterations"], "target": spec["target"],
        "tolerance": spec["tolerance"], "patience": spec["patience"], "approve_every": spec["approve_every"],
        "max_errors": spec["max_errors"], "iterations_done": run["iterations"], "best": best,
        "needs_decision": run["state"] in ("waiting", *FINISHED),
        "decisions": run["decisions"], "result_node": run["result_node"], "created_by": run["created_by"],
        "created_at": run["created_at"].isoformat(), "updated_at": run["updated_at"].isoformat(),
        "finished_at": run["finished_at"].isoformat() if run["finished_at"] else None,
    }


def present(run: dict[str, Any]) -> TrainingRun:
    return TrainingRun.model_validate(_fields(run))


def run_of(uow: UnitOfWork, run_id: str) -> dict[str, Any]:
    run = uow.training.get_run(run_id)
    if run is None:
        raise NotFound(f"training run {run_id} does not exist", run_id=run_id)
    return run


def get(f: Deps, actor: Actor, run_id: str) -> TrainingRunDetail:
    with f.read() as uow:
        f.authorize(uow, actor, "training.read")
        run = run_of(uow, run_id)
        iterations = [{k: v for k, v in it.items() if k != "run_id"} for it in uow.training.iterations(run_id)]
    return TrainingRunDetail.model_validate({**_fields(run), "iterations": iterations})


def list_runs(f: Deps, actor: Actor, *, node: str | None = None, state: str | None = None, limit: int = 100,
              offset: int = 0) -> list[TrainingRun]:
    if state is not None and state not in STATES:
        raise BadInput(f"state: one of {list(STATES)}", field="state")
    with f.read() as uow:
        f.authorize(uow, actor, "training.read")
        return [present(r) for r in uow.training.list_runs(node_id=node, state=state, limit=limit, offset=offset)]


def plot(f: Deps, actor: Actor, run_id: str) -> bytes:
    with f.read() as uow:
        f.authorize(uow, actor, "training.read")
        run = run_of(uow, run_id)
        iterations = uow.training.iterations(run_id)
    if not iterations:
        raise NotFound(f"training run {run_id} has no iterations yet", run_id=run_id, state=run["state"])
    spec = run["spec"]
    title = f"{run['id']} · {run['node_id']} · {run['state']}"
    return metric_png(iterations, title=title, objective=run["objective"], maximize=spec["maximize"],
                      target=spec["target"], best=run["best_iteration"], subtitle=run["reason"])


# ---- human decisions ----------------------------------------------------------------------------------

def _decision(actor: Actor, action: str, reason: str | None, **extra: Any) -> dict[str, Any]:
    return {"action": action, "actor": actor.name, "reason": reason, "at": now().isoformat(), **extra}


def continue_run(f: Deps, actor: Actor, run_id: str, body: dict[str, Any] | None = None) -> TrainingRun:
    """A human lets a run that waits at an `approve_every` checkpoint go on."""
    decision = validate(DecisionBody, body or {})
    with f.write() as uow:
        run = run_of(uow, run_id)
        f.authorize(uow, actor, "training.decide", owner=run["created_by"])
        if run["state"] != "waiting":
            raise InvalidTransition(f"run {run_id} is {run['state']}; only a waiting run continues", state=run["state"])
        done = uow.training.update_run(run_id, states=("waiting",), row_version=run["row_version"], state="queued",
                                       owner=f.replica, heartbeat_at=now(),
                                       decisions=[*run["decisions"], _decision(actor, "continue", decision.reason,
                                                                                iteration=run["iterations"])])
        if not done:
            raise Conflict(f"run {run_id} changed meanwhile; read it again", code="conflict")
        uow.audit.append(actor.name, "training.continue", f"training:{run_id}", reason=decision.reason,
                         before={"state": "waiting", "iterations": run["iterations"]}, after={"state": "queued"})
        uow.announce(Event("training.decided", run_id, {"decision": "continue", "node": run["node_id"],
                                                        "iteration": run["iterations"], "actor": actor.name}))
        run = uow.training.get_run(run_id)
    f.trainers.current().launch(run_id)
    return present(run)


def reject(f: Deps, actor: Actor, run_id: str, body: dict[str, Any] | None = None) -> TrainingRun:
    """Discard a run's params (stopping it, if it is still going). Nothing is created."""
    decision = validate(DecisionBody, body or {})
    if decision.iteration is not None:
        raise BadInput("iteration: a rejection discards the whole run", field="iteration")
    with f.write() as uow:
        run = run_of(uow, run_id)
        f.authorize(uow, actor, "training.decide", owner=run["created_by"])
        if run["state"] not in REJECTABLE:
            raise InvalidTransition(f"run {run_id} is {run['state']} and cannot be rejected", state=run["state"])
        stamp = now()
        done = uow.training.update_run(
            run_id, row_version=run["row_version"], state="rejected", owner=None, finished_at=run["finished_at"] or stamp,
            reason=run["reason"] or f"rejected by {actor.name} while {run['state']}",
            decisions=[*run["decisions"], _decision(actor, "reject", decision.reason)])
        if not done:
            raise Conflict(f"run {run_id} changed meanwhile; read it again", code="conflict")
        uow.audit.append(actor.name, "training.reject", f"training:{run_id}", reason=decision.reason,
                         before={"state": run["state"], "best": run["best_params"]}, after={"state": "rejected"})
        uow.announce(Event("training.decided", run_id, {"decision": "reject", "node": run["node_id"],
                                                        "actor": actor.name}))
        stopped = run["state"] not in FINISHED  # a finished run was counted when its search ended
        run = uow.training.get_run(run_id)
    if stopped:
        f.metrics.training_runs_finished.labels("rejected").inc()
    return present(run)


def approve(f: Deps, actor: Actor, run_id: str, body: dict[str, Any] | None = None) -> Approved:
    """Make the best params (or those of `iteration`) a new version of the node, as a Draft created by the
    ordinary fabrication use case (gate, dry-run and policy apply). A run can be approved again for
    another iteration: that is how an earlier param set is restored."""
    decision = validate(DecisionBody, body or {})
    with f.read() as uow:
        run = run_of(uow, run_id)
        f.authorize(uow, actor, "training.decide", owner=run["created_by"])
        if run["state"] not in APPROVABLE:
            raise InvalidTransition(f"run {run_id} is {run['state']}; approve needs a finished run (converged, "
                                    "not_converged or failed)", state=run["state"])
        n = decision.iteration if decision.iteration is not None else run["best_iteration"]
        if n is None:
            raise Conflict(f"run {run_id} has no successful iteration to approve", code="nothing_to_approve")
        chosen = uow.training.iteration(run_id, n)
        if chosen is None:
            raise BadInput(f"iteration: run {run_id} has iterations 1..{run['iterations']}", field="iteration")
        if chosen["metric"] is None:
            raise BadInput(f"iteration: iteration {n} failed ({chosen['error']}); choose one that was evaluated",
                           field="iteration")
        template = snapshot(uow, run)
        new_id = next_version_id(uow, template.id)
    trained = trained_template(template, chosen["params"], new_id, run, n, chosen["metric"])
    reason = decision.reason or f"training run {run_id}: iteration {n} ({run['objective']} {chosen['metric']:.6g})"
    created = fabricate.create(f.fabricate, actor, {"template": trained.to_document(), "reason": reason,
                                          "requester": actor.name})
    with f.write() as uow:
        current = run_of(uow, run_id)
        entry = _decision(actor, "approve", decision.reason, iteration=n, node_id=new_id, params=chosen["params"],
                          metric=chosen["metric"])
        done = uow.training.update_run(run_id, states=APPROVABLE, row_version=current["row_version"], state="approved",
                                       result_node=new_id, decisions=[*current["decisions"], entry])
        if not done:
            raise Conflict(f"run {run_id} changed meanwhile; the draft {new_id} was created all the same",
                           code="conflict", node_id=new_id)
        uow.audit.append(actor.name, "training.approve", f"training:{run_id}", reason=decision.reason,
                         before={"state": current["state"], "node": run["node_id"]},
                         after={"state": "approved", "iteration": n, "params": chosen["params"],
                                "metric": chosen["metric"], "draft": new_id})
        uow.announce(Event("training.decided", run_id, {"decision": "approve", "node": run["node_id"],
                                                        "iteration": n, "draft": new_id, "actor": actor.name}))
        run = uow.training.get_run(run_id)
    return Approved.model_validate({**_fields(run), "created": created.model_dump()})


def snapshot(uow: UnitOfWork, run: dict[str, Any]) -> NodeTemplate:
    """The template the run trains, re-verified against its sha256."""
    content = uow.artifacts.get(run["artifact_sha256"]) or b""
    return NodeTemplate.model_validate_json(verified(content, run["artifact_sha256"], f"node {run['node_id']}"))


def next_version_id(uow: UnitOfWork, node_id: str) -> str:
    """`….vN+1`, N the highest version of this id's family that exists (an id without `.vN` is v1)."""
    base = route_of(node_id)
    highest = version_number(node_id) or 1
    for record in uow.nodes.list(search=base, limit=10_000):
        if route_of(record.id) == base:
            highest = max(highest, version_number(record.id) or 1)
    return f"{base}.v{highest + 1}"


def _bump(version: str, tag: str) -> str:
    parts = version.split("+", 1)[0].split("-", 1)[0].split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{parts[0]}.{parts[1]}.{int(parts[2]) + 1}"
    return f"{version}+{tag}"[:64]


def with_params(template: NodeTemplate, values: dict[str, Any]) -> NodeTemplate:
    """A copy of the template whose param values are replaced (nothing else changes)."""
    params: dict[str, ParamSpec] = {name: spec.model_copy(update={"value": values[name]}) if name in values else spec
                                    for name, spec in template.params.items()}
    return template.model_copy(update={"params": params})


def trained_template(template: NodeTemplate, values: dict[str, Any], new_id: str, run: dict[str, Any], n: int,
                     metric: float) -> NodeTemplate:
    metadata = {**template.metadata, "training": {"run_id": run["id"], "from": template.id, "iteration": n,
                                                  "objective": run["objective"], "metric": metric}}
    return with_params(template, values).model_copy(update={
        "id": new_id, "version": _bump(template.version, run["id"]), "metadata": metadata})


# ---- the workers ----------------------------------------------------------------------------------------

def jsonable(value: Any) -> Any:
    """What a node returned, as JSON the database keeps (anything else as its string)."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))
