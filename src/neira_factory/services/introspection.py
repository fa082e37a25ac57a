"""`/api/neira/introspection/status`: what the factory is and holds, for Neira's introspection."""
from __future__ import annotations

from typing import Any

from .. import __version__
from ..domain.actors import Actor
from ..domain.capabilities import FACTORY_NODE_PREFIX
from .factory import SAFE_MODE_KEY, Factory


def status(f: Factory, actor: Actor) -> dict[str, Any]:
    with f.read() as uow:
        f.authorize(uow, actor, "introspection.read")
        by_state = uow.nodes.count_by_state(exclude_kind="organ", exclude_prefix=FACTORY_NODE_PREFIX)
        organs = uow.nodes.count_by_state(kind="organ")
        modules = uow.nodes.count_by_state(prefix=FACTORY_NODE_PREFIX)
        return {
            "service": "neira-factory",
            "version": __version__,
            "replica": f.settings.replica,
            "database": "postgresql" if not f.db.is_sqlite else "sqlite",
            "safe_mode": bool(uow.settings.get(SAFE_MODE_KEY, False)),
            "capabilities": {name: row["state"] for name, row in uow.capabilities.all().items()},
            "factory": {"nodes_total": sum(by_state.values()), "nodes_by_state": by_state,
                        "organs_total": sum(organs.values()), "organs_by_state": organs,
                        "modules_by_state": modules},
        }
