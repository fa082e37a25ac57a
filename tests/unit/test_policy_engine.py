"""PolicyEngine decisions: scopes, safe-mode, gates, four-eyes — each with its code and reason."""
import pytest

from neira_factory.domain.actors import Actor
from neira_factory.domain.errors import Forbidden
from neira_factory.policy import ACTIONS, PolicyEngine, PolicyState

ENGINE = PolicyEngine()
GATES = {"factory_adapter": "experimental", "factory_script": "locked", "factory_wasm": "disabled",
         "organs_builder": "stable"}
ACTORS = {s: Actor(f"{s}-user", s) for s in ("read", "write", "admin")}


def expected(action: str, scope: str, safe_mode: bool) -> bool:
    rule = ACTIONS[action]
    needed = "admin" if rule.mutates and safe_mode else rule.scope
    return ("read", "write", "admin").index(scope) >= ("read", "write", "admin").index(needed)


@pytest.mark.parametrize("safe_mode", [False, True])
@pytest.mark.parametrize("scope", ["read", "write", "admin"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_scope_and_safe_mode_matrix(action, scope, safe_mode):
    decision = ENGINE.decide(ACTORS[scope], action, PolicyState(GATES, safe_mode=safe_mode))
    assert decision.allowed is expected(action, scope, safe_mode)
    if not decision.allowed:
        assert decision.code == ("safe_mode" if safe_mode and expected(action, scope, False) else "insufficient_scope")
        assert decision.extra["required_role"] in ("write", "admin")
        assert action in decision.reason


@pytest.mark.parametrize("gate,allowed", [("factory_adapter", True), ("organs_builder", True),
                                          ("factory_script", False), ("factory_wasm", False), ("no_such", False)])
def test_gates(gate, allowed):
    decision = ENGINE.decide(ACTORS["admin"], "nodes.create", PolicyState(GATES), gates=(gate,))
    assert decision.allowed is allowed
    if not allowed:
        assert decision.code == "capability_disabled"
        assert decision.extra == {"capability": gate}
        with pytest.raises(Forbidden) as err:
            decision.enforce()
        assert err.value.body()["capability"] == gate


def test_locked_gate_says_an_admin_can_unlock_it():
    decision = ENGINE.decide(ACTORS["write"], "nodes.create", PolicyState(GATES), gates=("factory_script",))
    assert "locked" in decision.reason and "unlock" in decision.reason


def test_four_eyes_only_when_configured_and_only_for_the_creator():
    creator = ACTORS["write"]
    on, off = PolicyState(GATES, four_eyes=True), PolicyState(GATES)
    assert ENGINE.decide(creator, "nodes.approve", off, owner=creator.name).allowed
    refused = ENGINE.decide(creator, "nodes.approve", on, owner=creator.name)
    assert (refused.allowed, refused.code) == (False, "four_eyes")
    assert ENGINE.decide(ACTORS["admin"], "nodes.approve", on, owner=creator.name).allowed
    assert ENGINE.decide(creator, "nodes.rollback", on, owner=creator.name).allowed
