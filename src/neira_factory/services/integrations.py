"""Required integrations, the third of the PolicyEngine's checks on a template (after security — scopes and
gates — and resources — limits): each requirement it declares in `requires`, and the two every node has,
judged against the factory as it is now.

- `metrics`: always satisfied; the evidence is the RED families that count the version by route and version.
- `immune`: always satisfied; the evidence is the template's pinned sha256, re-verified at every load.
- `memory:ROUTE`: a memory node serves the route — a live version (stable, else the newest canary or
  experimental), the one /invoke and /memory read (services/memory.resolve). A store with no live node is
  not enough: nothing could reach it.
- `node:ID`: that node (or organ) exists and is not disabled, rolled back, quarantined or failed (a draft
  counts: it is there, and it cannot leave draft itself before its own requirements hold); a name that is no
  node's id is taken as a route, which needs a live version.
- `capability:NAME`: the gate exists and is open (experimental or stable).

A requirement only ever blocks (`missing_integration` at the dry-run, so at create, and 409 at approve out
of draft); it grants nothing: a `factory.*` name in it is looked up like any other and opens no gate.
"""
from __future__ import annotations

from collections.abc import Callable

from ..domain.capabilities import is_open
from ..domain.errors import Conflict, FactoryError
from ..domain.integrations import Finding, Verdict, declared
from ..domain.lifecycle import LIVE, State
from ..domain.report import Risk
from ..domain.templates import NodeTemplate
from ..nervous.metrics import NODE_FAMILIES
from ..policy import PolicyState
from . import memory
from .ports import UnitOfWork

GONE = (State.DISABLED, State.ROLLED_BACK, State.QUARANTINED, State.FAILED)


def _metrics(template: NodeTemplate) -> Verdict:
    route, version = template.route_name, template.version
    return Verdict(True, "metrics_registered", f"its requests, errors and latency are counted in "
                   f"{' and '.join(NODE_FAMILIES)} with route={route}, version={version}",
                   {"families": list(NODE_FAMILIES), "route": route, "version": version})


def _immune(digest: str) -> Verdict:
    return Verdict(True, "digest_pinned", f"its template is pinned as sha256 {digest}; every load re-verifies it",
                   {"sha256": digest})


def _memory(uow: UnitOfWork, route: str) -> Verdict:
    try:
        node = memory.resolve(uow, route)
    except FactoryError as exc:
        return Verdict(False, "memory_not_served", f"no memory node serves route {route}: {exc.reason}",
                       {"route": route, "why": exc.code})
    found = {"route": route, "node": node.record.id, "state": node.record.state.value, "store": node.store}
    return Verdict(True, "memory_served", f"{found['node']} ({found['state']}) serves route {route} from store "
                   f"{found['store']}", found)


def _route(uow: UnitOfWork, route: str) -> Verdict:
    """A name that is no node's id, as a route: satisfied by its live version (stable, else the newest)."""
    versions = uow.nodes.list(route=route, limit=1000)  # newest first; the name is a valid id (parsed)
    if not versions:
        return Verdict(False, "node_unknown", f"no node or route is called {route}", {"node": route})
    live = [r for r in versions if r.state in LIVE]
    serving = next((r for r in live if r.state is State.STABLE), live[0] if live else None)
    if serving is None:
        newest = {"route": route, "node": versions[0].id, "state": versions[0].state.value}
        return Verdict(False, "route_not_live", f"route {route} has no live version (canary, experimental or "
                       f"stable); its newest is {newest['node']} ({newest['state']})", newest)
    found = {"route": route, "node": serving.id, "state": serving.state.value}
    return Verdict(True, "route_live", f"route {route} is served by {serving.id} ({found['state']})", found)


def _node(uow: UnitOfWork, name: str) -> Verdict:
    record = uow.nodes.get(name)
    if record is None:
        return _route(uow, name)
    found = {"node": name, "state": record.state.value}
    reason = f"{record.kind} {name} is {found['state']}"
    return Verdict(False, "node_gone", reason, found) if record.state in GONE else \
        Verdict(True, "node_present", reason, found)


def _capability(policy: PolicyState, name: str) -> Verdict:
    state = policy.gates.get(name)
    if state is None:
        return Verdict(False, "gate_unknown", f"no such gate: {name}", {"gate": name})
    opened = is_open(state)
    return Verdict(opened, "gate_open" if opened else "gate_closed", f"gate {name} is {state}",
                   {"gate": name, "state": state})


def judge(uow: UnitOfWork, template: NodeTemplate, policy: PolicyState, digest: str) -> list[Finding]:
    """Each requirement of the template — the implicit ones first — satisfied or missing, and why."""
    checks: dict[str, Callable[[str], Verdict]] = {
        "metrics": lambda _: _metrics(template), "immune": lambda _: _immune(digest),
        "memory": lambda route: _memory(uow, route), "node": lambda name: _node(uow, name),
        "capability": lambda name: _capability(policy, name)}
    return [Finding(requirement, implicit, checks[requirement.kind](requirement.target or ""))
            for requirement, implicit in declared(template.requires)]


def _missing(finding: Finding) -> str:
    return f"requires {finding.requirement}: {finding.verdict.reason}"


def risks(findings: list[Finding], template: NodeTemplate) -> list[Risk]:
    """A blocking `missing_integration` for each missing requirement, at its place in `requires` (the implicit
    ones are never missing)."""
    return [Risk("missing_integration", "blocking", _missing(f),
                 f"requires.{template.requires.index(str(f.requirement))}") for f in findings if not f.satisfied]


def require(uow: UnitOfWork, template: NodeTemplate, policy: PolicyState, digest: str) -> None:
    """Leaving draft: every requirement holds now, else 409 `missing_integration` listing what is missing."""
    missing = [f for f in judge(uow, template, policy, digest) if not f.satisfied]
    if missing:
        raise Conflict(f"{template.id} cannot leave draft: {'; '.join(_missing(f) for f in missing)}",
                       code="missing_integration", integrations=[f.to_dict() for f in missing])
