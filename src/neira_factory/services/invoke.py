"""Invocation through a route: pick the version (stable, split candidate, shadow copies), run it under
the watchdog, count it, compare shadows, and let the immune system react to what it saw."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from ..backends import ExecutionError
from ..domain.actors import Actor
from ..domain.templates import NodeTemplate
from ..runtime.router import Plan, Version, plan
from .factory import Factory
from .immune import quarantine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    output: Any
    error: ExecutionError | None
    ms: float

    def comparable(self) -> tuple[str, Any]:
        return ("error", self.error.kind) if self.error else ("ok", self.output)


@dataclass
class Call:
    """One guarded execution of a template: the backend, the watchdog budget, the context it reports into."""

    f: Factory
    template: NodeTemplate
    node_id: str
    data: Any
    side_effects: bool

    def __post_init__(self) -> None:
        self.backend = self.f.backends.get(self.template.backend or "adapter")
        self.budget = self.f.watchdog.budget(self.template.limits.timeout_ms)
        self.ctx = self.f.runtime_context(side_effects=self.side_effects,
                                          deadline=time.monotonic() + self.budget.hard_s)
        self.started = time.perf_counter()

    def run(self) -> Any:
        return self.backend.run(self.template, self.data, self.ctx)

    def finish(self, output: Any, exc: Exception | None) -> tuple[Outcome, str, dict[str, int]]:
        """(outcome, backend name, resource usage); a defect in the node's code becomes an `exception` error."""
        error = exc if isinstance(exc, ExecutionError) or exc is None else self._defect(exc)
        if error is not None:
            self.f.metrics.exec_errors.labels(error.kind).inc()
        return Outcome(output, error, (time.perf_counter() - self.started) * 1000), self.backend.name, self.ctx.usage

    def _defect(self, exc: Exception) -> ExecutionError:
        log.error("node %s raised", self.node_id, exc_info=exc)
        return ExecutionError(f"{self.node_id} failed: {type(exc).__name__}: {exc}", kind="exception",
                              node=self.node_id)


def guarded(f: Factory, template: NodeTemplate, node_id: str, data: Any, *,
            side_effects: bool) -> tuple[Outcome, str, dict[str, int]]:
    """Run a template under its watchdog budget, here (a sandbox) or on an abandonable worker.
    Never raises for the node's own failures."""
    call = Call(f, template, node_id, data, side_effects)
    run = f.watchdog.run_inline if call.backend.interruptible else f.watchdog.run_abandonable
    try:
        done = call.finish(run(call.run, node_id, call.budget), None)
    except Exception as exc:
        done = call.finish(None, exc)
    if _reacts(done[0].error):
        _react(f, node_id, done[0].error)
    return done


async def guarded_async(f: Factory, template: NodeTemplate, node_id: str, data: Any, *,
                        side_effects: bool) -> tuple[Outcome, str, dict[str, int]]:
    """`guarded` for the event loop: one hop to a worker, the timeouts awaited without blocking."""
    call = Call(f, template, node_id, data, side_effects)
    try:
        done = call.finish(await f.watchdog.run_async(call.run, node_id, call.budget,
                                                      interruptible=call.backend.interruptible), None)
    except Exception as exc:
        done = call.finish(None, exc)
    if _reacts(done[0].error):
        await asyncio.to_thread(_react, f, node_id, done[0].error)
    return done


def execute(f: Factory, version: Version, data: Any, *, side_effects: bool) -> Outcome:
    """Run one version of a route and count it in its statistics and metrics."""
    outcome, backend, usage = guarded(f, version.template, version.record.id, data, side_effects=side_effects)
    _count(f, version, backend, outcome, usage)
    return outcome


async def execute_async(f: Factory, version: Version, data: Any, *, side_effects: bool) -> Outcome:
    outcome, backend, usage = await guarded_async(f, version.template, version.record.id, data,
                                                  side_effects=side_effects)
    _count(f, version, backend, outcome, usage)
    return outcome


def _count(f: Factory, version: Version, backend: str, outcome: Outcome, usage: dict[str, int]) -> None:
    record, m = version.record, f.metrics
    kind = outcome.error.kind if outcome.error else None
    operations, memory = usage.get("operations"), usage.get("memory_bytes")
    f.stats.record(record.id, record.state, outcome.ms, kind, operations, memory)
    m.node_requests.labels(record.route, record.version, record.state, kind or "ok").inc()
    m.node_duration.labels(record.route, record.version).observe(outcome.ms / 1000)
    if operations is not None:
        m.sandbox_operations.labels(backend).observe(operations)
    if memory is not None:
        m.sandbox_memory.labels(backend).observe(memory)


def _reacts(error: ExecutionError | None) -> bool:
    return error is not None and (error.kind == "timeout" or bool(error.extra.get("violation")))


def _react(f: Factory, node_id: str, error: ExecutionError) -> None:
    """Sandbox violations and repeated hard timeouts quarantine the node."""
    if error.extra.get("violation"):
        quarantine(f, node_id, "violation", f"sandbox violation: {error.reason}", {"error": error.body()})
    elif f.hard_timeouts.repeated(node_id):
        quarantine(f, node_id, "timeouts", "repeated hard timeouts", {"error": error.body()})


def _shadow(f: Factory, version: Version, data: Any, primary: Outcome) -> None:
    outcome = execute(f, version, data, side_effects=False)
    mismatch = outcome.comparable() != primary.comparable()
    f.stats.record_shadow(version.record.id, version.record.state, mismatch)
    f.metrics.shadow_comparisons.labels(version.record.route, "mismatch" if mismatch else "match").inc()


def _prepare(f: Factory, actor: Actor, route: str, key: str | None) -> Plan:
    state = f.cached_policy_state()
    f.policy.decide(actor, "routes.invoke", state).enforce()
    table = f.routes.get(route)
    if table.broken:
        for node_id, reason in table.broken:
            quarantine(f, node_id, "integrity", reason)
        table = f.routes.get(route)
    return plan(table, key, safe_mode=state.safe_mode)


def _answer(f: Factory, route: str, chosen: Plan, data: Any, primary: Outcome) -> dict[str, Any]:
    for shadow in chosen.shadows:
        if not f.shadows.submit(_shadow, f, shadow, data, primary):
            f.metrics.shadow_comparisons.labels(route, "dropped").inc()
    if primary.error is not None:
        raise primary.error
    record = chosen.primary.record
    return {"output": primary.output, "route": route, "node_id": record.id, "version": record.version,
            "state": record.state, "ms": round(primary.ms, 3)}


def invoke(f: Factory, actor: Actor, route: str, data: Any, key: str | None = None) -> dict[str, Any]:
    """POST /invoke/{route} in-process (organs, tests): the chosen version's output, or its error."""
    chosen = _prepare(f, actor, route, key)
    return _answer(f, route, chosen, data, execute(f, chosen.primary, data, side_effects=True))


async def invoke_async(f: Factory, actor: Actor, route: str, data: Any, key: str | None = None) -> dict[str, Any]:
    """The same for the HTTP API, on the event loop: the routing is cached, the node runs on a worker."""
    chosen = _prepare(f, actor, route, key)
    return _answer(f, route, chosen, data, await execute_async(f, chosen.primary, data, side_effects=True))
