"""The dry-run report: deps, links, io compatibility, risks, required integrations, the selector's view, and
examples run with side effects off. Create and approve refuse a report with a blocking risk."""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any

from ..training.objectives import contains
from ..backends import Backends
from ..backends.adapter import default_target
from ..domain.capabilities import BACKEND_GATES, SELF_EDIT_GATE, GateState, is_open
from ..domain.ids import is_valid_id
from ..domain.references import MAX_SCRIPT_IMPORTS, factory_references, script_imports
from ..domain.lifecycle import State
from ..domain.report import Risk, blocking, replaces_example
from ..domain.schemas import schema_fits
from ..domain.templates import FabricationRequest, NodeTemplate, OrganTemplate
from ..policy import PolicyState
from ..store.templates import load_template, template_digest
from . import execution, integrations, self_edit
from .selector_sync import SelectorSync
from .ports import UnitOfWork

SCRIPT_GATE = BACKEND_GATES["script"]


@dataclass(frozen=True)
class Deps:
    """What a dry-run uses: the backends, the selector, execution (for the examples) and self-edit (for the
    selector's weights)."""

    backends: Backends
    selector: SelectorSync
    execution: execution.Deps
    self_edit: self_edit.Deps


def _links(f: Deps, uow: UnitOfWork, template: NodeTemplate, risks: list[Risk],
           planned: Mapping[str, NodeTemplate]) -> tuple[list, list, dict]:
    deps, links, found = [], [], {}
    for i, link in enumerate(template.links):
        record = uow.nodes.get(link)
        if record is None and link in planned:
            found[link] = planned[link]
            deps.append({"id": link, "status": "planned"})
            risks.append(Risk("planned_link", "warning", f"linked node {link} is created by the same plan, "
                              "before this one", f"links.{i}"))
            continue
        if record is None:
            deps.append({"id": link, "status": "missing"})
            risks.append(Risk("missing_link", "blocking", f"linked node {link} does not exist", f"links.{i}"))
            continue
        linked = load_template(uow, record)
        found[link] = linked
        deps.append({"id": link, "status": "found", "state": record.state})
        links.append({"id": link, "state": record.state, "kind": linked.kind, "type": linked.node_type})
        if record.state != State.STABLE.value:
            severity = "blocking" if record.state in ("disabled", "quarantined", "rolled_back") else "warning"
            risks.append(Risk("link_not_stable", severity, f"linked node {link} is {record.state}", f"links.{i}"))
    return deps, links, found


def _imports(uow: UnitOfWork, template: NodeTemplate, policy: PolicyState, risks: list[Risk]) -> list[dict[str, Any]]:
    """A script's `import "route"`s as links: each to the stable version of a script node, while the script gate
    is open (a blocking risk otherwise)."""
    if template.script is None or template.backend != "script":
        return []
    gate_state = policy.gates.get(SCRIPT_GATE, "unknown")
    routes, links = script_imports(template.script.source), []
    if len(routes) > MAX_SCRIPT_IMPORTS:  # each is a lookup: refused for their number, none looked up
        risks.append(Risk("bad_import", "blocking", f"the script imports {len(routes)} routes, at most "
                          f"{MAX_SCRIPT_IMPORTS} allowed", "script.source"))
        return links
    for i, route in enumerate(routes):
        where, records = f"script.imports.{i}", uow.nodes.list(route=route, limit=1000) if is_valid_id(route) else []
        stable = next((r for r in records if r.state is State.STABLE), None)
        linked = load_template(uow, stable) if stable is not None else None
        problem = ("is the node's own route" if route == template.route_name else
                   "has no node" if not records else
                   f"has no stable version (newest: {records[0].id}, {records[0].state})" if stable is None else
                   f"is served by {stable.id}, a {linked.backend} node, not a script node"
                   if linked is not None and linked.backend != "script" else
                   f"needs gate {SCRIPT_GATE}, which is {gate_state}" if not is_open(gate_state) else None)
        links.append({"id": stable.id if stable is not None else route, "route": route, "import": True,
                      "state": stable.state if stable is not None else "missing", "ok": problem is None})
        if problem is not None:
            risks.append(Risk("bad_import", "blocking", f'import "{route}": the route {problem}', where))
    return links


def _compat(template: NodeTemplate, found: dict[str, NodeTemplate], risks: list[Risk]) -> list[dict[str, Any]]:
    """io fit along the links. A chaining adapter runs them in order (input → links → output); a node
    that binds an implementation reads from its links, so each link's output must fit its input."""
    present = [link for link in template.links if link in found]
    if not present:
        return []
    target = default_target(template) if template.backend == "adapter" else None
    if target and target[0] == "chain":
        chain = [link for link in target[1] if link in found]
        schemas = [template.io.input, *[s for link in chain for s in (found[link].io.input, found[link].io.output)],
                   template.io.output]
        names = [template.id, *chain, template.id]
        pairs = [(names[i], schemas[2 * i], names[i + 1], schemas[2 * i + 1]) for i in range(len(names) - 1)]
    else:
        pairs = [(link, found[link].io.output, template.id, template.io.input) for link in present]
    checks = []
    for a, produced, b, expected in pairs:
        problems = schema_fits(produced, expected)
        checks.append({"from": a, "to": b, "ok": not problems, "problems": problems})
        for problem in problems:
            risks.append(Risk("io_mismatch", "blocking", f"{a} → {b}: {problem}", "io"))
    return checks


