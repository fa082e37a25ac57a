"""The audit trail: filtered reading and chain verification."""
from __future__ import annotations

from typing import Any

from ..domain.actors import Actor
from ..immune.chain import verify
from .factory import Factory


def list_audit(f: Factory, caller: Actor, **filters: Any) -> list[dict[str, Any]]:
    """Entries filtered by resource, actor or action (the filter `actor` is a name, not the caller)."""
    with f.read() as uow:
        f.authorize(uow, caller, "audit.read")
        return [e.to_dict() for e in uow.audit.list(**filters)]


def verify_audit(f: Factory, actor: Actor) -> dict[str, Any]:
    with f.read() as uow:
        f.authorize(uow, actor, "audit.read")
        return verify(uow.audit.iter_all())
