"""Organs: build (a dry-run report, or a draft), list, status, run, cancel, and the graph picture.

An organ is stored like a node (kind `organ`, backend `organ`) so it follows the
same lifecycle, audit, statistics, routing and analysis: `organ.voice.v2` in
canary takes its share of the traffic of `organ.voice`, and a failing analysis
rolls it back like any node. The answers are `OrganBuilt`, `OrganStatus` and `OrganRunResult`.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .. import library
from ..backends.adapter import effective_io
from ..domain.actors import SYSTEM, Actor
from ..domain.errors import BadInput, FactoryError, Forbidden, NotFound
from ..domain.lifecycle import State, allowed_actions
from ..domain.reasons import WHY_FIELD, Why
from ..domain.references import template_gates
from ..domain.report import replaces_example
from ..domain.shapes import parse_organ
from ..domain.templates import NodeTemplate, OrganTemplate
from ..organs.graph import GraphReport, Member, validate
from ..organs.picture import svg
from ..nervous.metrics import FactoryMetrics
from ..policy import PolicyEngine
from ..runtime.measures import VersionStats
from ..runtime.stats import StatsRecorder
from ..domain.node import Node
from ..domain.clock import now
from ..store.templates import load_template, store_template
from . import lifecycle
from .dryrun import self_edit_risks
from .nodes import dry_run
from . import execution, nodes, self_edit
from .ports import Authorize, FlushStats, PolicyStateOf, Read, Write, UnitOfWork
from .selector_sync import SelectorSync

BUILD_GATE = "organs_builder"
HEALTH_WINDOWS = 30  # node health looks at this many recent statistics windows
DOWN_STATES = (State.DISABLED.value, State.QUARANTINED.value, State.FAILED.value)
REFUSALS = ("capability_disabled", "insufficient_scope", "safe_mode")
FIRST = (*REFUSALS, "missing_node", "cycle", "type_mismatch")  # which blocking finding the 4xx names


# ---- build -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Deps:
    """What building and running organs uses: units of work, the policy, the selector, the counters and
    metrics, the lifecycle, node runs, execution and self-edit."""

    read: Read
    write: Write
    authorize: Authorize
    policy: PolicyEngine
    policy_state: PolicyStateOf
    selector: SelectorSync
    stats: StatsRecorder
    flush_stats: FlushStats
    metrics: FactoryMetrics
    lifecycle: lifecycle.Deps
    nodes: nodes.Deps
    execution: execution.Deps
    self_edit: self_edit.Deps


class OrganBuilt(BaseModel):
    organ_id: str | None
    state: str = Field(description="dry_run | draft")
    report: dict[str, Any] = Field(description="graph, roles, missing, fabrications, type_errors, risks, examples")


class OrganNodeHealth(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    state: str
    health: str = Field(description="ok | failing | no_data | down")
    reason: str
    why: dict[str, Any] = Field(description=WHY_FIELD)


class OrganStatus(BaseModel):
    id: str
    route: str
    version: str
    state: str
    allowed: list[str]
    nodes: list[OrganNodeHealth]
    metrics: dict[str, Any]


class OrganRunResult(BaseModel):
    output: Any
    trace: list[dict[str, Any]] = Field(description="each node in order: {node, version, ms, ok}")
    organ_id: str
    version: str
    state: str
    dry_run: bool
    ms: float


def build(f: Deps, actor: Actor, body: Any, dryrun: bool | None = None) -> OrganBuilt:
    """POST /organs/build: `{organ_template, dryrun}` (dryrun defaults to true); `dryrun` here is the query's
    `?dryrun=`, which says the same as the body's field or is a 422 when they disagree."""
    f.metrics.organ_build_attempts.inc()
    try:
        organ, dryrun = _parse(body, dryrun)
        return _dry_run(f, actor, organ) if dryrun else _create(f, actor, organ)
    except FactoryError:
        f.metrics.organ_build_failures.inc()
        raise


