"""Running one node or organ version under its watchdog, and counting what happened.

`guarded` runs a template under its budget (soft/hard timeouts: in place for a
self-interrupting sandbox, on an abandonable worker otherwise) and never raises
for the node's own failures — dry-runs, organ members and training alike; `count`
puts the outcome into the version's statistics and the RED/USE metrics; the
immune system reacts to violations and repeated hard timeouts. `run_member` is
how an organ runs each of its nodes: all on the organ's one worker, each under its
own budget inside what is left of the organ's (checked cooperatively, in the
organ's own context; a sandbox stops itself). `require_open` is the kill switch: a template that
needs a closed gate (its backend's, an organ's, a linked node's or member's) is
refused before it starts.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from ..backends import Backends, ExecContext, ExecutionError, ResolvedNode
from ..domain.actors import Actor
from ..domain.errors import Forbidden
from ..domain.references import is_factory_name, run_gates
from ..domain.templates import NodeTemplate, OrganTemplate
from ..immune.integrity import IntegrityError
from ..policy import PolicyEngine, PolicyState
from ..nervous.metrics import FactoryMetrics
from ..runtime.backend_load import BackendLoad, Ticket
from ..runtime.measures import CLIENT_ERRORS
from ..runtime.stats import StatsRecorder
from ..runtime.watchdog import HardTimeouts, Watchdog
from . import immune
from .routing import resolved_in
from .ports import CachedPolicyState, UnitOfWork


@dataclass(frozen=True)
class Deps:
    """What running a version uses: the backends, the watchdog, the counters and metrics, the policy state and
    the immune system."""

    backends: Backends
    watchdog: Watchdog
    load: BackendLoad
    hard_timeouts: HardTimeouts
    stats: StatsRecorder
    metrics: FactoryMetrics
    runtime_context: Callable[..., ExecContext]
    cached_policy_state: CachedPolicyState
    immune: immune.Deps
    children: dict[tuple[str, ...], tuple[Any, Any]] = field(default_factory=dict, compare=False)  # metric series
    plans: dict[int, MemberPlan] = field(default_factory=dict, compare=False)  # id(ResolvedNode) -> its plan

    @cached_property
    def member(self) -> Callable[[ResolvedNode, Any, ExecContext], Any]:
        """How an organ run with these deps runs each of its nodes (`run_member`), made once."""
        return partial(run_member, self)


Template = NodeTemplate | OrganTemplate
PLANS = 10_000  # member plans kept (all dropped past it: the next runs make them again)
Resolve = Callable[[str], ResolvedNode | None]


@dataclass(frozen=True)
class Outcome:
    output: Any
    error: ExecutionError | None
    ms: float
    trace: list[dict[str, Any]] = field(default_factory=list)  # an organ's steps

    def comparable(self, project: Callable[[Any], Any] = lambda output: output) -> tuple[str, Any]:
        """What a shadow comparison compares: the error's kind, or the output (as the backend projects it)."""
        return ("error", self.error.kind) if self.error else ("ok", project(self.output))


@dataclass(frozen=True)
class Served:
    """Which version an outcome is counted for."""

    id: str
    state: str
    route: str
    version: str


@dataclass(frozen=True)
class MemberPlan:
    """What counting and checking an organ's member needs that does not change while it stays resolved: made
    once per resolved version (a changed node is resolved anew, a new object, and gets a new plan)."""

    member: ResolvedNode
    served: Served
    cap: int  # its output cap (Backends.output_cap)
    backend: str
    here: bool  # in-process code (not a self-interrupting sandbox): run in its organ's context (_member_here)
    busy: Ticket  # its place in its backend's busy count: never queued, so it holds no state and is reused


def member_plan(f: Deps, member: ResolvedNode) -> MemberPlan:
    plan = f.plans.get(id(member))
    if plan is None or plan.member is not member:  # the id of one that is gone may be reused: never its plan
        if len(f.plans) >= PLANS:
            f.plans.clear()
        template = member.template
        backend = f.backends.get(template.backend or "adapter")
        plan = f.plans[id(member)] = MemberPlan(member, Served(template.id, member.state, template.route_name,
                                                               template.version), f.backends.output_cap(template),
                                                backend.name, not backend.interruptible,
                                                f.load.queue(backend.name, waiting=False))
    return plan


