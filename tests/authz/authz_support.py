"""The authorization matrix's world and its oracle.

`World`: a factory seeded ONCE per session with something for every write endpoint to act on (nodes in
each state, factory modules, organs, finished and waiting training runs), copied file by file for each
combination (SQLite: a copy is a fresh, identical factory in milliseconds), then put into the
combination's safe-mode and gate state.

`expected(steps, scope, safe_mode, gates)`: what the policy table `neira_factory.policy.rules.ACTIONS` says
a request must get — the generalisation of tests/integration/test_api_authorization.py::expectation to
requests that pass several policy decisions in a row (an approve that needs `force`, a confirmation that
creates nodes) and to capability gates.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from memory_support import stable_memory
from seeding import STABLE, seed_node_states, train
from support import ROOT, auth, make_settings

from neira_factory.api.app import create_app
from neira_factory.domain.actors import SYSTEM
from neira_factory.domain.capabilities import GateState
from neira_factory.policy import ACTIONS
from neira_factory.services import capabilities, fabricate, lifecycle, organs
from neira_factory.services.bootstrap import build_services
from neira_factory.config.tokens import TokenRegistry

RANK = {"read": 0, "write": 1, "admin": 2}
SCOPES = [None, "read", "write", "admin"]

# what the seeded factory holds besides tests/seeding.py's nodes
MODULE_DRAFT, MODULE_STABLE, MODULE_QUARANTINED = "factory.selector.v2", "factory.selector.v1", "factory.rollout.v1"
ORGAN_DRAFT, ORGAN_CANARY, ORGAN_QUARANTINED = "organ.mirror.v1", "organ.mirror2.v1", "organ.mirror3.v1"


@dataclass(frozen=True)
class Step:
    """One policy decision a request passes: the action, and the gates that decision names."""

    action: str
    gates: tuple[str, ...] = ()


def expected(steps: tuple[Step, ...], scope: str | None, safe_mode: bool,
             gates: dict[str, str]) -> tuple[int | None, str | None]:
    """(None, None) when the request must succeed, else (status, code) of the first refusal in `steps`."""
    if scope is None:
        return 401, "unauthorized"
    for step in steps:
        rule = ACTIONS[step.action]
        if RANK[scope] < RANK[rule.scope]:
            return 403, "insufficient_scope"
        if rule.mutates and safe_mode and scope != "admin":
            return 403, "safe_mode"
        for gate in step.gates:
            if gates.get(gate) not in (GateState.EXPERIMENTAL.value, GateState.STABLE.value):
                return 403, "capability_disabled"
    return None, None


# ---- the seeded world ------------------------------------------------------------------------------


def seed(f) -> dict[str, str]:
    """Everything the matrix acts on; returns the ids that are not fixed (training runs)."""
    seed_node_states(f, "seed")
    # the factory's own modules (self_edit): a draft of a new selector version, one quarantined module
    capabilities.set_capability(f.capabilities, SYSTEM, "self_edit", "experimental", reason="seed")
    fabricate.create(f.fabricate, SYSTEM, {"id": MODULE_DRAFT, "version": "0.2.0", "analysis_type": "selector_weights"})
    capabilities.set_capability(f.capabilities, SYSTEM, "self_edit", "locked", reason="seed")
    lifecycle.transition(f.lifecycle, SYSTEM, MODULE_QUARANTINED, "quarantine", reason="seed")
    # organs: a draft, a canary, a quarantined one
    for organ_id in (ORGAN_DRAFT, ORGAN_CANARY, ORGAN_QUARANTINED):
        organs.build(f.organs, SYSTEM, {"organ_template": {"id": organ_id, "nodes": [STABLE],
                                                     "channels": [{"name": "main", "nodes": [STABLE]}]},
                                 "dryrun": False})
    lifecycle.transition(f.lifecycle, SYSTEM, ORGAN_CANARY, "approve")
    lifecycle.transition(f.lifecycle, SYSTEM, ORGAN_QUARANTINED, "quarantine", reason="seed")
    # a memory node (its store: its route), for the memory ops through /invoke and the bulk import
    stable_memory(f)
    # training: a finished run (approve / reject) and one waiting at a checkpoint (continue)
    done = train(f, max_iterations=2)
    waiting = train(f, until=lambda run: run.state == "waiting", approve_every=1, patience=100)
    return {"done": done, "waiting": waiting}


def settings_for(directory: Path):
    return make_settings(directory, examples_dir=ROOT / "examples")


def make_template(directory: Path) -> dict[str, str]:
    """Build and seed the session's template factory in `directory`; returns the run ids."""
    f = build_services(settings_for(directory))
    try:
        return seed(f)
    finally:
        f.trainers.stop()
        f.db.dispose()


@dataclass
class World:
    f: Any
    client: TestClient
    ids: dict[str, str]
    gates: dict[str, str] = field(default_factory=dict)

    @classmethod
    def copy_of(cls, template: Path, ids: dict[str, str], directory: Path) -> World:
        directory.mkdir(parents=True, exist_ok=True)
        for path in template.glob("factory.db*"):
            shutil.copy(path, directory / path.name)
        f = build_services(settings_for(directory))
        return cls(f, TestClient(create_app(f, TokenRegistry.load(f.settings)), raise_server_exceptions=False), ids)

    def put_in(self, *, safe_mode: bool, gate: str | None, gate_open: bool) -> None:
        if gate is not None:
            capabilities.set_capability(self.f.capabilities, SYSTEM, gate, "experimental" if gate_open else "locked",
                                        reason="authz matrix")
        if safe_mode:
            capabilities.set_safe_mode(self.f.capabilities, SYSTEM, True, reason="authz matrix")
        with self.f.read() as uow:
            self.gates = {name: row["state"] for name, row in uow.capabilities.all().items()}

    def close(self) -> None:
        self.f.trainers.stop()
        self.f.db.dispose()


def headers(scope: str | None) -> dict[str, str]:
    return auth(scope) if scope else {}
