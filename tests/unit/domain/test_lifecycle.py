"""The lifecycle table of DESIGN §3, row by row, and the refusals around it."""
import pytest

from neira_factory.domain.errors import InvalidTransition
from neira_factory.domain.lifecycle import Guard, State, allowed_actions, rule_for

ROWS = [
    ("draft", "approve", "canary", "write", Guard.DRY_RUN_CLEAN),
    ("canary", "approve", "experimental", "write", Guard.ANALYSIS_PASSED),
    ("experimental", "approve", "stable", "write", Guard.ANALYSIS_PASSED),
    ("stable", "supersede", "deprecated", "system", Guard.NONE),
    ("canary", "rollback", "rolled_back", "write", Guard.NONE),
    ("experimental", "rollback", "rolled_back", "write", Guard.NONE),
    ("stable", "rollback", "rolled_back", "write", Guard.NONE),
    ("draft", "disable", "disabled", "write", Guard.NONE),
    ("canary", "disable", "disabled", "write", Guard.NONE),
    ("experimental", "disable", "disabled", "write", Guard.NONE),
    ("stable", "disable", "disabled", "write", Guard.NONE),
    ("stable", "quarantine", "quarantined", "admin", Guard.NONE),
    ("draft", "quarantine", "quarantined", "admin", Guard.NONE),
    ("quarantined", "release", None, "admin", Guard.INTEGRITY),
]


@pytest.mark.parametrize("state,action,to,role,guard", ROWS)
def test_each_row_of_the_design_table(state, action, to, role, guard):
    rule = rule_for(state, action)
    assert (rule.to.value if rule.to else None, rule.role, rule.guard) == (to, role, guard)


@pytest.mark.parametrize("state,action", [
    ("draft", "rollback"), ("deprecated", "approve"), ("rolled_back", "approve"), ("disabled", "approve"),
    ("stable", "approve"), ("quarantined", "approve"), ("stable", "release"), ("quarantined", "quarantine"),
    ("disabled", "disable"),
])
def test_invalid_transitions_name_what_is_allowed(state, action):
    with pytest.raises(InvalidTransition) as err:
        rule_for(state, action)
    assert err.value.status == 409
    assert err.value.code == "invalid_transition"
    assert err.value.extra["allowed"] == allowed_actions(state)
    assert state in err.value.reason


def test_system_moves_are_not_offered_to_humans():
    assert "supersede" not in allowed_actions("stable")
    assert allowed_actions("stable") == ["rollback", "disable", "quarantine"]
    assert allowed_actions("quarantined") == ["release"]
    assert allowed_actions(State.DEPRECATED) == ["quarantine"]
