"""Natural-language commands (Russian and English).

The parser turns a command into an Intent against a Vocabulary of known names;
the planner (planner.py) turns an Intent into a plan.
"""
from .parser import parse, step_impl
from .synonyms import (
    ACTION_WORDS,
    GATE_STATES,
    IMPL_SYNONYMS,
    OPTION_IMPL,
    OPTION_SYNONYMS,
    ORGAN_SYNONYMS,
    STEP_LABELS,
    SYNONYMS,
)
from .vocabulary import ACTIONS, TARGETS, Intent, NotUnderstood, Vocabulary

__all__ = [
    "ACTIONS",
    "ACTION_WORDS",
    "GATE_STATES",
    "IMPL_SYNONYMS",
    "OPTION_IMPL",
    "OPTION_SYNONYMS",
    "ORGAN_SYNONYMS",
    "STEP_LABELS",
    "SYNONYMS",
    "TARGETS",
    "Intent",
    "NotUnderstood",
    "Vocabulary",
    "parse",
    "step_impl",
]
