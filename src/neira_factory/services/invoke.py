"""Invocation through a route: pick the version (stable, split candidate, shadow copies), run it under
the watchdog (services/execution.py), count it, and compare shadow copies off the request path."""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from ..backends import ResolvedNode
from ..domain.actors import SYSTEM, Actor
from ..domain.errors import Conflict
from ..domain.references import self_edit_gates
from ..immune.integrity import IntegrityError
from ..nervous.metrics import FactoryMetrics
from ..policy import PolicyEngine
from ..runtime.cache import TTLCache
from ..runtime.router import Plan, RouteTable, Version, plan
from ..runtime.shadows import Shadows
from ..runtime.stats import StatsRecorder
from . import execution, immune
from .execution import Caller, Outcome, Served, Template, closed_gate, require_open
from .ports import CachedPolicyState


@dataclass(frozen=True)
class Deps:
    """What an invocation uses: the policy, the route caches, the shadow pool, the counters and metrics, and execution."""

    policy: PolicyEngine
    cached_policy_state: CachedPolicyState
    routes: TTLCache[str, RouteTable]
    resolved: TTLCache[str, ResolvedNode | None]
    shadows: Shadows
    stats: StatsRecorder
    metrics: FactoryMetrics
    execution: execution.Deps


def execute(f: Deps, version: Version, data: Any, *, side_effects: bool, caller: Caller | None = None) -> Outcome:
    """Run one version of a route and count it in its statistics and metrics."""
    outcome, backend, usage = execution.guarded(f.execution, version.template, version.record.id, data,
                                                side_effects=side_effects, caller=caller)
    execution.count(f.execution, served(version), backend, outcome, usage)
    return outcome


async def execute_async(f: Deps, version: Version, data: Any, *, side_effects: bool,
                        caller: Caller | None = None) -> Outcome:
    outcome, backend, usage = await execution.guarded_async(f.execution, version.template, version.record.id, data,
                                                            side_effects=side_effects, caller=caller)
    execution.count(f.execution, served(version), backend, outcome, usage)
    return outcome


def served(version: Version) -> Served:
    record = version.record
    return Served(record.id, record.state, record.route, record.version)


def _shadow(f: Deps, version: Version, data: Any, primary: Outcome, primary_template: Template) -> None:
    outcome = execute(f, version, data, side_effects=False)
    backends = f.execution.backends
    mismatch = (outcome.comparable(partial(backends.comparable, version.template))
                != primary.comparable(partial(backends.comparable, primary_template)))
    f.stats.record_shadow(version.record.id, version.record.state, mismatch)
    f.metrics.shadow_comparisons.labels(version.record.route, "mismatch" if mismatch else "match").inc()


def _prepare(f: Deps, actor: Actor, route: str, key: str | None, data: Any) -> tuple[Plan, Caller]:
    state = f.cached_policy_state()
    # traffic on a factory module's route is counted in its versions' analysis: only the factory's own, or
    # with self_edit open
    gates = self_edit_gates(route) if actor.name != SYSTEM.name else ()
    if gates:
        f.policy.decide(actor, "routes.invoke", state, gates=gates).enforce()
    table = f.routes.get(route)
    broken = table.broken
    if broken:
        for node_id, reason in broken:
            immune.quarantine(f.execution.immune, node_id, "integrity", reason)
        table = f.routes.get(route)
    try:
        chosen = plan(table, key, safe_mode=state.safe_mode)
    except Conflict as exc:
        if broken and exc.code == "no_stable_version":  # the route's only live version was the broken one
            node_id, reason = broken[0]
            raise IntegrityError(f"{reason}; {node_id} was quarantined", node=node_id, route=route) from None
        raise
    # the primary's backend names the action: routes.invoke (write), or a memory node's read or write
    f.policy.decide(actor, f.execution.backends.policy_action(chosen.primary.template, data), state).enforce()
    require_open(state, chosen.primary.template, f.resolved.get)
    if chosen.shadows:
        # a shadow copy behind a closed gate is not run (it would only count as a mismatch), nor is a copy of a
        # write (a memory node's shadow candidate gets the reads only)
        chosen = replace(chosen, shadows=tuple(s for s in chosen.shadows if closed_gate(state, s.template) is None
                                               and f.execution.backends.mirrors(s.template, data)))
    return chosen, Caller.of(f.policy, actor, state)


def _answer(f: Deps, route: str, chosen: Plan, data: Any, primary: Outcome) -> dict[str, Any]:
    for shadow in chosen.shadows:
        if not f.shadows.submit(_shadow, f, shadow, data, primary, chosen.primary.template):
            f.metrics.shadow_comparisons.labels(route, "dropped").inc()
    if primary.error is not None:
        raise primary.error
    record = chosen.primary.record
    return {"output": primary.output, "route": route, "node_id": record.id, "version": record.version,
            "state": record.state, "ms": round(primary.ms, 3)}


def invoke(f: Deps, actor: Actor, route: str, data: Any, key: str | None = None) -> dict[str, Any]:
    """POST /invoke/{route} in-process (organs, tests): the chosen version's output, or its error."""
    chosen, caller = _prepare(f, actor, route, key, data)
    return _answer(f, route, chosen, data, execute(f, chosen.primary, data, side_effects=True, caller=caller))


async def invoke_async(f: Deps, actor: Actor, route: str, data: Any, key: str | None = None) -> dict[str, Any]:
    """The same for the HTTP API, on the event loop: the routing is cached, the node runs on a worker."""
    chosen, caller = _prepare(f, actor, route, key, data)
    return _answer(f, route, chosen, data, await execute_async(f, chosen.primary, data, side_effects=True,
                                                               caller=caller))