def _parse(body: Any, asked: bool | None) -> tuple[OrganTemplate, bool]:
    if not isinstance(body, dict):
        raise BadInput("expected a JSON object {organ_template, dryrun}", field="body")
    unknown = sorted(set(body) - {"organ_template", "dryrun"})
    if unknown:
        raise BadInput(f"unknown field {unknown[0]!r}; expected organ_template and dryrun", field=unknown[0])
    if "organ_template" not in body:
        raise BadInput("organ_template is required", field="organ_template")
    dryrun = body.get("dryrun", True if asked is None else asked)
    if not isinstance(dryrun, bool):
        raise BadInput("dryrun must be true or false", field="dryrun")
    if asked is not None and dryrun != asked:
        raise BadInput(f"the query says dryrun={str(asked).lower()} and the body dryrun={str(dryrun).lower()}: say "
                       "it once, or the same in both", field="dryrun")
    return parse_organ(body["organ_template"]), dryrun


def _dry_run(f: Deps, actor: Actor, organ: OrganTemplate) -> OrganBuilt:
    """What the build would answer, without building: its report, or its refusal (a 409 for a taken id)."""
    with f.read() as uow:
        f.authorize(uow, actor, "organs.dryrun")
        replaces = lifecycle.claim_id(uow, organ.id, organ=True)
        report, graph = _report(f, uow, organ)
    if replaces is not None:
        report["risks"].append(replaces_example(organ.id, "building this organ").to_dict())
    _refuse_blocking(graph, report)
    return OrganBuilt(organ_id=None, state="dry_run", report=report)


def _create(f: Deps, actor: Actor, organ: OrganTemplate) -> OrganBuilt:
    with f.write() as uow:
        # its gates are in the report, each with its pointer; naming a factory module needs self_edit too
        f.authorize(uow, actor, "organs.build", gates=template_gates(organ))
        replaces = lifecycle.claim_id(uow, organ.id, organ=True)
        report, graph = _report(f, uow, organ)
        _refuse_blocking(graph, report)
        digest = store_template(uow, organ)
        node = Node.draft(organ, sha256=digest, report=report, actor=actor, at=now())
        lifecycle.create(uow, node.created("build", actor, audit={"nodes": organ.nodes, "sha256": digest},
                                           replaces=replaces))
    return OrganBuilt(organ_id=organ.id, state=State.DRAFT.value, report=report)


def preview(f: Deps, uow: UnitOfWork, document: dict[str, Any], planned: Mapping[str, dict[str, Any]]) -> dict:
    """The build's report for an organ whose missing nodes are about to be created from `planned` templates
    (a command's plan): they resolve as members in state `planned`. Nothing runs."""
    def resolve(node_id: str) -> Member | None:
        found = member(f, uow, node_id)
        if found is None and node_id in planned:
            template = NodeTemplate.model_validate(planned[node_id])
            io = effective_io(template)
            return Member(node_id, template.node_type, "planned", io.input, io.output)
        return found

    return _report(f, uow, parse_organ(document), resolve, run_examples=False)[0]


def _report(f: Deps, uow: UnitOfWork, organ: OrganTemplate, resolve: Callable[[str], Member | None] | None = None,
            *, run_examples: bool = True) -> tuple[dict[str, Any], GraphReport]:
    graph = validate(organ, resolve or (lambda node_id: member(f, uow, node_id)))
    risks = graph.risks() + _gate_risks(f, uow, organ) + [r.to_dict() for r in
                                                          self_edit_risks(organ, f.policy_state(uow))]
    report = {"id": organ.id, "route": organ.route_name, "graph": graph.graph, "roles": graph.roles,
              "missing": graph.missing, "fabrications": [_fabrication(f, uow, organ, m) for m in graph.missing],
              "type_errors": [p.to_dict() for p in graph.type_errors], "risks": risks}
    if graph.ok and organ.examples and run_examples and not any(r["severity"] == "blocking" for r in risks):
        report["examples"] = _examples(f, uow, organ)
        risks += [{"code": "example_failed", "severity": "blocking", "field": f"examples.{i}",
                   "message": f"example {i} failed: {e['error']['reason']}"}
                  for i, e in enumerate(report["examples"]) if not e["ok"]]
    return report, graph


def member(f: Deps, uow: UnitOfWork, node_id: str) -> Member | None:
    record = uow.nodes.get(node_id)
    if record is None or record.is_organ:
        return None
    io = effective_io(load_template(uow, record))
    return Member(record.id, record.node_type, record.state, io.input, io.output)


