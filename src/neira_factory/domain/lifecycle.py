"""The node lifecycle of DESIGN §3 as one table: (state, action) -> rule.

Organs use the same table. The services consult it; nothing else decides
which transitions exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import InvalidTransition


class State(StrEnum):
    DRAFT = "draft"
    CANARY = "canary"
    EXPERIMENTAL = "experimental"
    STABLE = "stable"
    DEPRECATED = "deprecated"
    ROLLED_BACK = "rolled_back"
    DISABLED = "disabled"
    QUARANTINED = "quarantined"
    FAILED = "failed"  # an organ build that was cancelled or could not complete


class Action(StrEnum):
    APPROVE = "approve"
    SUPERSEDE = "supersede"
    REINSTATE = "reinstate"
    ROLLBACK = "rollback"
    DISABLE = "disable"
    QUARANTINE = "quarantine"
    RELEASE = "release"
    FAIL = "fail"


class Guard(StrEnum):
    """Checks a service must pass before the transition may happen."""

    NONE = "none"
    DRY_RUN_CLEAN = "dry_run_clean"  # no blocking risk in the dry-run report, integrity ok
    ANALYSIS_PASSED = "analysis_passed"  # runtime analysis passed (or admin force + reason)
    INTEGRITY = "integrity"  # integrity re-check passes


@dataclass(frozen=True)
class Rule:
    to: State | None  # None: back to the state before quarantine
    role: str  # minimal scope of a human actor: write or admin; "system" for internal moves
    guard: Guard = Guard.NONE


LIVE = (State.CANARY, State.EXPERIMENTAL, State.STABLE)
ACTIVE = (State.DRAFT, *LIVE)
SERVING = (*LIVE, State.DEPRECATED)

TABLE: dict[tuple[State, Action], Rule] = {
    (State.DRAFT, Action.APPROVE): Rule(State.CANARY, "write", Guard.DRY_RUN_CLEAN),
    (State.CANARY, Action.APPROVE): Rule(State.EXPERIMENTAL, "write", Guard.ANALYSIS_PASSED),
    (State.EXPERIMENTAL, Action.APPROVE): Rule(State.STABLE, "write", Guard.ANALYSIS_PASSED),
    (State.STABLE, Action.SUPERSEDE): Rule(State.DEPRECATED, "system"),
    (State.DEPRECATED, Action.REINSTATE): Rule(State.STABLE, "system"),  # its successor was rolled back
    **{(s, Action.ROLLBACK): Rule(State.ROLLED_BACK, "write") for s in LIVE},
    **{(s, Action.DISABLE): Rule(State.DISABLED, "write") for s in ACTIVE},
    **{(s, Action.QUARANTINE): Rule(State.QUARANTINED, "admin") for s in State
       if s not in (State.QUARANTINED, State.FAILED)},
    (State.QUARANTINED, Action.RELEASE): Rule(None, "admin", Guard.INTEGRITY),
    **{(s, Action.FAIL): Rule(State.FAILED, "write") for s in (State.DRAFT, State.CANARY)},
}

HUMAN_ACTIONS = (Action.APPROVE, Action.ROLLBACK, Action.DISABLE, Action.QUARANTINE, Action.RELEASE)


ORGAN_ONLY = (Action.FAIL,)  # cancelling a build is an organ's transition, not a node's


def allowed_actions(state: State | str, *, organ: bool = False) -> list[str]:
    """Actions a human may take from this state, in table order."""
    state = State(state)
    return [a.value for (s, a), rule in TABLE.items()
            if s is state and rule.role != "system" and (organ or a not in ORGAN_ONLY)]


def rule_for(state: State | str, action: Action | str, *, organ: bool = False) -> Rule:
    """The rule for (state, action), or InvalidTransition naming what is allowed instead."""
    state, action = State(state), Action(action)
    rule = TABLE.get((state, action)) if organ or action not in ORGAN_ONLY else None
    if rule is None:
        allowed = allowed_actions(state, organ=organ)
        raise InvalidTransition(
            f"cannot {action.value} from {state.value}; allowed: {', '.join(allowed) or 'nothing'}",
            state=state.value,
            allowed=allowed,
        )
    return rule