def _matches(expected: Any, actual: Any) -> bool:
    """Expected is a subset of actual: every expected key present with a matching value, a list element by
    element (as training's exact_match compares)."""
    return contains(expected, actual)


def _examples(f: Deps, uow: UnitOfWork, template: NodeTemplate, risks: list[Risk]) -> list[dict[str, Any]]:
    if not template.examples:
        risks.append(Risk("no_examples", "warning", "no examples: the dry-run cannot show the node works", "examples"))
        return []
    results = []
    outcomes = execution.dry_run_examples(f.execution, uow, template, (example.input for example in template.examples))
    for i, (example, outcome) in enumerate(zip(template.examples, outcomes)):
        entry: dict[str, Any] = {"input": example.input, "expected": example.expected}
        if outcome.error is None:
            output = outcome.output
            entry.update(output=output, ok=example.expected is None or _matches(example.expected, output))
        else:
            entry.update(output=None, ok=False, error=outcome.error.body())
        if not entry["ok"]:
            risks.append(Risk("example_failed", "blocking", f"example {i} did not give the expected output",
                              f"examples.{i}"))
        results.append(entry)
    return results


def self_edit_risks(template: NodeTemplate | OrganTemplate, policy: PolicyState) -> list[Risk]:
    """A blocking risk for each place the template names a factory module while self_edit is not open."""
    state = policy.gates.get(SELF_EDIT_GATE, "locked")
    if is_open(state):
        return []
    return [Risk("self_edit_locked", "blocking", f"{field} names {name}, one of the factory's own modules: that "
                 f"needs gate {SELF_EDIT_GATE}, which is {state}", field)
            for field, name in factory_references(template)]


def build_report(f: Deps, uow: UnitOfWork, request: FabricationRequest, policy: PolicyState,
                 planned: Mapping[str, NodeTemplate] | None = None) -> dict[str, Any]:
    """`planned`: nodes a command's plan creates first; links to them are not missing."""
    template = request.template
    risks: list[Risk] = []
    gate = BACKEND_GATES[template.backend]
    gate_state = policy.gates.get(gate, "unknown")
    if not is_open(gate_state):
        risks.append(Risk("backend_locked", "blocking", f"backend {template.backend} needs gate {gate}, which is "
                          f"{gate_state}", "backend"))
    elif gate_state == GateState.EXPERIMENTAL.value and not request.hitl:
        risks.append(Risk("hitl_required", "blocking", f"gate {gate} is experimental: a human must approve each "
                          "step (hitl cannot be false)", "hitl"))
    risks += self_edit_risks(template, policy)
    found_integrations = integrations.judge(uow, template, policy, template_digest(template))
    risks += integrations.risks(found_integrations, template)
    existing = uow.nodes.get(template.id)
    if existing is not None and existing.yields_to(organ=False):
        risks.append(replaces_example(template.id, "creating this template"))
    elif existing is not None:
        risks.append(Risk("conflict", "blocking", f"node {template.id} already exists; a new version needs a new id "
                          "(….v2)", "id"))
    backend = f.backends.get(template.backend)
    if is_open(gate_state):  # a closed gate is answered before the payload is parsed or compiled
        risks += backend.check(template)
    deps, links, found = _links(f, uow, template, risks, planned or {})
    links += _imports(uow, template, policy, risks)
    compat = _compat(template, found, risks)
    if template.kind == "action" or backend.side_effects(template):
        risks.append(Risk("side_effects", "warning", "this node acts on the world; dry-runs keep side effects off"))
    selector = f.selector.decide(uow, template, self_edit.selector_weights(f.self_edit, template.id))
    if selector.decision == "reuse" and selector.candidates and selector.candidates[0].id != template.id:
        risks.append(Risk("reuse_possible", "info", f"{selector.candidates[0].id} already fits: "
                          f"{selector.candidates[0].explanation}"))
    examples = [] if any(r.severity == "blocking" for r in risks) else _examples(f, uow, template, risks)
    risk_dicts = [r.to_dict() for r in risks]
    return {"ok": not blocking(risk_dicts), "report": {
        "id": template.id, "route": template.route_name, "kind": template.kind, "backend": template.backend,
        "deps": deps, "compat": compat, "links": links, "risks": risk_dicts,
        "integrations": [finding.to_dict() for finding in found_integrations], "selector": selector.to_dict(),
        "examples": examples}}
