"""Capability gates: their states, defaults, and which gate each backend needs (both from backend_kinds.py)."""
from __future__ import annotations

from enum import Enum

from .backend_kinds import BACKEND_KINDS


class GateState(str, Enum):
    LOCKED = "locked"  # off until an admin unlocks it
    EXPERIMENTAL = "experimental"  # on; dry-run and HITL mandatory
    STABLE = "stable"  # on
    DEPRECATED = "deprecated"  # off
    DISABLED = "disabled"  # off


OPEN = (GateState.EXPERIMENTAL, GateState.STABLE)

DEFAULT_GATES: dict[str, GateState] = {
    **{kind.gate: GateState(kind.default_state) for kind in BACKEND_KINDS.values()},
    "organs_builder": GateState.EXPERIMENTAL,
    "self_edit": GateState.LOCKED,
    "training": GateState.STABLE,  # training runs: a closed gate refuses new runs and pauses running ones
    "organ_voice": GateState.EXPERIMENTAL,
    "organ_vision_readonly": GateState.EXPERIMENTAL,
    "organ_echo": GateState.EXPERIMENTAL,
    "organ_reverse": GateState.EXPERIMENTAL,
    "organ_recall": GateState.EXPERIMENTAL,
}

BACKEND_GATES = {kind.name: kind.gate for kind in BACKEND_KINDS.values()}


def is_open(state: GateState | str) -> bool:
    return GateState(state) in OPEN


FACTORY_NODE_PREFIX = "factory."  # the factory's own tunable modules (factory.selector.v1, factory.rollout.v1)
SELF_EDIT_GATE = "self_edit"
TRAINING_GATE = "training"
