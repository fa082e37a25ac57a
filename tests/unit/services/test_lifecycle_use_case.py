"""The lifecycle use case on an in-memory unit of work (fake_uow.py): what a transition persists (the
conditional move, the transition row, the audit entry and the event, together), the consequences on the
route the Node aggregate plans (supersede, reinstate), the policy's refusals and a stale move. The same use
case runs on SQLite and PostgreSQL in tests/integration."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from neira_factory.backends.catalog import build_backends
from neira_factory.backends.memory_access import MemoryAccess
from neira_factory.config import Settings
from neira_factory.domain.actors import Actor
from neira_factory.domain.errors import AnalysisNotPassed, Forbidden, InvalidTransition
from neira_factory.domain.lifecycle import Action, State
from neira_factory.domain.node import Node
from neira_factory.domain.templates import NodeTemplate
from neira_factory.nervous.metrics import FactoryMetrics
from neira_factory.policy import PolicyEngine
from neira_factory.runtime.stats import StatsRecorder
from neira_factory.services import analysis, lifecycle
from neira_factory.services.authorizer import Authorizer
from neira_factory.store.templates import store_template

from fake_uow import FakeUnitOfWork

WRITER, ADMIN, READER = Actor("writer", "write"), Actor("admin", "admin"), Actor("reader", "read")
NO_STORE = MemoryAccess(read=None, write=None, metrics=FactoryMetrics(lambda: 0.0))  # no memory node runs here


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def deps(uow, tmp_path) -> lifecycle.Deps:
    auth = Authorizer(PolicyEngine(), uow, four_eyes=False, ttl_s=0)
    stats = StatsRecorder("test", 10)
    return lifecycle.Deps(uow, auth.authorize, build_backends(Settings(var_dir=tmp_path), NO_STORE),
                          FactoryMetrics(lambda: 0.0), lambda: 0,
                          analysis.Deps(uow, auth.authorize, stats, lambda: 0), auth.policy_state)


def version(uow: FakeUnitOfWork, n: int, state: State) -> Node:
    """Version n of analysis.echo, stored in `state`."""
    template = NodeTemplate.model_validate({"id": f"analysis.echo.v{n}", "version": f"0.{n}.0",
                                            "analysis_type": "echo"})
    node = Node.draft(template, sha256=store_template(uow, template), report={"risks": []}, actor=WRITER,
                      at=datetime(2026, 1, n, tzinfo=UTC), state=state)
    uow.nodes.add(node)
    return node


def test_approving_a_draft_persists_the_move_its_row_its_audit_entry_and_its_event_together(uow, deps):
    version(uow, 1, State.DRAFT)
    answer = lifecycle.transition(deps, WRITER, "analysis.echo.v1", "approve", reason="looks right")
    assert answer == lifecycle.TransitionResult(id="analysis.echo.v1", state="canary", previous="draft", forced=False,
                                                allowed=["approve", "rollback", "disable", "quarantine"])
    node = uow.nodes.get("analysis.echo.v1")
    assert (node.state, node.row_version) == (State.CANARY, 2)
    assert uow.nodes.transitions == [("analysis.echo.v1", "approve", "draft", "canary", "writer", "looks right",
                                      False)]
    assert uow.audit.entries == [{"actor": "writer", "action": "node.approve", "resource": "analysis.echo.v1",
                                  "before": {"state": "draft", "row_version": 1},
                                  "after": {"state": "canary", "row_version": 2, "forced": False},
                                  "reason": "looks right"}]
    assert [(e.type, e.data["from"], e.data["to"]) for e in uow.events] == [("node.transition", "draft", "canary")]


def test_a_forced_graduation_deprecates_the_stable_version_of_the_route(uow, deps):
    version(uow, 1, State.STABLE)
    version(uow, 2, State.EXPERIMENTAL)
    with pytest.raises(AnalysisNotPassed):  # no traffic: the analysis is inconclusive
        lifecycle.transition(deps, WRITER, "analysis.echo.v2", "approve")
    with pytest.raises(Forbidden):  # forcing past the analysis is an admin's
        lifecycle.transition(deps, WRITER, "analysis.echo.v2", "approve", force=True, reason="known good")
    answer = lifecycle.transition(deps, ADMIN, "analysis.echo.v2", "approve", force=True, reason="known good")
    assert (answer.state, answer.forced) == ("stable", True)
    assert uow.nodes.get("analysis.echo.v1").state is State.DEPRECATED
    assert [row[1:4] for row in uow.nodes.transitions] == [("approve", "experimental", "stable"),
                                                           ("supersede", "stable", "deprecated")]
    supersede = uow.audit.entries[-1]
    assert (supersede["actor"], supersede["action"], supersede["reason"]) == (
        "system", "node.supersede", "superseded by analysis.echo.v2")


def test_rolling_back_a_stable_version_reinstates_its_predecessor(uow, deps):
    version(uow, 1, State.DEPRECATED)
    version(uow, 2, State.STABLE)
    lifecycle.transition(deps, WRITER, "analysis.echo.v2", "rollback", reason="regression")
    assert uow.nodes.get("analysis.echo.v2").state is State.ROLLED_BACK
    assert uow.nodes.get("analysis.echo.v1").state is State.STABLE
    assert [e.data["action"] for e in uow.events] == ["rollback", "reinstate"]


def test_a_refused_or_invalid_transition_changes_nothing(uow, deps):
    version(uow, 1, State.DRAFT)
    with pytest.raises(Forbidden):
        lifecycle.transition(deps, READER, "analysis.echo.v1", "approve")
    with pytest.raises(InvalidTransition) as caught:
        lifecycle.transition(deps, WRITER, "analysis.echo.v1", "rollback")
    assert caught.value.extra["allowed"] == ["approve", "disable", "quarantine"]
    assert (uow.nodes.transitions, uow.audit.entries, uow.events) == ([], [], [])
    assert uow.nodes.get("analysis.echo.v1").state is State.DRAFT


def test_a_move_from_a_stale_read_is_refused_and_rolls_the_whole_transition_back(uow, deps):
    stale = version(uow, 1, State.DRAFT)
    lifecycle.transition(deps, WRITER, "analysis.echo.v1", "approve")
    with pytest.raises(InvalidTransition) as caught, uow() as inside:
        lifecycle.apply(deps, inside, WRITER, stale, Action.DISABLE, reason="late")
    assert caught.value.extra["state"] == "canary"
    assert [row[1] for row in uow.nodes.transitions] == ["approve"]
    assert uow.nodes.get("analysis.echo.v1").state is State.CANARY
