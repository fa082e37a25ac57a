"""The Training Orchestrator's workers: each run is driven by one daemon thread of the replica that owns it
(services/training.py has the use cases and the rules of a run's life). A replica's `Trainers` makes its
Trainer on first use and is the background worker the API's lifespan starts (the scan that resumes orphaned
runs) and stops (the workers give their runs up for the next replica)."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from ..domain.capabilities import TRAINING_GATE, is_open
from ..domain.errors import Forbidden
from ..domain.events import Event
from ..immune.integrity import verified
from ..nervous.metrics import FactoryMetrics
from ..domain.clock import now
from ..training import datasets, objectives
from ..training.convergence import Rules, Tracker, Verdict
from ..training.search import CoordinateSearch, build_space, key
from . import execution
from .authorizer import safe_mode_on
from .ports import PolicyStateOf, Read, Write, UnitOfWork
from .routing import resolved_in
from .training import (ACTIVE, HEARTBEAT_S, LEASE_S, MAX_RUNNING, PAUSE_POLL_S, SCAN_S, jsonable, run_of, snapshot,
                       with_params)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """What the workers use: units of work, the policy state, execution, the metrics, this replica's name."""

    read: Read
    write: Write
    policy_state: PolicyStateOf
    metrics: FactoryMetrics
    replica: str
    execution: execution.Deps


class Trainers:
    """This replica's Trainer, made on first use and again after a stop (the workers start lazily, with the
    first run); as a background worker, `start` begins the scan for orphaned runs and `stop` stops it all."""

    name = "trainer"

    def __init__(self, deps: Deps):
        self.deps = deps
        self._lock = threading.Lock()
        self._current: Trainer | None = None

    def current(self) -> Trainer:
        with self._lock:
            if self._current is None or self._current.stopping.is_set():
                self._current = Trainer(self.deps)
            return self._current

    def start(self) -> None:
        self.current().start_scanning()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop this replica's training workers (if any were started)."""
        with self._lock:
            found = self._current
        if found is not None:
            found.stop(timeout_s)


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

    def __init__(self, f: Deps):
        self.f = f
        self.replica = f.replica
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


class Drive:
    """One run, driven by one worker: replay what is recorded, then search, evaluate, record, stop."""

    def __init__(self, trainer_: Trainer, run_id: str):
        self.t = trainer_
        self.f = trainer_.f
        self.run_id = run_id
        self.me = trainer_.replica
        self.last_beat = time.monotonic()
        with self.f.read() as uow:
            run = run_of(uow, run_id)
            self.node_id = run["node_id"]
            self.template = snapshot(uow, run)
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
        if safe_mode_on(uow):
            return "safe-mode"
        policy = self.f.policy_state(uow)
        if not is_open(policy.gates.get(TRAINING_GATE, "unknown")):
            return f"capability {TRAINING_GATE} is off"
        try:
            execution.require_open(policy, self.template, partial(resolved_in, uow))
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
            outcome, _, _ = execution.guarded(self.f.execution, trial, self.eval_id, sample.input, side_effects=False)
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
                                       failures=jsonable(score.failures), ms=round(done.ms, 3))
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
