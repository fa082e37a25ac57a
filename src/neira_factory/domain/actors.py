"""Who is acting: a named actor with a scope (read < write < admin)."""
from __future__ import annotations

from dataclasses import dataclass

SCOPES = ("read", "write", "admin")


def scope_rank(scope: str) -> int:
    return SCOPES.index(scope) if scope in SCOPES else -1


@dataclass(frozen=True)
class Actor:
    name: str
    scope: str  # read | write | admin

    def has(self, scope: str) -> bool:
        return scope_rank(self.scope) >= scope_rank(scope)


SYSTEM = Actor("system", "admin")
EXAMPLES = Actor("examples", "admin")  # loads the example files into an empty factory (their drafts yield: node.py)
WATCHDOG = Actor("watchdog", "admin")  # acts on analysis verdicts: automatic rollback and graduation
IMMUNE = Actor("immune", "admin")  # quarantines on integrity mismatch, sandbox violation, repeated hard timeouts
