"""`/api/neira/introspection/status`: what the factory is and holds, for Neira's introspection, and its model."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from .. import __version__
from ..domain.actors import Actor
from ..domain.capabilities import FACTORY_NODE_PREFIX
from .authorizer import safe_mode_on
from .ports import Authorize, Read


@dataclass(frozen=True)
class Deps:
    """What the status uses: a read, the policy, this replica's name and the database's kind."""

    read: Read
    authorize: Authorize
    replica: str
    database: str


class IntrospectionStatus(BaseModel):
    service: str
    version: str
    replica: str
    database: str
    safe_mode: bool
    capabilities: dict[str, str]
    factory: dict[str, Any]


def status(f: Deps, actor: Actor) -> IntrospectionStatus:
    with f.read() as uow:
        f.authorize(uow, actor, "introspection.read")
        by_state = uow.nodes.count_by_state(exclude_kind="organ", exclude_prefix=FACTORY_NODE_PREFIX)
        organs = uow.nodes.count_by_state(kind="organ")
        modules = uow.nodes.count_by_state(prefix=FACTORY_NODE_PREFIX)
        return IntrospectionStatus(
            service="neira-factory",
            version=__version__,
            replica=f.replica,
            database=f.database,
            safe_mode=safe_mode_on(uow),
            capabilities={name: row["state"] for name, row in uow.capabilities.all().items()},
            factory={"nodes_total": sum(by_state.values()), "nodes_by_state": by_state,
                     "organs_total": sum(organs.values()), "organs_by_state": organs,
                     "modules_by_state": modules},
        )
