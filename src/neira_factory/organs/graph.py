"""Validation of an OrganTemplate as a typed graph of nodes; pure, no I/O.

`validate(template, resolve)` looks every node id up once through `resolve`
(the caller's view of the registered nodes: `Member` or None) and checks:

* every node resolves; a missing one is `missing_node` at the first place the
  template names it (`nodes.i`, or `channels.c.nodes.j` for a node only a
  channel names);
* channels are ordered, each node feeding the next; where both schemas are
  known, the upstream output must fit the downstream input (`schema_fits`),
  else `type_mismatch` at `channels.c.nodes.j`, once per node pair and channel;
* the union of all channel edges has no cycle: per strongly connected group of
  nodes, the edge that comes last in template order closes a cycle, reported as
  `cycle` at its pointer with the path (`a → b → a`);
* roles: a list binds each role to the one member whose node type is the role
  (`unbound_role` for none, `ambiguous_role` for several); a dict
  `{role: node id}` binds explicitly, to one of the organ's nodes
  (`unknown_role_node` otherwise);
* member states: `disabled_node` and `quarantined_node` block; `draft_node`,
  `rolled_back_node` and `deprecated_node` warn;
* warnings: `node_not_in_channel` (a listed node no channel uses, so it never
  gets input), `node_not_listed` (a channel names a node `nodes` does not list),
  `duplicate_node`, `duplicate_role`, `duplicate_channel`.

The organ's nodes are those of `nodes`, then those only channels name, in the
order the template first names them. `graph.order` is a topological order,
stable: among the nodes ready at each step, template order decides. Nodes on or
behind a cycle have no such order; they follow, in template order.

Problems come in template order (roles, nodes, channels; by index inside each);
`Problem.to_risk()` gives the dry-run report's `Risk`.
"""
from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from neira_factory.domain.lifecycle import State
from neira_factory.domain.report import Risk
from neira_factory.domain.schemas import schema_fits
from neira_factory.domain.templates import OrganTemplate

BLOCKING = "blocking"
WARNING = "warning"
MISSING = "missing"  # the graph's state of a node id that resolves to nothing
_LOOP_NAMES_SHOWN = 10

# state -> (code, severity, what the message says of the node)
_STATE_FINDINGS: dict[str, tuple[str, str, str]] = {
    State.DISABLED.value: ("disabled_node", BLOCKING, "is disabled"),
    State.QUARANTINED.value: ("quarantined_node", BLOCKING, "is quarantined"),
    State.DRAFT.value: ("draft_node", WARNING, "is still a draft: it runs only as a dry-run until approved"),
    State.ROLLED_BACK.value: ("rolled_back_node", WARNING, "was rolled back"),
    State.DEPRECATED.value: ("deprecated_node", WARNING, "is deprecated: a newer version of its route is stable"),
}


@dataclass(frozen=True)
class Member:
    """One node of the organ as the validator sees it."""

    id: str
    node_type: str  # analysis_type / action_type / memory_type
    state: str  # lifecycle state ("draft", "canary", …)
    input_schema: dict | None
    output_schema: dict | None


@dataclass(frozen=True)
class Problem:
    """A finding with an exact pointer into the template; a blocking one is worth a 4xx."""

    code: str
    severity: str  # "blocking" | "warning"
    message: str
    field: str  # e.g. "channels.0.nodes.2", "nodes.1", "roles.text_to_phonemes"
    channel: str | None = None
    node: str | None = None

    @property
    def blocking(self) -> bool:
        return self.severity == BLOCKING

    def to_risk(self) -> Risk:
        severity: Any = self.severity
        return Risk(code=self.code, severity=severity, message=self.message, field=self.field)

    def to_dict(self) -> dict[str, Any]:
        found = {"code": self.code, "severity": self.severity, "message": self.message, "field": self.field}
        found.update({k: v for k, v in (("channel", self.channel), ("node", self.node)) if v is not None})
        return found