@dataclass(frozen=True)
class Caller:
    """Who a call runs for and what it shares: the actor, how its policy actions are checked (a memory node's
    reads and writes), and a dry-run's throwaway state."""

    actor: Actor | None = None
    permit: Callable[[str], None] | None = None
    scratch: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, policy: PolicyEngine, actor: Actor, state: PolicyState) -> Caller:
        """`actor` under `state`: each action it takes is decided by the policy engine (Forbidden if not)."""
        return cls(actor, lambda action: policy.decide(actor, action, state).enforce())


@dataclass
class Call:
    """One guarded execution: the backend, the watchdog budget, the context it reports into."""

    f: Deps
    template: Template
    node_id: str
    data: Any
    side_effects: bool
    cap_s: float | None = None  # what is left of an enclosing organ's budget
    resolve: Resolve | None = None  # how linked nodes and members are found; default: the runtime's cache
    live: bool = True  # not a dry-run: errors are counted and the immune system reacts (members inherit it)
    caller: Caller | ExecContext | None = None  # who it runs for (a member: its organ's context); None: the factory
    member: bool = False  # an organ's node, begun on its organ's worker: never queued for one

    def __post_init__(self) -> None:
        self.backend = self.f.backends.get(self.template.backend or "adapter")
        self.budget = self.f.watchdog.budget(self.template.limits.timeout_ms, cap_s=self.cap_s)
        self.ctx = self.f.runtime_context(side_effects=self.side_effects,
                                          deadline=time.monotonic() + self.budget.hard_s)
        if self.resolve is not None:
            self.ctx.resolve = self.resolve
        self.ctx.closed = self.f.cached_policy_state().closed  # read per call: a gate closed mid-organ stops the rest
        self.ctx.live = self.live
        if self.caller is not None:
            self.ctx.actor, self.ctx.permit, self.ctx.scratch = self.caller.actor, self.caller.permit, self.caller.scratch
        self.ctx.member = self.f.member
        self.started = time.perf_counter()
        # queued until a worker runs it (a member is on its organ's worker already)
        self.ticket = self.f.load.queue(self.backend.name, waiting=not self.member)

    def run(self) -> Any:
        # the budget counts from when the node starts (time spent waiting for a worker is the waiter's to bound)
        self.ctx.deadline = time.monotonic() + self.budget.hard_s
        with self.ticket.running():
            return self.f.backends.execute(self.template, self.data, self.ctx)

    def finish(self, output: Any, exc: Exception | None, *,
               counted: bool = True) -> tuple[Outcome, str, dict[str, int]]:
        """(outcome, backend name, resource usage); a defect in the node's code becomes an `exception` error."""
        self.ticket.close()
        error = None if exc is None else failure(self.f, self.backend.name, self.node_id, exc, counted)
        outcome = Outcome(output, error, (time.perf_counter() - self.started) * 1000, self.ctx.trace)
        return outcome, self.backend.name, self.ctx.usage


def failure(f: Deps, backend: str, node_id: str, exc: Exception, counted: bool) -> ExecutionError:
    """A run's exception as its ExecutionError (a defect in the node's code: an `exception` one), counted in the
    metrics and its backend's last error when `counted`."""
    error = exc if isinstance(exc, ExecutionError) else ExecutionError.defect(node_id, exc)
    if counted:
        f.metrics.exec_errors.labels(error.kind).inc()
        if error.kind not in CLIENT_ERRORS:  # a client's bad input is not its backend's failure (nor shown)
            f.load.failed(backend, error.kind, node_id, str(error))
    return error


def guarded(f: Deps, template: Template, node_id: str, data: Any, *, side_effects: bool,
            cap_s: float | None = None, resolve: Resolve | None = None, live: bool = True,
            caller: Caller | ExecContext | None = None, member: bool = False) -> tuple[Outcome, str, dict[str, int]]:
    """Run a template under its watchdog budget, here (a sandbox) or on an abandonable worker (an organ
    and all its nodes on one). An organ's `member` runs on its organ's worker: a sandbox stops itself at its
    deadline, other code is checked against its budget when it returns. Never raises for the node's own
    failures. A dry-run's examples are not `live`: their errors are not counted and the immune system does
    not react to them."""
    call = Call(f, template, node_id, data, side_effects, cap_s, resolve, live, caller, member)
    if member:  # a sandbox on its organ's worker, under its organ's deadline: it stops itself (run_member)
        run = f.watchdog.run_inline
    elif call.backend.interruptible and not isinstance(template, OrganTemplate):
        run = f.watchdog.run_inline
    else:  # in-process code, or an organ whose in-process members run on its worker: a hard stop
        run = partial(f.watchdog.run_abandonable, nested=cap_s is not None)
    try:
        done = call.finish(run(call.run, node_id, call.budget), None, counted=live)
    except Exception as exc:
        done = call.finish(None, exc, counted=live)
    if live and _reacts(done[0].error):
        _react(f, node_id, done[0].error)
    return done


