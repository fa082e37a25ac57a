"""The immune system's own moves: quarantine a node on integrity mismatch, sandbox violation or
repeated hard timeouts. The node stops receiving traffic with the very next request."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.actors import IMMUNE
from ..domain.errors import InvalidTransition
from ..domain.lifecycle import Action, State
from . import lifecycle
from .ports import Write


@dataclass(frozen=True)
class Deps:
    """What quarantine uses: a write and the lifecycle."""

    write: Write
    lifecycle: lifecycle.Deps


def quarantine(f: Deps, node_id: str, cause: str, reason: str, evidence: dict[str, Any] | None = None) -> bool:
    """Quarantine unless it already is (or another replica got there first); True when this call did it."""
    with f.write() as uow:
        record = uow.nodes.get(node_id)
        if record is None or record.state == State.QUARANTINED.value:
            return False
        try:
            done = lifecycle.apply(f.lifecycle, uow, IMMUNE, record, Action.QUARANTINE, reason=reason,
                                    evidence={"cause": cause, **(evidence or {})})
        except InvalidTransition:
            return False
    lifecycle.count(f.lifecycle, Action.QUARANTINE, done, cause)
    return True
