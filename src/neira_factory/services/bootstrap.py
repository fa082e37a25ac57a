"""The composition root: build every adapter once (database, backends, policy, event bus and tail, caches,
counters, watchdog, metrics), hand each use case only what it uses, and ready the factory for work (migrate,
position the event tail, seed the capability gates and the factory's own modules)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy.exc import SQLAlchemyError

from ..backends.catalog import build_backends
from ..backends.memory_access import MemoryAccess
from ..config import Settings
from ..domain.actors import SYSTEM
from ..domain.capabilities import DEFAULT_GATES, GateState
from ..domain.events import Event
from ..domain.lifecycle import LIVE
from ..immune.seal import AuditSeal
from ..nervous.events import EventBus
from ..nervous.metrics import FactoryMetrics
from ..nervous.notify import WebhookNotifier
from ..nervous.tail import EventTail
from ..policy import PolicyEngine
from ..runtime.caches import RouteCaches
from ..runtime.stats import StatsRecorder
from ..store import Database
from ..store.database import Readiness as DatabaseReadiness
from . import (analysis, audit, capabilities, commands, dryrun, events, examples, execution, fabricate, immune,
               introspection, invoke, lifecycle, llm_client, memory, nodes, organs, permissions, self_edit, supervisor,
               trainer, training)
from .authorizer import Authorizer
from .ports import FlushStats, Read, Write
from .routing import RouteReader
from .runtime import Runtime
from .selector_sync import SelectorSync
from .transactions import Transactions
from .workers import OnStop, WorkerHost

__all__ = ["DatabaseReadiness", "Services", "build_services", "read_gates"]  # the readiness check's answer, for the API


def read_gates(path: Path) -> dict[str, str]:
    """Gates from capabilities.yaml over the defaults; a bad state is an error at start-up."""
    gates = {name: state.value for name, state in DEFAULT_GATES.items()}
    if path.exists():
        data = yaml.safe_load(path.read_text()) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of gate -> state")
        for name, state in data.items():
            gates[str(name)] = GateState(state).value
    return gates


@dataclass(frozen=True)
class Services:
    """What the entry points (API, CLI, tests) get from the composition root: each use case's collaborators,
    the adapters they share, and the background workers."""

    settings: Settings
    db: Database
    bus: EventBus
    tail: EventTail
    metrics: FactoryMetrics
    auth: Authorizer
    runtime: Runtime
    selector: SelectorSync
    read: Read
    write: Write
    flush_stats: FlushStats
    analysis: analysis.Deps
    lifecycle: lifecycle.Deps
    execution: execution.Deps
    invoke: invoke.Deps
    nodes: nodes.Deps
    self_edit: self_edit.Deps
    dryrun: dryrun.Deps
    fabricate: fabricate.Deps
    organs: organs.Deps
    training: training.Deps
    capabilities: capabilities.Deps
    audit: audit.Deps
    introspection: introspection.Deps
    commands: commands.Deps
    events: events.Deps
    permissions: permissions.Deps
    examples: examples.Deps
    memory: memory.Deps
    supervisor: supervisor.Supervisor
    trainers: trainer.Trainers
    workers: WorkerHost


def build_services(settings: Settings) -> Services:
    """The factory on a migrated, seeded database; its event tail publishes what is committed from now on."""
    db = Database(settings.database_url, replica=settings.replica, seal=AuditSeal.from_settings(settings))
    services = _wire(settings, db)
    with db.startup_lock():
        db.migrate()
        services.tail.seek_end()
        with services.write() as uow:
            added = uow.capabilities.seed(read_gates(settings.capabilities_file), SYSTEM.name)
            if added:
                uow.audit.append(SYSTEM.name, "capability.seed", "capabilities", after={n: "seeded" for n in added})
        self_edit.seed(services.self_edit)
    return services


def _wire(settings: Settings, db: Database) -> Services:
    ttl_s = settings.cache_ttl_ms / 1000
    bus = EventBus()
    caches: list[RouteCaches | Authorizer | MemoryAccess] = []

    def invalidate(changed: list[Event]) -> None:
        for cache in caches:
            cache.invalidate(changed)

    tail = EventTail(db, bus, settings.replica, poll_s=settings.events_poll_ms / 1000, on_remote=invalidate)
    bus.history = tail.replay
    tx = Transactions(db, tail, invalidate)
    metrics = FactoryMetrics(lambda: _count_active(tx.read))
    memory = MemoryAccess(tx.read, tx.write, metrics)
    backends = build_backends(settings, memory)
    auth = Authorizer(PolicyEngine(), tx.read, four_eyes=settings.four_eyes, ttl_s=ttl_s)
    reader = RouteReader(tx.read, backends)
    routes = RouteCaches(reader.route_table, reader.resolve, ttl_s)
    caches += [routes, auth, memory]
    metrics.safe_mode.set_function(lambda: _safe_mode_now(auth))
    runtime = Runtime(backends=backends, caches=routes, metrics=metrics,
                      stats=StatsRecorder(settings.replica, settings.stats_window_s),
                      watchdog_ms=(settings.watchdog_soft_ms, settings.watchdog_hard_ms),
                      output_dir=settings.output_dir, write=lambda: db.unit_of_work(write=True))
    selector = SelectorSync(db)
    return _use_cases(settings, db, bus, tail, tx, auth, runtime, selector, memory)


def _use_cases(settings: Settings, db: Database, bus: EventBus, tail: EventTail, tx: Transactions,
               auth: Authorizer, runtime: Runtime, selector: SelectorSync, stores: MemoryAccess) -> Services:
    """Each use case with only the collaborators it uses."""
    rt, metrics = runtime, runtime.metrics
    the_analysis = analysis.Deps(tx.read, auth.authorize, rt.stats, rt.flush_stats)
    the_lifecycle = lifecycle.Deps(tx.write, auth.authorize, rt.backends, metrics, rt.flush_stats, the_analysis,
                                   auth.policy_state)
    the_execution = execution.Deps(rt.backends, rt.watchdog, rt.load, rt.hard_timeouts, rt.stats, metrics,
                                   rt.runtime_context, auth.cached_policy_state, immune.Deps(tx.write, the_lifecycle))
    the_invoke = invoke.Deps(auth.policy, auth.cached_policy_state, rt.routes, rt.resolved, rt.shadows, rt.stats,
                             metrics, the_execution)
    the_nodes = nodes.Deps(tx.read, auth.authorize, auth.policy_state, auth.policy, the_execution, rt.resolved.get)
    the_self_edit = self_edit.Deps(tx.write, the_invoke)
    the_dryrun = dryrun.Deps(rt.backends, selector, the_execution, the_self_edit)
    the_fabricate = fabricate.Deps(tx.read, tx.write, auth.authorize, auth.policy_state, metrics, the_dryrun,
                                   the_self_edit)
    the_organs = organs.Deps(tx.read, tx.write, auth.authorize, auth.policy, auth.policy_state, selector, rt.stats,
                             rt.flush_stats, metrics, the_lifecycle, the_nodes, the_execution, the_self_edit)
    trainers = trainer.Trainers(trainer.Deps(tx.read, tx.write, auth.policy_state, metrics, settings.replica,
                                             the_execution))
    the_training = training.Deps(tx.read, tx.write, auth.authorize, metrics, settings.replica, settings.var_dir,
                                 the_fabricate, trainers)
    the_capabilities = capabilities.Deps(tx.read, tx.write, auth.authorize)
    the_supervisor = supervisor.Supervisor(supervisor.Deps(tx.read, tx.write, rt.flush_stats, rt.stats, rt.shadows,
                                                           metrics, settings, the_analysis, the_lifecycle,
                                                           stores))
    notifier = WebhookNotifier.from_settings(settings, tail, metrics.notify_deliveries)
    workers = WorkerHost([*([notifier] if notifier else []), OnStop("event bus", bus.close), tail, the_supervisor,
                          trainers])
    return Services(
        settings=settings, db=db, bus=bus, tail=tail, metrics=metrics, auth=auth, runtime=rt, selector=selector,
        read=tx.read, write=tx.write, flush_stats=rt.flush_stats, analysis=the_analysis, lifecycle=the_lifecycle,
        execution=the_execution, invoke=the_invoke, nodes=the_nodes, self_edit=the_self_edit, dryrun=the_dryrun,
        fabricate=the_fabricate, organs=the_organs, training=the_training, capabilities=the_capabilities,
        audit=audit.Deps(tx.read, auth.authorize, db.seal),
        introspection=introspection.Deps(tx.read, auth.policy, auth.cached_policy_state, settings.replica,
                                         "sqlite" if db.is_sqlite else "postgresql", rt.watchdog, rt.backends,
                                         rt.load, rt.stats),
        commands=commands.Deps(tx.read, tx.write, auth.authorize, auth.policy, auth.policy_state,
                               settings.examples_dir, the_capabilities, the_fabricate, the_lifecycle, the_nodes,
                               the_organs, the_training, the_dryrun, llm_client.from_settings(settings)),
        events=events.Deps(bus, tx.read, auth.authorize), permissions=permissions.Deps(tx.read, auth.policy, auth.policy_state),
        examples=examples.Deps(tx.read, the_fabricate, the_organs),
        memory=memory.Deps(tx.read, auth.authorize, stores),
        supervisor=the_supervisor, trainers=trainers, workers=workers)


def _count_active(read: Read) -> float:
    """For the gauge: NaN while the database cannot answer, so /metrics still serves everything else."""
    try:
        with read() as uow:
            counts = uow.nodes.count_by_state("node")  # neither organs nor the factory's own modules
    except SQLAlchemyError:
        return float("nan")
    return float(sum(counts.get(s.value, 0) for s in LIVE))


def _safe_mode_now(auth: Authorizer) -> float:
    """For the gauge: as this replica sees it (another replica's switch within the cache TTL)."""
    try:
        return 1.0 if auth.cached_policy_state().safe_mode else 0.0
    except SQLAlchemyError:
        return float("nan")
