"""Prometheus metrics with the seed's names; one registry per app so tests can run several apps."""
from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


EXEC_ERROR_KINDS = ("bad_input", "exception", "timeout", "limit", "policy", "bad_output")


class FactoryMetrics:
    def __init__(self, active_nodes: Callable[[], float]):
        self.registry = CollectorRegistry()
        r = self.registry
        self.nodes_created = Counter("factory_nodes_created_total", "Nodes created (drafts)", registry=r)
        self.nodes_active = Gauge("factory_nodes_active", "Nodes in canary, experimental or stable", registry=r)
        self.nodes_active.set_function(active_nodes)
        self.exec_errors = Counter("factory_exec_errors_total", "Node execution errors", ["kind"], registry=r)
        for kind in EXEC_ERROR_KINDS:
            self.exec_errors.labels(kind)
        self.dryrun_requests = Counter("factory_dryrun_requests_total", "Dry-run requests", registry=r)
        self.approvals = Counter("factory_approvals_total", "Approvals (each approve transition)", registry=r)
        self.rollbacks = Counter("factory_rollbacks_total", "Rollbacks", registry=r)
        self.transitions = Counter("factory_state_transitions_total", "Lifecycle transitions", ["from", "to"],
                                   registry=r)
        self.safe_mode = Gauge("safe_mode", "1 while safe-mode is on", registry=r)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