@dataclass(frozen=True)
class GraphReport:
    """What `validate` found.

    `graph`: `{"nodes": [{"id", "state", "type", "roles"}], "edges": [{"from", "to",
    "channel"}], "order": [node ids]}`; a node that resolves to nothing has state
    "missing" and type None. `members` are the resolved nodes, `roles` the
    bindings (role -> node id) that could be made.
    """

    graph: dict
    missing: list[str]
    type_errors: list[Problem]
    problems: list[Problem]
    members: dict[str, Member] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)

    @property
    def blocking(self) -> list[Problem]:
        return [p for p in self.problems if p.blocking]

    @property
    def ok(self) -> bool:
        return not self.blocking

    def risks(self) -> list[dict[str, Any]]:
        """The problems as the dry-run report's risk dicts."""
        return [p.to_risk().to_dict() for p in self.problems]


class _Findings:
    """Problems with their place in the template, sorted on the way out."""

    def __init__(self) -> None:
        self._items: list[tuple[tuple[int, ...], int, Problem]] = []

    def add(self, place: tuple[int, ...], problem: Problem) -> None:
        self._items.append((place, len(self._items), problem))

    def sorted(self) -> list[Problem]:
        return [p for _, _, p in sorted(self._items, key=lambda item: item[:2])]


@dataclass(frozen=True)
class _Place:
    """Where the template first names a node."""

    key: tuple[int, ...]
    pointer: str
    channel: str | None = None


def organ_node_ids(template: OrganTemplate) -> list[str]:
    """The organ's node ids: those of `nodes`, then those only channels name, each once."""
    return list(_places(template, _Findings()))


def validate(template: OrganTemplate, resolve: Callable[[str], Member | None]) -> GraphReport:
    """Check `template` as a typed, acyclic graph of the nodes `resolve` knows."""
    found = _Findings()
    places = _places(template, found)
    members: dict[str, Member] = {}
    missing: list[str] = []
    for node_id, place in places.items():
        member = resolve(node_id)
        if member is None:
            missing.append(node_id)
            where = f" (channel {place.channel!r})" if place.channel is not None else ""
            found.add(place.key, Problem("missing_node", BLOCKING, f"node {node_id}{where} does not exist",
                                         place.pointer, place.channel, node_id))
            continue
        members[node_id] = member
        finding = _STATE_FINDINGS.get(member.state)
        if finding is not None:
            code, severity, what = finding
            found.add(place.key, Problem(code, severity, f"node {node_id} {what}",
                                         place.pointer, place.channel, node_id))
    _check_unused(template, found)
    edges, succ, type_errors = _edges(template, members, found)
    _check_cycles(template, places, succ, found)
    bindings = _bind_roles(template, members, list(places), found, missing)
    roles_of: dict[str, list[str]] = {}
    for role, node_id in bindings.items():
        roles_of.setdefault(node_id, []).append(role)
    nodes = [{"id": node_id,
              "state": members[node_id].state if node_id in members else MISSING,
              "type": members[node_id].node_type if node_id in members else None,
              "roles": roles_of.get(node_id, [])}
             for node_id in places]
    graph = {"nodes": nodes, "edges": edges, "order": _order(list(places), succ)}
    return GraphReport(graph, missing, type_errors, found.sorted(), members, bindings)


def role_bindings(template: OrganTemplate, members: dict[str, Member]) -> dict[str, str]:
    """Role -> node id, for the roles that bind (unbound and ambiguous ones are left out)."""
    return _bind_roles(template, members, organ_node_ids(template), _Findings(), [])


