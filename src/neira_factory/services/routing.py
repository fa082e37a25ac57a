"""What the runtime's caches load from the database: a route's live versions (each template verified as it
is loaded, a broken one set aside) and a node to link to or run inside an organ."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from ..backends import Backends, ResolvedNode
from ..domain.errors import NotFound
from ..domain.ids import is_valid_id
from ..domain.lifecycle import LIVE, State
from ..immune.integrity import IntegrityError
from ..runtime.router import RouteTable, Version, sort_candidates
from ..store.templates import load_template
from .ports import UnitOfWork


def resolved_in(uow: UnitOfWork, node_id: str) -> ResolvedNode | None:
    """A node to link to or to run inside an organ (an organ is neither)."""
    record = uow.nodes.get(node_id)
    if record is None or record.is_organ:
        return None
    return ResolvedNode(load_template(uow, record), record.state)


class RouteReader:
    def __init__(self, read: Callable[[], AbstractContextManager[UnitOfWork]], backends: Backends):
        self._read = read
        self._backends = backends

    def route_table(self, route: str) -> RouteTable:
        """The live versions of a route, each template verified as it is loaded."""
        with self._read() as uow:
            # a name no node could have (a NUL, which PostgreSQL cannot even compare) is not looked up
            records = uow.nodes.list(route=route, limit=1000) if is_valid_id(route) else []
            if not records:
                raise NotFound(f"route {route} has no nodes", route=route)
            stable, candidates, idle, broken = None, [], [], []
            for record in records:
                if record.state not in LIVE:
                    idle.append(f"{record.id} ({record.state})")
                    continue
                try:
                    version = Version(record, load_template(uow, record))
                    self._backends.verify(version.template)
                except IntegrityError as exc:
                    broken.append((record.id, exc.reason))
                    continue
                if record.state is not State.STABLE:
                    candidates.append(version)
                elif stable is None:
                    stable = version
        return RouteTable(route, stable, sort_candidates(candidates), tuple(idle), tuple(broken))

    def resolve(self, node_id: str) -> ResolvedNode | None:
        with self._read() as uow:
            return resolved_in(uow, node_id)
