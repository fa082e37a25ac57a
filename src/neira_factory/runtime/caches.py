"""The runtime's read-through caches: each route's table of live versions and each resolved node (for
links and organ members). Loading is the caller's (it reads the database); a committed change drops the
entries its events name, on this replica at once and on the others as the event tail brings them."""
from __future__ import annotations

from collections.abc import Callable

from ..backends import ResolvedNode
from ..domain.events import Event
from .cache import TTLCache
from .router import RouteTable


class RouteCaches:
    def __init__(self, route_table: Callable[[str], RouteTable], resolve: Callable[[str], ResolvedNode | None],
                 ttl_s: float):
        self.routes: TTLCache[str, RouteTable] = TTLCache(route_table, ttl_s)
        self.resolved: TTLCache[str, ResolvedNode | None] = TTLCache(resolve, ttl_s)

    def invalidate(self, events: list[Event]) -> None:
        for event in events:
            if event.type.startswith(("node.", "organ.")):
                self.routes.invalidate(event.data.get("route"))
                self.resolved.invalidate(event.resource)