def _places(template: OrganTemplate, found: _Findings) -> dict[str, _Place]:
    """Each node id of the organ -> where the template first names it; duplicates noted."""
    places: dict[str, _Place] = {}
    for i, node_id in enumerate(template.nodes):
        if node_id in places:
            found.add((1, i), Problem("duplicate_node", WARNING,
                                      f"node {node_id} is listed again (first at {places[node_id].pointer})",
                                      f"nodes.{i}", node=node_id))
        else:
            places[node_id] = _Place((1, i), f"nodes.{i}")
    names: dict[str, int] = {}
    for c, channel in enumerate(template.channels):
        if channel.name in names:
            first = f"channels.{names[channel.name]}"
            found.add((2, c), Problem("duplicate_channel", WARNING,
                                      f"channel {channel.name!r} is named again (first at {first})",
                                      f"channels.{c}.name", channel.name))
        names.setdefault(channel.name, c)
        if not channel.nodes:
            found.add((2, c), Problem("empty_channel", BLOCKING, f"channel {channel.name!r} has no nodes",
                                      f"channels.{c}.nodes", channel.name))
        for j, node_id in enumerate(channel.nodes):
            if node_id in places:
                continue
            places[node_id] = place = _Place((2, c, j), f"channels.{c}.nodes.{j}", channel.name)
            found.add(place.key, Problem("node_not_listed", WARNING,
                                         f"channel {channel.name!r} uses node {node_id}, which `nodes` does not list",
                                         place.pointer, channel.name, node_id))
    return places


def _check_unused(template: OrganTemplate, found: _Findings) -> None:
    used = {node_id for channel in template.channels for node_id in channel.nodes}
    seen: set[str] = set()
    for i, node_id in enumerate(template.nodes):
        if node_id in used or node_id in seen:
            continue
        seen.add(node_id)
        found.add((1, i), Problem("node_not_in_channel", WARNING,
                                  f"node {node_id} is in no channel, so it never receives input",
                                  f"nodes.{i}", node=node_id))


def _edges(template: OrganTemplate, members: dict[str, Member],
           found: _Findings) -> tuple[list[dict], dict[str, list[str]], list[Problem]]:
    """The channel edges (deduplicated per channel), successors per node, and io mismatches."""
    edges: list[dict] = []
    succ: dict[str, list[str]] = {}
    seen: set[tuple[str, str, int]] = set()
    fits: dict[tuple[str, str], list[str]] = {}
    type_errors: list[Problem] = []
    for c, channel in enumerate(template.channels):
        for j in range(1, len(channel.nodes)):
            up, down = channel.nodes[j - 1], channel.nodes[j]
            if (up, down, c) in seen:
                continue
            seen.add((up, down, c))
            edges.append({"from": up, "to": down, "channel": channel.name})
            following = succ.setdefault(up, [])
            if down not in following:
                following.append(down)
            reasons = _mismatch(members.get(up), members.get(down), fits) if up != down else []
            if reasons:
                problem = Problem(
                    "type_mismatch", BLOCKING,
                    f"channel {channel.name!r}: the output of {up} does not fit the input of {down}: "
                    + "; ".join(reasons),
                    f"channels.{c}.nodes.{j}", channel.name, down)
                type_errors.append(problem)
                found.add((2, c, j), problem)
    return edges, succ, type_errors


def _mismatch(up: Member | None, down: Member | None, cache: dict[tuple[str, str], list[str]]) -> list[str]:
    if up is None or down is None or up.output_schema is None or down.input_schema is None:
        return []
    key = (up.id, down.id)
    if key not in cache:
        cache[key] = schema_fits(up.output_schema, down.input_schema)
    return cache[key]


def _check_cycles(template: OrganTemplate, places: dict[str, _Place],
                  succ: dict[str, list[str]], found: _Findings) -> None:
    """One `cycle` per strongly connected group: the group's last edge in template order closes it."""
    group = _components(list(places), succ)
    closing: dict[int, tuple[str, str, int, int]] = {}
    for c, channel in enumerate(template.channels):
        for j in range(1, len(channel.nodes)):
            up, down = channel.nodes[j - 1], channel.nodes[j]
            if group[up] == group[down]:  # an edge inside a group lies on a cycle
                closing[group[up]] = (up, down, c, j)
    members_of: dict[int, list[str]] = {}
    for node_id in places:
        members_of.setdefault(group[node_id], []).append(node_id)
    for g, (up, down, c, j) in closing.items():
        name = template.channels[c].name
        cycle = [*_path(down, up, succ, group), down]
        message = f"channel {name!r} closes a cycle: {' → '.join(cycle)}"
        loop = members_of[g]
        if len(loop) > len(cycle) - 1:
            shown = ", ".join(loop[:_LOOP_NAMES_SHOWN]) + (", …" if len(loop) > _LOOP_NAMES_SHOWN else "")
            message += f" (part of a loop through {len(loop)} nodes: {shown})"
        found.add((2, c, j), Problem("cycle", BLOCKING, message, f"channels.{c}.nodes.{j}", name, down))


