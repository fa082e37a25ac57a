"""The Node aggregate alone: a new version's record, and the transitions an action plans (its own and its
consequences on the route), with their audit entries and events."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from neira_factory.domain.actors import Actor
from neira_factory.domain.errors import InvalidTransition
from neira_factory.domain.lifecycle import Action, State
from neira_factory.domain.node import Node
from neira_factory.domain.templates import NodeTemplate, OrganTemplate

AT = datetime(2026, 12, 7, tzinfo=UTC)
HUMAN = Actor("ana", "write")


def node(n: int, state: State) -> Node:
    template = NodeTemplate.model_validate({"id": f"analysis.echo.v{n}", "version": f"0.{n}.0",
                                            "analysis_type": "echo"})
    return Node.draft(template, sha256="0" * 64, report=None, actor=HUMAN, at=AT, state=state)


def test_a_draft_takes_its_route_kind_and_backend_from_the_template():
    organ = OrganTemplate.model_validate({"id": "organ.voice.v2", "version": "0.2.0", "roles": ["a"],
                                          "cells": ["analysis.echo.v1"]})
    made = Node.draft(organ, sha256="1" * 64, report={"risks": []}, actor=HUMAN, at=AT)
    assert (made.route, made.kind, made.backend, made.state, made.row_version) == (
        "organ.voice", "organ", "organ", State.DRAFT, 1)
    creation = made.created("build", HUMAN, audit={"nodes": ["analysis.echo.v1"]})
    assert (creation.audit_action, creation.audit_after()) == ("organ.build",
                                                              {"state": "draft", "nodes": ["analysis.echo.v1"]})
    assert creation.event().type == "organ.created"


def test_reaching_stable_supersedes_every_other_stable_version():
    changes = node(3, State.EXPERIMENTAL).plan(Action.APPROVE, HUMAN, reason=None,
                                               stable=[node(1, State.STABLE), node(3, State.STABLE)])
    assert [(c.node.id, c.action, c.to, c.actor) for c in changes] == [
        ("analysis.echo.v3", Action.APPROVE, State.STABLE, "ana"),
        ("analysis.echo.v1", Action.SUPERSEDE, State.DEPRECATED, "system")]
    assert changes[1].event().data == {"action": "supersede", "from": "stable", "to": "deprecated",
                                       "route": "analysis.echo", "kind": "analysis", "actor": "system",
                                       "forced": False, "reason": "superseded by analysis.echo.v3"}


def test_only_a_stable_rollback_reinstates_and_only_where_a_predecessor_exists():
    previous = node(1, State.DEPRECATED)
    stable, canary = node(2, State.STABLE), node(2, State.CANARY)
    assert stable.needs_route(Action.ROLLBACK) == (False, True)
    assert canary.needs_route(Action.ROLLBACK) == (False, False)
    assert [c.action for c in stable.plan(Action.ROLLBACK, HUMAN, reason="x", deprecated=previous)] == [
        Action.ROLLBACK, Action.REINSTATE]
    assert [c.action for c in stable.plan(Action.ROLLBACK, HUMAN, reason="x")] == [Action.ROLLBACK]


def test_quarantine_remembers_the_state_that_release_returns_to():
    (quarantine,) = node(1, State.CANARY).plan(Action.QUARANTINE, HUMAN, reason="integrity")
    assert (quarantine.to, quarantine.prev_state) == (State.QUARANTINED, State.CANARY)
    held = node(1, State.CANARY).moved(State.QUARANTINED, prev_state=State.CANARY, at=AT)
    (release,) = held.plan(Action.RELEASE, HUMAN, reason=None)
    assert (release.to, held.row_version) == (State.CANARY, 2)


def test_an_action_the_table_does_not_allow_is_refused_naming_what_is():
    with pytest.raises(InvalidTransition) as caught:
        node(1, State.DRAFT).plan(Action.ROLLBACK, HUMAN, reason=None)
    assert caught.value.extra["allowed"] == ["approve", "disable", "quarantine"]
