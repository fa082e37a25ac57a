"""`/api/neira/introspection/status`: what the factory is and holds, for Neira's introspection."""
from __future__ import annotations

from typing import Any

from .. import __version__
from ..domain.actors import Actor
from .factory import SAFE_MODE_KEY, Factory


def status(f: Factory, actor: Actor) -> dict[str, Any]:
    with f.read() as uow:
        f.authorize(uow, actor, "introspection.read")
        by_state = uow.nodes.count_by_state()
        return {
            "service": "neira-factory",
            "version": __version__,
            "replica": f.settings.replica,
            "database": "postgresql" if not f.db.is_sqlite else "sqlite",
            "safe_mode": bool(uow.settings.get(SAFE_MODE_KEY, False)),
            "capabilities": {name: row["state"] for name, row in uow.capabilities.all().items()},
            "factory": {"nodes_total": sum(by_state.values()), "nodes_by_state": by_state},
        }