def _components(nodes: list[str], succ: dict[str, list[str]]) -> dict[str, int]:
    """Strongly connected components (Tarjan's, iterative): node -> component number."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    component: dict[str, int] = {}
    count = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(succ.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, following = work[-1]
            for nxt in following:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(succ.get(nxt, ()))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    while True:
                        done = stack.pop()
                        on_stack.discard(done)
                        component[done] = count
                        if done == node:
                            break
                    count += 1
    return component


def _path(start: str, goal: str, succ: dict[str, list[str]], group: dict[str, int]) -> list[str]:
    """A shortest path start → … → goal inside their component (breadth first)."""
    if start == goal:
        return [start]
    came_from: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in succ.get(node, ()):
            if nxt in came_from or group[nxt] != group[start]:
                continue
            came_from[nxt] = node
            if nxt == goal:
                path = [goal]
                while came_from[path[-1]] is not None:
                    path.append(came_from[path[-1]])  # type: ignore[arg-type]
                return path[::-1]
            queue.append(nxt)
    return [start, goal]  # not reached: both lie in one strongly connected component


def _order(nodes: list[str], succ: dict[str, list[str]]) -> list[str]:
    """Kahn's topological order, template order among ready nodes; nodes on or after a cycle last."""
    position = {node_id: i for i, node_id in enumerate(nodes)}
    indegree = dict.fromkeys(nodes, 0)
    for following in succ.values():
        for nxt in following:
            indegree[nxt] += 1
    ready = [position[n] for n in nodes if indegree[n] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node = nodes[heapq.heappop(ready)]
        order.append(node)
        for nxt in succ.get(node, ()):
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, position[nxt])
    placed = set(order)
    return order + [n for n in nodes if n not in placed]


def _bind_roles(template: OrganTemplate, members: dict[str, Member], organ: list[str],
                found: _Findings, missing: Iterable[str]) -> dict[str, str]:
    bindings: dict[str, str] = {}
    unresolved = list(missing)
    note = f" ({len(unresolved)} node(s) could not be resolved: {', '.join(unresolved)})" if unresolved else ""
    if isinstance(template.roles, dict):
        in_organ = set(organ)
        for k, (role, node_id) in enumerate(template.roles.items()):
            if node_id in in_organ:
                bindings[role] = node_id
                continue
            typed = [n for n in organ if n in members and members[n].node_type == role]
            hint = f"; a node of type {role!r} here: {', '.join(typed)}" if typed else ""
            found.add((0, k), Problem("unknown_role_node", BLOCKING, f"role {role!r} is bound to {node_id}, "
                                      f"which is not one of the organ's nodes{hint}",
                                      f"roles.{role}", node=node_id))
        return bindings
    listed: set[str] = set()
    for k, role in enumerate(template.roles):
        if role in listed:
            found.add((0, k), Problem("duplicate_role", WARNING, f"role {role!r} is listed again", f"roles.{role}"))
            continue
        listed.add(role)
        typed = [n for n in organ if n in members and members[n].node_type == role]
        if len(typed) == 1:
            bindings[role] = typed[0]
        elif not typed:
            found.add((0, k), Problem("unbound_role", BLOCKING, f"role {role!r} is bound to no node: no node of the "
                                      f"organ has type {role!r}{note}", f"roles.{role}"))
        else:
            found.add((0, k), Problem("ambiguous_role", BLOCKING,
                                      f"role {role!r} fits several nodes ({', '.join(typed)}): bind it explicitly "
                                      f"with roles: {{{role}: <node id>}}", f"roles.{role}"))
    return bindings