async def guarded_async(f: Deps, template: Template, node_id: str, data: Any, *, side_effects: bool,
                        caller: Caller | None = None) -> tuple[Outcome, str, dict[str, int]]:
    """`guarded` for the event loop: one hop to a worker, the timeouts awaited without blocking."""
    call = Call(f, template, node_id, data, side_effects, caller=caller)
    try:
        done = call.finish(await f.watchdog.run_async(call.run, node_id, call.budget,
                                                      interruptible=call.backend.interruptible), None)
    except Exception as exc:
        done = call.finish(None, exc)
    if _reacts(done[0].error):
        await asyncio.to_thread(_react, f, node_id, done[0].error)
    return done


def count(f: Deps, served: Served, backend: str, outcome: Outcome, usage: dict[str, int]) -> None:
    """The outcome into the version's statistics and the metrics."""
    recorded(f, served, backend, outcome.ms, outcome.error.kind if outcome.error else None, usage)


def recorded(f: Deps, served: Served, backend: str, ms: float, kind: str | None, usage: dict[str, int]) -> None:
    """`count` of a run that took `ms` and failed with `kind` (None: it did not)."""
    m = f.metrics
    operations, memory = usage.get("operations"), usage.get("memory_bytes")
    f.stats.record(served.id, served.state, ms, kind, operations, memory)
    key = (served.route, served.version, served.state, kind or "ok")
    series = f.children.get(key)
    if series is None:  # the metric children of a version's outcome, looked up once
        series = f.children[key] = (m.node_requests.labels(*key), m.node_duration.labels(served.route, served.version))
    series[0].inc()
    series[1].observe(ms / 1000)
    if operations is not None:
        m.sandbox_operations.labels(backend).observe(operations)
    if memory is not None:
        m.sandbox_memory.labels(backend).observe(memory)


def run_member(f: Deps, member: ResolvedNode, data: Any, ctx: ExecContext) -> Any:
    """One node of an organ, on the organ's worker: under its own budget, within the organ's remaining time;
    counted as that node's traffic when the organ runs for real. In-process code runs in its organ's context
    (`_member_here`), a sandbox under its own guarded call. Its output, checked by its own run, is marked checked
    in the organ's context (`ExecContext.checked`): the organ's answer, when it is that very output, is not
    measured again."""
    plan = member_plan(f, member)
    if plan.here:
        output = _member_here(f, plan, data, ctx)
    else:
        template = member.template
        left = ctx.deadline - time.monotonic() if ctx.deadline is not None else None
        outcome, backend, usage = guarded(f, template, template.id, data, side_effects=ctx.side_effects,
                                          cap_s=max(0.0, left) if left is not None else f.watchdog.hard_ms / 1000,
                                          resolve=ctx.resolve, live=ctx.live, caller=ctx, member=True)
        if ctx.side_effects:
            count(f, plan.served, backend, outcome, usage)
        if outcome.error is not None:
            raise outcome.error
        output = outcome.output
    ctx.checked = (output, plan.cap)
    return output


def _member_here(f: Deps, plan: MemberPlan, data: Any, ctx: ExecContext) -> Any:
    """An in-process member run in its organ's context, no second one made: for its run the context gets the
    member's deadline (its budget within what is left of the organ's, checked cooperatively: `run_cooperative`,
    which also names it if the organ is abandoned meanwhile) and the gates closed now (one closed mid-organ stops
    it); the organ's deadline is put back after, and what the member's own links add to the usage and the trace
    is taken out again (the member's usage). Counted, and its failures reacted to, as `guarded` does."""
    template = plan.member.template
    node_id, watchdog, deadline, trace = template.id, f.watchdog, ctx.deadline, ctx.trace
    steps = len(trace)
    now = time.monotonic()
    budget = watchdog.budget(template.limits.timeout_ms, max(0.0, deadline - now) if deadline is not None
                             else watchdog.hard_ms / 1000)
    ctx.deadline, ctx.closed, ctx.checked = now + budget.hard_s, f.cached_policy_state().closed, None
    started = time.perf_counter()
    error = output = None
    try:
        with plan.busy:
            output = watchdog.run_cooperative(partial(f.backends.execute, template, data, ctx), node_id, budget)
    except Exception as exc:
        error = failure(f, plan.backend, node_id, exc, ctx.live)
    finally:
        ctx.deadline, usage = deadline, ctx.usage
        if usage:  # the organ's own is empty: this is the member's
            ctx.usage = {}
        if len(trace) > steps:
            del trace[steps:]
    if ctx.side_effects:
        recorded(f, plan.served, plan.backend, (time.perf_counter() - started) * 1000,
                 error.kind if error is not None else None, usage)
    if error is not None:
        if ctx.live and _reacts(error):
            _react(f, node_id, error)
        raise error
    return output


