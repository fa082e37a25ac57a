"""Prometheus metrics with the seed's names; one registry per app so tests can run several apps."""
from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ..domain.errors import EXECUTION_ERROR_KINDS


QUARANTINE_CAUSES = ("admin", "integrity", "violation", "timeouts")
LATENCY_BUCKETS = (.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30)
OPERATION_BUCKETS = tuple(10.0 ** e for e in range(2, 12))
MEMORY_BUCKETS = tuple(2.0 ** e for e in range(16, 34, 2))
NOTIFY_OUTCOMES = ("delivered", "retried", "failed")
TRAINING_RUN_OUTCOMES = ("converged", "not_converged", "failed", "rejected")
NODE_REQUESTS, NODE_DURATION = "factory_node_requests_total", "factory_node_duration_seconds"
NODE_FAMILIES = (NODE_REQUESTS, NODE_DURATION)  # each node version's RED metrics, labelled by route and version


class FactoryMetrics:
    def __init__(self, active_nodes: Callable[[], float]):
        self.registry = CollectorRegistry()
        r = self.registry
        self.nodes_created = Counter("factory_nodes_created_total", "Nodes created (drafts)", registry=r)
        self.nodes_active = Gauge("factory_nodes_active", "Nodes in canary, experimental or stable", registry=r)
        self.nodes_active.set_function(active_nodes)
        self.exec_errors = Counter("factory_exec_errors_total", "Node execution errors", ["kind"], registry=r)
        for kind in EXECUTION_ERROR_KINDS:
            self.exec_errors.labels(kind)
        self.dryrun_requests = Counter("factory_dryrun_requests_total", "Dry-run requests", registry=r)
        self.approvals = Counter("factory_approvals_total", "Approvals (each approve transition)", registry=r)
        self.rollbacks = Counter("factory_rollbacks_total", "Rollbacks", registry=r)
        self.transitions = Counter("factory_state_transitions_total", "Lifecycle transitions", ["from", "to"],
                                   registry=r)
        self.safe_mode = Gauge("safe_mode", "1 while safe-mode is on", registry=r)
        self.notify_deliveries = Counter("notify_deliveries_total", "Webhook delivery attempts by outcome "
                                         "(delivered, retried, failed)", ["outcome"], registry=r)
        for outcome in NOTIFY_OUTCOMES:
            self.notify_deliveries.labels(outcome)
        self._runtime(r)
        self._training(r)
        self._memory(r)

    def _runtime(self, r: CollectorRegistry) -> None:
        """RED per node version, USE per sandbox, watchdogs, shadow comparisons, analysis and immune counters."""
        self.node_requests = Counter(NODE_REQUESTS, "Routed invocations per node version",
                                     ["route", "version", "state", "outcome"], registry=r)
        self.node_duration = Histogram(NODE_DURATION, "Routed invocation latency",
                                       ["route", "version"], buckets=LATENCY_BUCKETS, registry=r)
        self.sandbox_operations = Histogram("factory_sandbox_operations", "Operations (or fuel) per invocation",
                                            ["backend"], buckets=OPERATION_BUCKETS, registry=r)
        self.sandbox_memory = Histogram("factory_sandbox_memory_peak_bytes", "Peak sandbox memory per invocation",
                                        ["backend"], buckets=MEMORY_BUCKETS, registry=r)
        self.sandbox_busy = Gauge("factory_sandbox_workers_busy", "Workers running a node (utilisation)",
                                  registry=r)
        self.sandbox_queued = Gauge("factory_sandbox_queue_length", "Invocations waiting for a worker (saturation)",
                                    registry=r)
        self.watchdog_timeouts = Counter("watchdog_timeouts_total", "Invocations past their soft or hard timeout",
                                         ["kind"], registry=r)
        for kind in ("soft", "hard"):
            self.watchdog_timeouts.labels(kind)
        self.shadow_comparisons = Counter("factory_shadow_comparisons_total", "Shadow copies compared with the "
                                          "primary's output", ["route", "outcome"], registry=r)
        self.analysis_verdicts = Counter("factory_analysis_verdicts_total", "Analysis phases reached by candidates",
                                         ["phase"], registry=r)
        self.organ_build_attempts = Counter("organ_build_attempts_total", "Organ builds asked for (dry-run or not)",
                                            registry=r)
        self.organ_build_failures = Counter("organ_build_failures_total", "Organ builds refused or cancelled",
                                            registry=r)
        self.quarantines = Counter("immune_quarantines_total", "Nodes quarantined, by cause", ["cause"], registry=r)
        for cause in QUARANTINE_CAUSES:
            self.quarantines.labels(cause)

    def _training(self, r: CollectorRegistry) -> None:
        """The Training Orchestrator: iterations evaluated (ok or failed), runs ended (by outcome), runs
        converged (by cause)."""
        self.training_iterations = Counter("training_iterations_total", "Training iterations evaluated, by outcome "
                                           "(ok, error)", ["outcome"], registry=r)
        for outcome in ("ok", "error"):
            self.training_iterations.labels(outcome)
        self.training_runs_finished = Counter("training_runs_finished_total", "Training runs ended, once each, by "
                                              "outcome (converged, not_converged, failed, rejected while "
                                              "unfinished)", ["outcome"], registry=r)
        for outcome in TRAINING_RUN_OUTCOMES:
            self.training_runs_finished.labels(outcome)
        self.training_converged = Counter("training_converged_total", "Training runs converged, by cause (target, "
                                          "patience, exhausted)", ["cause"], registry=r)
        for cause in ("target", "patience", "exhausted"):
            self.training_converged.labels(cause)

    def _memory(self, r: CollectorRegistry) -> None:
        """Memory stores: records held, operations by outcome, evictions, search latency."""
        self.memory_records = Gauge("memory_records", "Records in a memory store", ["store"], registry=r)
        self.memory_ops = Counter("memory_ops_total", "Memory node operations, by outcome (ok, error, forbidden)",
                                  ["store", "op", "outcome"], registry=r)
        self.memory_evictions = Counter("memory_evictions_total", "Records evicted beyond a store's capacity",
                                        ["store"], registry=r)
        self.memory_search = Histogram("memory_search_seconds", "Memory search latency (the store's query and "
                                       "ranking)", buckets=LATENCY_BUCKETS, registry=r)

    def watch_sandbox(self, busy: Callable[[], float], queued: Callable[[], float]) -> None:
        self.sandbox_busy.set_function(busy)
        self.sandbox_queued.set_function(queued)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