def _gate_risks(f: Deps, uow: UnitOfWork, organ: OrganTemplate) -> list[dict[str, Any]]:
    """Each gate the organ needs, checked by the policy engine (the caller's own scope is checked apart)."""
    state = f.policy_state(uow)
    risks = []
    for field, gate in [("policies", BUILD_GATE)] + [(f"policies.gates.{i}", g) for i, g in
                                                      enumerate(organ.policies.gates)]:
        decision = f.policy.decide(SYSTEM, "organs.build", state, gates=(gate,))
        if not decision.allowed:
            risks.append({"code": decision.code, "severity": "blocking", "field": field, "message": decision.reason,
                          **decision.extra})
    return risks


def _fabrication(f: Deps, uow: UnitOfWork, organ: OrganTemplate, node_id: str) -> dict[str, Any]:
    """The SelectorNode's proposal for a missing node: reuse what fits, else "would create …"."""
    template = _proposed_template(node_id)
    if template is None:
        return {"id": node_id, "decision": "none",
                "message": f"nothing in the library is named like {node_id}; write its template and create it"}
    decision = f.selector.decide(uow, template, self_edit.selector_weights(f.self_edit, template.id))
    reuse = [c.id for c in decision.candidates if c.id != node_id] if decision.decision == "reuse" else []
    if reuse:
        return {"id": node_id, "decision": "reuse", "candidates": reuse,
                "message": f"{reuse[0]} already fits where {node_id} is named"}
    return {"id": node_id, "decision": "create", "message": f"would create {node_id} (adapter → {template.node_type})",
            "request": {"template": template.to_document(), "reason": f"organ {organ.id} needs {node_id}",
                        "dry_run": True, "hitl": True}}


def _proposed_template(node_id: str) -> NodeTemplate | None:
    """A template for a missing node whose name is a library implementation (`analysis.text_normalize.v1`)."""
    kind, *rest = node_id.split(".")
    names = [part for part in rest if part in library.names()]
    if kind not in ("analysis", "action", "memory") or not names:
        return None
    impl = names[-1]
    return NodeTemplate.model_validate({"id": node_id, "version": "0.1.0", f"{kind}_type": impl, "backend": "adapter",
                                        "adapter": {"impl": impl}, "io": library.io_schema(impl)})


def _examples(f: Deps, uow: UnitOfWork, organ: OrganTemplate) -> list[dict[str, Any]]:
    """The organ's examples, run through its nodes with side effects off."""
    results = []
    outcomes = execution.dry_run_examples(f.execution, uow, organ, (example.input for example in organ.examples))
    for example, outcome in zip(organ.examples, outcomes):
        if outcome.error is None:
            results.append({"input": example.input, "ok": True, "output": outcome.output, "trace": outcome.trace})
        else:
            results.append({"input": example.input, "ok": False, "error": outcome.error.body(),
                            "trace": outcome.trace})
    return results


def _refuse_blocking(graph: GraphReport, report: dict[str, Any]) -> None:
    """A blocking finding is the client's to fix: a 4xx that points at the most telling one (a refused
    gate, a missing node, a cycle, a type mismatch, then the rest), with the whole report."""
    blocking = [r for r in report["risks"] if r["severity"] == "blocking"]
    for risk in sorted(blocking, key=lambda r: FIRST.index(r["code"]) if r["code"] in FIRST else len(FIRST))[:1]:
        if risk["code"] in REFUSALS:
            raise Forbidden(risk["message"], code=risk["code"], field=risk["field"], report=report,
                            **{k: risk[k] for k in ("capability", "required_role") if k in risk})
        found = next((p for p in graph.blocking if p.field == risk["field"] and p.code == risk["code"]), None)
        where = {"channel": found.channel, "node": found.node} if found else {}
        raise BadInput(risk["message"], code=risk["code"], field=risk["field"], report=report, **where)


# ---- the organs as they are ----------------------------------------------------------------------

def organ_record(f: Deps, uow: UnitOfWork, organ_id: str) -> Node:
    record = uow.nodes.get(organ_id)
    if record is None or not record.is_organ:
        raise NotFound(f"organ {organ_id} does not exist", id=organ_id)
    return record


