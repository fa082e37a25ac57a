"""Natural-language commands (Russian and English).

The parser (parser.py) turns a command into an Intent against a Vocabulary of
known names; the planner (planner.py) turns an Intent into a plan. Both read the
table of verbs (verbs/__init__.py), which says how each command is read and
planned and which kinds of step its plans hold.
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
from .verbs import VERBS
from .vocabulary import TARGETS, Intent, NotUnderstood, Vocabulary

ACTIONS = tuple(verb.action for verb in VERBS)

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
    "VERBS",
    "Intent",
    "NotUnderstood",
    "Vocabulary",
    "parse",
    "step_impl",
]