def dry_run_examples(f: Deps, uow: UnitOfWork, template: Template, inputs: Iterable[Any]) -> Iterator[Outcome]:
    """The outcome of each input (a template's examples) run as a dry-run: side effects off, not live, linked
    nodes and members read now in `uow`, each under its own budget and all of them within one more,
    WATCHDOG_HARD_MS: an input that finds it spent is not run (a `timeout`), so no request can hold a worker
    for a hundred examples' timeouts."""
    resolve = preloaded(uow, template)
    caller = Caller()  # one throwaway state for all the examples (a memory node's store)
    ends = time.monotonic() + f.watchdog.hard_ms / 1000
    for data in inputs:
        left = ends - time.monotonic()
        if left <= 0:
            yield Outcome(None, ExecutionError(f"{template.id}: not run, the dry-run's {f.watchdog.hard_ms} ms for "
                                               "all its examples were spent before this one", kind="timeout",
                                               node=template.id, limit_ms=f.watchdog.hard_ms), 0.0)
            continue
        yield guarded(f, template, template.id, data, side_effects=False, cap_s=left, resolve=resolve,
                      live=False, caller=caller)[0]


def preloaded(uow: UnitOfWork, template: Template) -> Resolve:
    """Every node the template can reach (links and members, transitively), read now in `uow`: a resolver
    that a dry-run's worker thread can use without touching the caller's transaction."""
    found: dict[str, ResolvedNode] = {}
    pending = list(_names(template))
    while pending:
        name = pending.pop()
        if name in found or (resolved := resolved_in(uow, name)) is None:
            continue
        found[name] = resolved
        pending.extend(_names(resolved.template))
    return found.get


def _names(template: Template) -> list[str]:
    return template.nodes if isinstance(template, OrganTemplate) else template.links


def require_open(state: PolicyState, template: Template, resolve: Resolve) -> None:
    """403 `capability_disabled` naming the gate and the node when a gate the template needs to run is
    off: its backend's (an organ's declared gates), or — transitively — a linked node's or a member's."""
    seen: set[str] = set()
    pending: list[Template] = [template]
    while pending:
        current = pending.pop()
        gate = closed_gate(state, current)
        if gate is not None:
            what = "organ" if isinstance(current, OrganTemplate) else f"{current.backend} node"
            raise Forbidden(f"capability {gate} is {state.gates.get(gate, 'unknown')}: {what} {current.id} "
                            "does not run", code="capability_disabled", capability=gate, node=current.id)
        for name in _names(current):
            if name not in seen and (found := resolve(name)) is not None:
                seen.add(name)
                pending.append(found.template)


def closed_gate(state: PolicyState, template: Template) -> str | None:
    """The first gate the template itself needs to run that is off (or unknown), else None."""
    return next((g for g in run_gates(template) if g in state.closed or g not in state.gates), None)


def _reacts(error: ExecutionError | None) -> bool:
    return error is not None and (error.kind == "timeout" or bool(error.extra.get("violation")))


def _react(f: Deps, node_id: str, error: ExecutionError) -> None:
    """Integrity mismatches, sandbox violations and repeated hard timeouts quarantine the node; an organ abandoned
    while one of its members ran (`inside`) is that member's hard timeout too."""
    inside = error.extra.get("inside")
    if inside:
        _react_one(f, inside, error)
    _react_one(f, node_id, error)


def _react_one(f: Deps, node_id: str, error: ExecutionError) -> None:
    if isinstance(error, IntegrityError):
        immune.quarantine(f.immune, node_id, "integrity", error.reason, {"error": error.body()})
    elif error.extra.get("violation"):
        immune.quarantine(f.immune, node_id, "violation", f"sandbox violation: {error.reason}", {"error": error.body()})
    elif f.hard_timeouts.repeated(node_id) and not is_factory_name(node_id):
        # the factory's own modules fall back to their built-in defaults: their timeouts say the host is
        # loaded (by anyone), not that the module is bad, and must not let a caller change their state
        immune.quarantine(f.immune, node_id, "timeouts", "repeated hard timeouts", {"error": error.body()})
