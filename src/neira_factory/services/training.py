"""The Training Orchestrator's use cases: start a run, read it, plot it, and the human's decisions
(continue, approve — optionally an earlier iteration's params —, reject); and the workers that drive
runs in the background.

A run trains a snapshot of the node's template (its artifact) on a snapshot of the dataset (an
artifact too). Each iteration runs every example through the node's real backend, under its
watchdog and sandbox limits, with side effects off, on a copy of the template whose param values are
replaced; it is written to the database as it happens, with the run's best so far, in one
transaction. Nothing about the node changes until a human approves: approval creates a new version
of the node (`….vN+1`, same route, the chosen params) as a Draft through the ordinary fabrication
use case, so it follows the normal lifecycle.

Workers: each run is driven by one daemon thread of the replica that owns it (at most MAX_RUNNING at
once; the others wait as `queued`). The owner writes a heartbeat as it goes; a run in `queued`,
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
import threading
import time
from dataclasses import dataclass
from functools import partial
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..domain.actors import Actor
from ..domain.errors import BadInput, Conflict, Forbidden, InvalidTransition, NotFound
from ..domain.events import Event
from ..domain.ids import route_of, version_number
from ..domain.lifecycle import State
from ..domain.references import self_edit_gates
from ..domain.shapes import validate
from ..domain.templates import NodeTemplate, ParamSpec
from ..immune.integrity import verified
from ..store import UnitOfWork
from ..store.repositories import now
from ..training import datasets, objectives
from ..training.convergence import Rules, Tracker, Verdict
from ..training.datasets import Sample
from ..training.plot import metric_png
from ..training.search import CoordinateSearch, build_space, key
from ..training.spec import DecisionBody, TrainBody
from . import fabricate
from .execution import guarded, require_open
from .factory import SAFE_MODE_KEY, Factory

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


# ---- starting a run ----------------------------------------------------------------------------------

def start(f: Factory, actor: Actor, node_id: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """Validate the request, snapshot the template and the dataset, record the run (queued) and hand it
    to a worker. Returns the run (without iterations)."""
    if body is not None and not isinstance(body, dict):
        raise BadInput("body: expected a JSON object", field="body")
    spec = validate(TrainBody, body or {})
    obj = objectives.objective(spec.objective)
    objectives.compile_field(spec.field)
    with f.read() as uow:
        f.authorize(uow, actor, "training.start")
        record = f.node(uow, node_id)
        f.authorize(uow, actor, "training.start", gates=self_edit_gates(record.id, record.route))
        if record.is_organ:
            raise BadInput(f"{node_id} is an organ: organs have no params; train its nodes", field="node_id")
        if record.state == State.QUARANTINED.value:
            raise Conflict(f"{node_id} is quarantined and is not trained", code="not_trainable", state=record.state)
        template = f.load_template(uow, record)
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
                             created_by=actor.name, owner=f.settings.replica, heartbeat_at=now())
        uow.audit.append(actor.name, "training.start", f"training:{run_id}", reason=spec.reason, after={
            "node": node_id, "objective": obj.name, "params": stored["params"], "dataset": stored["dataset"],
            "max_iterations": spec.max_iterations, "target": spec.target})
        uow.announce(Event("training.started", run_id, {"node": node_id, "objective": obj.name,
                                                        "params": stored["params"], "actor": actor.name}))
        run = uow.training.get_run(run_id)
    trainer(f).launch(run_id)
    return present(run)


def _dataset(f: Factory, given: Any, template: NodeTemplate) -> list[Sample]:
    if given is None:
        return datasets.from_examples(template.examples, template.id)
    if isinstance(given, dict):
        unknown = sorted(set(given) - {"file"})
        if unknown or not isinstance(given.get("file"), str) or not given["file"]:
            raise BadInput("dataset: expected [{input, expected}] or {file: NAME.jsonl}", field="dataset")
        return datasets.from_text(read_dataset_file(f, given["file"]))
    return datasets.from_items(given)


def datasets_root(f: Factory) -> Path:
    return (f.settings.var_dir / DATASETS_DIR).resolve()


def read_dataset_file(f: Factory, name: str) -> str:
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

def present(run: dict[str, Any], iterations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec = run["spec"]
    best = None if run["best_iteration"] is None else {
        "iteration": run["best_iteration"], "metric": run["best_metric"], "params": run["best_params"]}
    body = {
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
    if iterations is not None:
        body["iterations"] = [{k: v for k, v in it.items() if k != "run_id"} for it in iterations]
    return body


def _run(uow: UnitOfWork, run_id: str) -> dict[str, Any]:
    run = uow.training.get_run(run_id)
    if run is None:
        raise NotFound(f"training run {run_id} does not exist", run_id=run_id)
    return run


def get(f: Factory, actor: Actor, run_id: str) -> dict[str, Any]:
    with f.read() as uow:
        f.authorize(uow, actor, "training.read")
        run = _run(uow, run_id)
        return present(run, uow.training.iterations(run_id))


def list_runs(f: Factory, actor: Actor, *, node: str | None = None, state: str | None = None, limit: int = 100,
              offset: int = 0) -> list[dict[str, Any]]:
    if state is not None and state not in STATES:
        raise BadInput(f"state: one of {list(STATES)}", field="state")
    with f.read() as uow:
        f.authorize(uow, actor, "training.read")
        return [present(r) for r in uow.training.list_runs(node_id=node, state=state, limit=limit, offset=offset)]


def plot(f: Factory, actor: Actor, run_id: str) -> bytes:
    with f.read() as uow:
        f.authorize(uow, actor, "training.read")
        run = _run(uow, run_id)
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


def continue_run(f: Factory, actor: Actor, run_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A human lets a run that waits at an `approve_every` checkpoint go on."""
    decision = validate(DecisionBody, body or {})
    with f.write() as uow:
        run = _run(uow, run_id)
        f.authorize(uow, actor, "training.decide", owner=run["created_by"])
        if run["state"] != "waiting":
            raise InvalidTransition(f"run {run_id} is {run['state']}; only a waiting run continues", state=run["state"])
        done = uow.training.update_run(run_id, states=("waiting",), row_version=run["row_version"], state="queued",
                                       owner=f.settings.replica, heartbeat_at=now(),
                                       decisions=[*run["decisions"], _decision(actor, "continue", decision.reason,
                                                                                iteration=run["iterations"])])
        if not done:
            raise Conflict(f"run {run_id} changed meanwhile; read it again", code="conflict")
        uow.audit.append(actor.name, "training.continue", f"training:{run_id}", reason=decision.reason,
                         before={"state": "waiting", "iterations": run["iterations"]}, after={"state": "queued"})
        uow.announce(Event("training.decided", run_id, {"decision": "continue", "node": run["node_id"],
                                                        "iteration": run["iterations"], "actor": actor.name}))
        run = uow.training.get_run(run_id)
    trainer(f).launch(run_id)
    return present(run)


