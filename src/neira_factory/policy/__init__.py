"""PolicyEngine: the one place that answers "may ACTOR do ACTION on RESOURCE now?"."""
from .engine import Decision, PolicyEngine, PolicyState
from .rules import ACTIONS, ActionRule

__all__ = ["ACTIONS", "ActionRule", "Decision", "PolicyEngine", "PolicyState"]