def list_organs(f: Deps, actor: Actor, state: str | None = None) -> list[nodes.NodeSummary]:
    with f.read() as uow:
        f.authorize(uow, actor, "nodes.read")
        return nodes.summaries(uow.nodes.list(kind="organ", state=state, limit=1000))


def status(f: Deps, actor: Actor, organ_id: str) -> OrganStatus:
    """GET /organs/{id}/status: the organ's state, each node's state and health, the organ's numbers."""
    f.flush_stats()
    with f.read() as uow:
        f.authorize(uow, actor, "nodes.read")
        record = organ_record(f, uow, organ_id)
        organ = load_template(uow, record)
        since = f.stats.window() - HEALTH_WINDOWS * f.stats.window_s
        members = [_health(f, uow, node_id, since) for node_id in organ.nodes]
        numbers = VersionStats.merged(VersionStats.from_row(r) for r in uow.stats.rows(organ_id, record.state, since))
    return OrganStatus(id=organ_id, route=record.route, version=record.version, state=record.state,
                       allowed=allowed_actions(record.state, organ=True), nodes=members,
                       metrics={"window_s": f.stats.window_s * HEALTH_WINDOWS, **numbers.summary()})


def _health(f: Deps, uow: UnitOfWork, node_id: str, since: int) -> OrganNodeHealth:
    record = uow.nodes.get(node_id)
    if record is None or record.is_organ:
        return _member(node_id, "missing", "down", Why("member_not_registered"))
    numbers = VersionStats.merged(VersionStats.from_row(r) for r in uow.stats.rows(node_id, record.state, since))
    limit = load_template(uow, record).rollout.slo.error_rate_max
    if record.state in DOWN_STATES:
        health, why = "down", Why("member_down", {"state": record.state})
    elif numbers.requests == 0:
        health, why = "no_data", Why("no_recent_requests")
    elif limit is not None and numbers.error_rate > limit:
        health, why = "failing", Why("member_failing", {"rate": numbers.error_rate, "limit": limit})
    else:
        health, why = "ok", Why("member_ok", {"n": numbers.requests, "rate": numbers.error_rate})
    return _member(node_id, record.state, health, why, **numbers.summary())


def _member(node_id: str, state: str, health: str, why: Why, **numbers: Any) -> OrganNodeHealth:
    return OrganNodeHealth(id=node_id, state=state, health=health, reason=why.english, why=why.to_dict(), **numbers)


def run(f: Deps, actor: Actor, organ_id: str, data: Any) -> OrganRunResult:
    """POST /organs/{id}/run: this version directly (a draft runs with side effects off)."""
    record, outcome = nodes.run_version(f.nodes, actor, lambda uow: organ_record(f, uow, organ_id), data)
    return OrganRunResult(output=outcome.output, trace=outcome.trace, organ_id=organ_id, version=record.version,
                          state=record.state, dry_run=dry_run(record), ms=round(outcome.ms, 3))


def require_organ(f: Deps, organ_id: str) -> None:
    """404 unless `organ_id` is an organ (the /organs routes do not move nodes)."""
    with f.read() as uow:
        organ_record(f, uow, organ_id)


def cancel(f: Deps, actor: Actor, organ_id: str, reason: str | None) -> lifecycle.TransitionResult:
    """DELETE /organs/{id}/build: the build is abandoned (draft or canary → failed)."""
    require_organ(f, organ_id)
    done = lifecycle.transition(f.lifecycle, actor, organ_id, "fail", reason=reason or "build cancelled")
    f.metrics.organ_build_failures.inc()
    return done


def graph_svg(f: Deps, actor: Actor, organ_id: str) -> bytes:
    """GET /organs/{id}/graph.svg: the graph with each node coloured by its state now."""
    with f.read() as uow:
        f.authorize(uow, actor, "nodes.read")
        record = organ_record(f, uow, organ_id)
        organ = load_template(uow, record)
        graph = validate(organ, lambda node_id: member(f, uow, node_id)).graph
    return svg(graph, title=f"{organ_id} ({record.state})")
