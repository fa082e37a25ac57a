"""The policy table: each action the factory exposes, the scope it needs, and whether it mutates.

Mutating actions become admin-only in safe-mode. Gates are named per request
(the backend of a template, the gates of an organ), so they are not in this table.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ActionRule:
    scope: str  # read | write | admin
    mutates: bool  # a write: admin-only in safe-mode
    human: bool = False  # a human decision: subject to four-eyes when configured


ACTIONS: dict[str, ActionRule] = {
    "nodes.read": ActionRule("read", False),
    "nodes.dryrun": ActionRule("write", False),
    "nodes.create": ActionRule("write", True),
    "nodes.approve": ActionRule("write", True, human=True),
    "nodes.rollback": ActionRule("write", True),
    "nodes.disable": ActionRule("write", True),
    "nodes.quarantine": ActionRule("admin", True),
    "nodes.release": ActionRule("admin", True),
    "nodes.force": ActionRule("admin", True),
    "nodes.run": ActionRule("write", False),
    "nodes.fail": ActionRule("write", True),
    "organs.dryrun": ActionRule("write", False),
    "organs.build": ActionRule("write", True),
    "commands.plan": ActionRule("read", False),
    "commands.confirm": ActionRule("write", True),
    "routes.invoke": ActionRule("write", False),
    "memory.read": ActionRule("read", False),  # a memory node's get and search (docs/memory.md)
    "memory.write": ActionRule("write", True),  # its put, forget, push_metrics, and bulk imports
    "capabilities.read": ActionRule("read", False),
    "capabilities.set": ActionRule("admin", True),
    "safe_mode.set": ActionRule("admin", True),
    "audit.read": ActionRule("read", False),
    "introspection.read": ActionRule("read", False),
    "events.read": ActionRule("read", False),
    "training.start": ActionRule("write", True),
    "training.read": ActionRule("read", False),
    "training.decide": ActionRule("write", True, human=True),
}
