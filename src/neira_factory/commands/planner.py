"""From an understood command (an Intent) to a plan: the exact operations a confirmation will make.

Pure: the caller passes a snapshot of the world (nodes, organs, gates, the
example documents, the library). Each verb plans its own Intents (verbs/, through
the table in verbs/__init__.py) from the pieces in plans.py: organs come from
`examples/` when a document for that id exists (voice v1, vision v1/v2, the
speak-pipeline), else from a recipe of library implementations; every node an
organ needs and the registry lacks becomes a node to create first. Updates carry
a unified diff against the organ's current version.
"""
from __future__ import annotations

from .plans import Plan, World
from .verbs import BY_ACTION
from .vocabulary import Intent


def plan(intent: Intent, world: World) -> Plan:
    return BY_ACTION[intent.action].plan(intent, world)