def reject(f: Factory, actor: Actor, run_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Discard a run's params (stopping it, if it is still going). Nothing is created."""
    decision = validate(DecisionBody, body or {})
    if decision.iteration is not None:
        raise BadInput("iteration: a rejection discards the whole run", field="iteration")
    with f.write() as uow:
        run = _run(uow, run_id)
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


def approve(f: Factory, actor: Actor, run_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Make the best params (or those of `iteration`) a new version of the node, as a Draft created by the
    ordinary fabrication use case (gate, dry-run and policy apply). A run can be approved again for
    another iteration: that is how an earlier param set is restored."""
    decision = validate(DecisionBody, body or {})
    with f.read() as uow:
        run = _run(uow, run_id)
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
        template = _snapshot(uow, run)
        new_id = next_version_id(uow, template.id)
    trained = trained_template(template, chosen["params"], new_id, run, n, chosen["metric"])
    reason = decision.reason or f"training run {run_id}: iteration {n} ({run['objective']} {chosen['metric']:.6g})"
    created = fabricate.create(f, actor, {"template": trained.to_document(), "reason": reason,
                                          "requester": actor.name})
    with f.write() as uow:
        current = _run(uow, run_id)
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
    return {**present(run), "created": created}


def _snapshot(uow: UnitOfWork, run: dict[str, Any]) -> NodeTemplate:
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

def _jsonable(value: Any) -> Any:
    """What a node returned, as JSON the database keeps (anything else as its string)."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


class _Lost(Exception):
    """This worker no longer drives the run (rejected, taken over, or the replica is stopping)."""


@dataclass
class _Evaluation:
    params: dict[str, Any]
    score: objectives.Score
    examples: int
    ms: float


class Trainer:
    """This replica's training workers: one daemon thread per run it drives, MAX_RUNNING at a time."""

    def __init__(self, f: Factory):
        self.f = f
        self.replica = f.settings.replica
        self.slots = threading.BoundedSemaphore(MAX_RUNNING)
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._scanner: threading.Thread | None = None

    # -- lifecycle of the workers --
    def launch(self, run_id: str) -> None:
        with self._lock:
            if self.stopping.is_set() or run_id in self._threads:
                return
            thread = threading.Thread(target=self._work, args=(run_id,), name=f"neira-training-{run_id}", daemon=True)
            self._threads[run_id] = thread
        thread.start()

    def running(self) -> list[str]:
        with self._lock:
            return list(self._threads)

    def _work(self, run_id: str) -> None:
        try:
            while not self.slots.acquire(timeout=0.5):
                if self.stopping.is_set():  # never started here: give it up for the next replica at once
                    with self.f.write() as uow:
                        uow.training.update_run(run_id, states=ACTIVE, owned_by=self.replica, owner=None)
                    return
            try:
                Drive(self, run_id).go()
            finally:
                self.slots.release()
        except _Lost:
            pass
        except Exception as exc:  # a defect or a database failure: the run fails, saying why
            log.exception("training run %s failed", run_id)
            self._fail(run_id, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._threads.pop(run_id, None)

    def _fail(self, run_id: str, reason: str) -> None:
        try:
            with self.f.write() as uow:
                failed = uow.training.update_run(run_id, states=ACTIVE, owned_by=self.replica, state="failed",
                                                 outcome="failed", reason=reason[:2000], finished_at=now(), owner=None)
                if failed:
                    uow.announce(Event("training.failed", run_id, {"reason": reason[:500]}))
        except Exception:
            log.exception("could not mark training run %s failed", run_id)
            return
        if failed:
            self.f.metrics.training_runs_finished.labels("failed").inc()

    def recover(self) -> list[str]:
        """Claim and resume the active runs nobody drives (a stopped or crashed replica's). Returns their ids."""
        if self.stopping.is_set():
            return []
        stale_before = now() - timedelta(seconds=LEASE_S)
        with self.f.read() as uow:
            orphans = [r for r in uow.training.orphans(states=ACTIVE, stale_before=stale_before)
                       if r not in self.running()]
        claimed = []
        for run_id in orphans:
            with self.f.write() as uow:
                if not uow.training.claim(run_id, self.replica, states=ACTIVE, stale_before=stale_before):
                    continue
                uow.announce(Event("training.resumed", run_id, {"replica": self.replica, "why": "taken over"}))
            claimed.append(run_id)
            self.launch(run_id)
        return claimed

    def start_scanning(self, interval_s: float = SCAN_S) -> None:
        """Recover orphaned runs now and every interval_s (the API's lifespan calls this)."""
        def scan() -> None:
            while not self.stopping.is_set():
                try:
                    self.recover()
                except Exception:
                    log.exception("training recovery scan failed")
                self.stopping.wait(interval_s)

        self._scanner = threading.Thread(target=scan, name="neira-training-scan", daemon=True)
        self._scanner.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the workers at their next checkpoint (between examples) and give their runs up (owner NULL),
        so that the next replica to start (or scan) resumes them at once."""
        self.stopping.set()
        deadline = time.monotonic() + timeout_s
        with self._lock:
            threads = [*self._threads.values(), *([self._scanner] if self._scanner else [])]
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))


_TRAINER_ATTR = "_neira_trainer"
_trainer_lock = threading.Lock()


def trainer(f: Factory) -> Trainer:
    """The factory's trainer, made on first use (the workers start lazily, with the first run)."""
    with _trainer_lock:
        found = f.__dict__.get(_TRAINER_ATTR)
        if found is None or found.stopping.is_set():
            found = Trainer(f)
            f.__dict__[_TRAINER_ATTR] = found
        return found


def stop(f: Factory, timeout_s: float = 10.0) -> None:
    """Stop this factory's training workers (if any were started)."""
    found = f.__dict__.get(_TRAINER_ATTR)
    if found is not None:
        found.stop(timeout_s)


class Drive:
    """One run, driven by one worker: replay what is recorded, then search, evaluate, record, stop."""

    def __init__(self, trainer_: Trainer, run_id: str):
        self.t = trainer_
        self.f = trainer_.f
        self.run_id = run_id
        self.me = trainer_.replica
        self.last_beat = time.monotonic()
        with self.f.read() as uow:
            run = _run(uow, run_id)
            self.node_id = run["node_id"]
            self.template = _snapshot(uow, run)
            content = verified(uow.artifacts.get(run["dataset_sha256"]) or b"", run["dataset_sha256"],
                               f"dataset of {run_id}")
            self.recorded = uow.training.iterations(run_id)
        self.spec = spec = run["spec"]
        self.samples = datasets.from_text(content.decode())
        self.obj = objectives.OBJECTIVES[spec["objective"]]
        self.compiled = objectives.compile_field(spec["field"])
        self.dims = [build_space(self.template.params, [name])[0] for name in spec["params"]]
        self.rules = Rules(maximize=spec["maximize"], max_iterations=spec["max_iterations"],
                           tolerance=spec["tolerance"], patience=spec["patience"], max_errors=spec["max_errors"],
                           target=spec["target"], approve_every=spec["approve_every"])
        self.state = run["state"]
        self.eval_id = f"{self.node_id}@training"  # the immune system's reactions do not hit the live node

    def go(self) -> None:
        tracker = Tracker(self.rules)
        memo: dict[str, float | None] = {}
        for it in self.recorded:
            tracker.add(it["metric"], it["error"])
            memo[key(it["params"])] = it["metric"]
        if (verdict := tracker.verdict()) is not None:  # stopped between its last iteration and its end
            return self.finish(verdict)
        search = CoordinateSearch(self.dims, self.template.param_values(), self.obj.maximize).run()
        try:
            params = next(search)
            while True:
                k = key(params)
                if k in memo:
                    metric = memo[k]
                else:
                    self.checkpoint()
                    done = self.evaluate(params)
                    metric = done.score.metric
                    tracker.add(metric, done.score.error)
                    memo[k] = metric
                    self.record(tracker, done)
                    if (verdict := tracker.verdict()) is not None:
                        return self.finish(verdict)
                    if tracker.checkpoint():
                        return self.wait(tracker)
                params = search.send(metric)
        except StopIteration:
            return self.finish(tracker.exhausted())

    # -- between iterations --
    def checkpoint(self) -> None:
        """Before an iteration: still ours? safe-mode off and every gate the node needs open? (pause until
        they are). Raises _Lost otherwise."""
        while True:
            if self.t.stopping.is_set():
                self.release()
            with self.f.read() as uow:
                run = uow.training.get_run(self.run_id)
                why = self.paused_by(uow)
            if run is None or run["state"] not in ACTIVE or run["owner"] != self.me:
                raise _Lost
            if why is None:
                if run["state"] != "running":
                    self.move(run["state"], "running", "training.resumed" if run["state"] == "paused" else None)
                return
            if run["state"] != "paused":
                self.move(run["state"], "paused", "training.paused", why)
            elif time.monotonic() - self.last_beat >= HEARTBEAT_S:
                self.beat()
            self.t.stopping.wait(PAUSE_POLL_S)

    def paused_by(self, uow: UnitOfWork) -> str | None:
        """Why the run must not go on now: safe-mode, or a closed gate (the kill switch of the node's backend,
        of a linked node's), else None."""
        if uow.settings.get(SAFE_MODE_KEY, False):
            return "safe-mode"
        try:
            require_open(self.f.policy_state(uow), self.template, partial(self.f.resolved_in, uow))
        except Forbidden as exc:
            return f"capability {exc.extra['capability']} is off"
        return None

    def move(self, old: str, new: str, event: str | None, why: str = "safe-mode") -> None:
        with self.f.write() as uow:
            if not uow.training.update_run(self.run_id, states=(old,), owned_by=self.me, state=new, heartbeat_at=now()):
                raise _Lost
            if event:
                uow.announce(Event(event, self.run_id, {"node": self.node_id, "state": new, "why": why}))
        self.last_beat = time.monotonic()
        self.state = new

    def beat(self) -> None:
        with self.f.write() as uow:
            if not uow.training.update_run(self.run_id, states=ACTIVE, owned_by=self.me, heartbeat_at=now()):
                raise _Lost
        self.last_beat = time.monotonic()

    def release(self) -> None:
        """The replica is stopping: give the run up as it is, for the next replica to resume."""
        with self.f.write() as uow:
            uow.training.update_run(self.run_id, states=ACTIVE, owned_by=self.me, owner=None)
        raise _Lost

    # -- one iteration --
    def evaluate(self, params: dict[str, Any]) -> _Evaluation:
        trial = with_params(self.template, params)
        started = time.perf_counter()
        results = []
        for i, sample in enumerate(self.samples):
            if self.t.stopping.is_set():
                self.release()
            if time.monotonic() - self.last_beat >= HEARTBEAT_S:
                self.beat()
            outcome, _, _ = guarded(self.f, trial, self.eval_id, sample.input, side_effects=False)
            error = f"{outcome.error.kind}: {outcome.error.reason}" if outcome.error is not None else None
            results.append(objectives.Result(i, sample.input, sample.expected, outcome.output, error))
        score = objectives.score(self.obj, self.compiled, results)
        return _Evaluation(params, score, len(results), (time.perf_counter() - started) * 1000)

    def record(self, tracker: Tracker, done: _Evaluation) -> None:
        """The iteration and the run's new best, in one transaction (only while this worker still owns the run)."""
        n, score = tracker.n, done.score
        best = {"best_iteration": tracker.best_n, "best_metric": tracker.best}
        if tracker.best_n == n:
            best["best_params"] = done.params
        with self.f.write() as uow:
            if not uow.training.update_run(self.run_id, states=("running",), owned_by=self.me, iterations=n,
                                           heartbeat_at=now(), **best):
                raise _Lost
            uow.training.add_iteration(run_id=self.run_id, n=n, params=done.params, metric=score.metric,
                                       error=score.error, examples=done.examples, failed=score.failed,
                                       failures=_jsonable(score.failures), ms=round(done.ms, 3))
            uow.announce(Event("training.progress", self.run_id, {
                "node": self.node_id, "iteration": n, "max_iterations": self.rules.max_iterations,
                "params": done.params, "metric": score.metric, "error": score.error, "failed": score.failed,
                "best_iteration": tracker.best_n, "best_metric": tracker.best}))
        self.last_beat = time.monotonic()
        self.f.metrics.training_iterations.labels("ok" if score.metric is not None else "error").inc()

    # -- the end, or a pause for a human --
    def finish(self, verdict: Verdict) -> None:
        with self.f.write() as uow:
            if not uow.training.update_run(self.run_id, states=ACTIVE, owned_by=self.me, owner=None, state=verdict.state,
                                           outcome=verdict.state, reason=verdict.reason, finished_at=now()):
                raise _Lost
            run = uow.training.get_run(self.run_id)
            uow.announce(Event(f"training.{verdict.state}", self.run_id, {
                "node": self.node_id, "cause": verdict.cause, "reason": verdict.reason,
                "iterations": run["iterations"], "best_iteration": run["best_iteration"],
                "best_metric": run["best_metric"], "best_params": run["best_params"], "needs_decision": True}))
        self.f.metrics.training_runs_finished.labels(verdict.state).inc()
        if verdict.state == "converged":
            self.f.metrics.training_converged.labels(verdict.cause).inc()

    def wait(self, tracker: Tracker) -> None:
        with self.f.write() as uow:
            if not uow.training.update_run(self.run_id, states=ACTIVE, owned_by=self.me, owner=None, state="waiting",
                                           reason=None):
                raise _Lost
            uow.announce(Event("training.waiting", self.run_id, {
                "node": self.node_id, "iteration": tracker.n, "best_iteration": tracker.best_n,
                "best_metric": tracker.best, "needs_decision": True}))
