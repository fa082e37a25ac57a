"""Natural-language commands: understand (commands/parser.py; what it cannot read, the optional LLM interpreter:
llm_client.py asks the model, commands/llm.py reads its answer as strictly), plan (commands/planner.py), check each
step with the PolicyEngine for the caller, dry-run what would be created, and keep the plan behind a
confirmation token; confirming makes exactly that plan, step by step, with the caller's authority. The
answers are `CommandPlan` and `CommandDone`.

What is done with each kind of plan step (its self_edit gates, its part of the report, how it is made) is
one entry of STEP_HANDLERS; every kind a verb's plans hold (commands/verbs/__init__.py) has one.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from .. import library
from ..commands import llm
from ..commands.parser import parse
from ..commands.planner import plan
from ..commands.plans import Plan, Step, World
from ..commands.vocabulary import Intent, NotUnderstood, Vocabulary
from ..domain.actors import Actor
from ..domain.errors import BadInput, Conflict, FactoryError, Forbidden, NotFound
from ..domain.events import Event
from ..domain.references import self_edit_gates, template_gates
from ..domain.shapes import parse_fabrication, parse_organ
from ..domain.templates import NodeTemplate
from ..policy import PolicyEngine, PolicyState
from ..domain.clock import now
from ..store.templates import load_template
from . import capabilities, dryrun, fabricate, lifecycle, nodes, organs, training
from .llm_client import LLMClient, Reply
from .ports import Authorize, PolicyStateOf, Read, Write, UnitOfWork

PLAN_TTL = timedelta(minutes=15)
MAX_TEXT = 1000


@dataclass(frozen=True)
class Deps:
    """What the command use cases use: units of work, the policy, the examples, and the use cases a plan's
    steps preview or make."""

    read: Read
    write: Write
    authorize: Authorize
    policy: PolicyEngine
    policy_state: PolicyStateOf
    examples_dir: Path | None
    capabilities: capabilities.Deps
    fabricate: fabricate.Deps
    lifecycle: lifecycle.Deps
    nodes: nodes.Deps
    organs: organs.Deps
    training: training.Deps
    dryrun: dryrun.Deps
    llm: LLMClient | None = None  # reads what the rules cannot (NEIRA_LLM_PROVIDER); None: the rules alone


class CommandPlan(BaseModel):
    intent: dict[str, Any] = Field(description="what was understood: action, target, name, version, options, steps, "
                                               "state, pick, filters; `ignored`: the words that changed nothing")
    plan: dict[str, Any] = Field(description="summary and the exact steps a confirmation makes")
    policy: dict[str, Any] = Field(description="the PolicyEngine's answer for the caller, per step")
    report: dict[str, Any] | None = Field(description="dry-run reports of what would be created; status answers")
    diff: str | None = Field(description="for updates: a unified diff against the current version")
    confirm_token: str | None = Field(description="confirms exactly this plan, once, for 15 minutes; null when "
                                                  "the policy refuses it or there is nothing to confirm")
    interpreter: str = Field("rules", description="who understood the command: rules (the parser) or llm (a "
                                                  "model, named under llm: review its plan before confirming)")
    llm: dict[str, Any] | None = Field(None, description="when the model understood it: {provider, model, "
                                                         "not_understood: the words the rules could not read}")


class CommandDone(BaseModel):
    summary: str
    done: list[dict[str, Any]]
    created: list[dict[str, Any]] = Field(description="the drafts made: [{id, state}]")


class CommandNotUnderstood(BadInput):
    code = "not_understood"


@lru_cache(maxsize=4)
def _example_documents(directory: str) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(Path(directory).glob("*.y*ml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            found[data["id"]] = data
    return found


def examples(f: Deps) -> dict[str, dict[str, Any]]:
    directory = f.examples_dir or Path("examples")
    return _example_documents(str(directory.resolve())) if directory.is_dir() else {}


def world(f: Deps, uow: UnitOfWork) -> World:
    nodes, organ_docs, organ_states = {}, {}, {}
    for record in uow.nodes.all():
        if record.is_organ:
            organ_docs[record.id] = load_template(uow, record).to_document()
            organ_states[record.id] = record.state.value
        else:
            nodes[record.id] = (record.node_type, record.state.value)
    gates = {name: row["state"] for name, row in uow.capabilities.all().items()}
    return World(nodes=nodes, organs=organ_docs, capabilities=gates, examples=examples(f), organ_states=organ_states)


def vocabulary(snapshot: World) -> Vocabulary:
    versions: dict[str, set[int]] = {}
    for organ_id in [*snapshot.organs, *(i for i in snapshot.examples if i.startswith("organ."))]:
        name, _, version = organ_id.removeprefix("organ.").rpartition(".v")
        if name and version.isdigit():
            versions.setdefault(name, set()).add(int(version))
    return Vocabulary(organs={n: tuple(sorted(v)) for n, v in versions.items()},
                      nodes=tuple(sorted({*snapshot.nodes, *(i for i in snapshot.examples if not i.startswith("organ."))})),
                      capabilities=tuple(sorted(snapshot.capabilities)), impls=tuple(library.names()))


# ---- planning ----------------------------------------------------------------------------------------

def plan_command(f: Deps, actor: Actor, text: Any) -> CommandPlan:
    """POST /factory/commands: what was understood, the plan, the policy outcome, the reports, the diff,
    and a token that confirms exactly this plan (none when the policy refuses it or nothing is to be done)."""
    if not isinstance(text, str) or not text.strip():
        raise BadInput("text: say what to do, e.g. «создай голосовой орган v1»", field="text")
    if len(text) > MAX_TEXT:
        raise BadInput(f"text: at most {MAX_TEXT} characters", field="text")
    with f.read() as uow:
        f.authorize(uow, actor, "commands.plan")
        snapshot = world(f, uow)
    intent, by_model = understand(f, text, vocabulary(snapshot))  # a model is asked outside any transaction
    with f.read() as uow:
        planned = plan(intent, snapshot)
        state = f.policy_state(uow)
        decisions = [f.policy.decide(actor, step.action, state,
                                     gates=(*step.gates, *STEP_HANDLERS[step.op].self_edit(uow, step)))
                     for step in planned.steps]
        allowed = all(d.allowed for d in decisions)
        report = _report(f, uow, actor, planned) if allowed else None
    confirmable = allowed and not planned.read_only and not _blocked(report)
    token = _remember(f, actor, text, planned, by_model) if confirmable else None
    return CommandPlan(intent=intent.to_dict(), plan=planned.to_dict(), diff=planned.diff, report=report,
                       policy={"allowed": allowed, "steps": [{"op": s.op, "target": s.target, **d.to_dict()}
                                                            for s, d in zip(planned.steps, decisions)]},
                       confirm_token=token, interpreter="llm" if by_model else "rules", llm=by_model)


def understand(f: Deps, text: str, vocab: Vocabulary) -> tuple[Intent, dict[str, Any] | None]:
    """The rules' Intent; what they cannot read, the model's when one is configured, with {provider, model,
    not_understood: the words the rules stopped at, for the person who confirms}.
    A model that cannot help (no answer, bad JSON, a refusal, an Intent the rules would not make) leaves the
    rules' 422, with `llm: {provider, model, outcome, detail}` saying why."""
    try:
        return parse(text, vocab), None
    except NotUnderstood as exc:
        missed = exc
    if f.llm is None:
        raise _not_understood(missed)
    note = {"provider": f.llm.provider, "model": f.llm.model}
    negated = llm.negations(text)
    if negated:  # the rules refuse a negation on purpose; a model that missed it would plan what was refused
        raise _not_understood(missed, llm={**note, "outcome": "not_asked",
                                           "detail": f"the command says not to ({', '.join(negated)})"})
    reply = f.llm.ask(llm.system_prompt(vocab), text, llm.intent_schema(vocab))
    if reply.outcome == "answered":
        try:
            intent = llm.read_answer(reply.answer, vocab, text, missed.lang)
        except llm.Rejected as bad:
            reply = Reply(bad.outcome, detail=bad.detail)
        else:
            return intent, {**note, "not_understood": missed.not_understood}
    raise _not_understood(missed, llm={**note, "outcome": reply.outcome, "detail": reply.detail})


def _not_understood(exc: NotUnderstood, **extra: Any) -> CommandNotUnderstood:
    return CommandNotUnderstood(exc.reason, lang=exc.lang, understood=exc.understood,
                                not_understood=exc.not_understood, suggestions=exc.suggestions, **extra)


def _report(f: Deps, uow: UnitOfWork, actor: Actor, planned: Plan) -> dict[str, Any]:
    """Dry-runs of what would be created (with side effects off); read-only answers for status."""
    run = _DryRun(uow, actor, planned, f.policy_state(uow))
    report: dict[str, Any] = {}
    for step in planned.steps:
        preview = STEP_HANDLERS[step.op].preview
        if preview:
            report.update(preview(f, run, step))
    return report


def _blocked(report: dict[str, Any] | None) -> bool:
    """A plan whose dry-run already shows a blocking risk is not worth a token."""
    return any(r.get("severity") == "blocking" for part in (report or {}).values() if isinstance(part, dict)
               for r in part.get("risks", []))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _remember(f: Deps, actor: Actor, text: str, planned: Plan, by_model: dict[str, Any] | None) -> str:
    token = secrets.token_urlsafe(24)
    with f.write() as uow:
        uow.command_plans.prune(now())
        uow.command_plans.put(_digest(token), actor.name, text, {**planned.to_dict(), "llm": by_model},
                              now() + PLAN_TTL)
    return token


# ---- confirming ----------------------------------------------------------------------------------------

def confirm(f: Deps, actor: Actor, token: Any) -> CommandDone:
    """POST /factory/commands/confirm: make the plan the token stands for, once, as its caller."""
    if not isinstance(token, str) or not token:
        raise BadInput("confirm_token is required", field="confirm_token")
    with f.write() as uow:
        f.authorize(uow, actor, "commands.confirm")
        stored = uow.command_plans.get(_digest(token))
        if stored is None:
            raise NotFound("this confirmation token is unknown", code="unknown_token")
        if stored["actor"] != actor.name:
            raise Forbidden("this plan was made for another caller; ask for your own plan", code="not_your_plan")
        if stored["expires_at"] < now():
            raise Conflict("this plan has expired; ask again", code="plan_expired")
        if not uow.command_plans.confirm(_digest(token)):
            raise Conflict("this plan was confirmed already", code="plan_used")
        by_model = {"llm": stored["plan"]["llm"]} if stored["plan"].get("llm") else {}  # who understood it
        uow.audit.append(actor.name, "command.confirm", "commands", after={"text": stored["text"],
                                                                          "plan": stored["plan"]["summary"],
                                                                          **by_model})
        uow.announce(Event("command.confirmed", "commands", {"text": stored["text"], "actor": actor.name}))
    done: list[dict[str, Any]] = []
    for raw in stored["plan"]["steps"]:
        step = Step(raw["op"], raw["target"], raw["body"], raw["action"], tuple(raw["gates"]))
        try:
            done.append({"op": step.op, "target": step.target, **_make(f, actor, step)})
        except FactoryError as exc:
            exc.extra.update(done=done, failed={"op": step.op, "target": step.target})
            raise
    created = [{"id": d["target"], "state": d["state"]} for d in done if STEP_HANDLERS[d["op"]].creates]
    return CommandDone(summary=stored["plan"]["summary"], done=done, created=created)


def _make(f: Deps, actor: Actor, step: Step) -> dict[str, Any]:
    handler = STEP_HANDLERS.get(step.op)
    if handler is None or handler.make is None:
        raise BadInput(f"a plan step {step.op!r} cannot be made", field="plan")
    return handler.make(f, actor, step)


# ---- the kinds of step ---------------------------------------------------------------------------------

@dataclass
class _DryRun:
    """What the dry-runs of one plan's steps share: the nodes its earlier steps would create."""

    uow: UnitOfWork
    actor: Actor
    planned: Plan
    state: PolicyState
    created: dict[str, NodeTemplate] = field(default_factory=dict)


def _no_gates(uow: UnitOfWork, step: Step) -> tuple[str, ...]:
    return ()


def _node_gates(uow: UnitOfWork, step: Step) -> tuple[str, ...]:
    return template_gates(parse_fabrication(step.body).template)


def _organ_gates(uow: UnitOfWork, step: Step) -> tuple[str, ...]:
    return template_gates(parse_organ(step.body["organ_template"]))


def _target_gates(uow: UnitOfWork, step: Step) -> tuple[str, ...]:
    record = uow.nodes.get(step.target)
    return self_edit_gates(step.target, record.route if record else None)


def _preview_node(f: Deps, run: _DryRun, step: Step) -> dict[str, Any]:
    request = fabricate.with_defaults(f.fabricate, parse_fabrication(step.body))  # as confirm will store it
    report = dryrun.build_report(f.dryrun, run.uow, request, run.state, run.created)["report"]
    run.created[step.target] = request.template
    return {step.target: report}


def _preview_organ(f: Deps, run: _DryRun, step: Step) -> dict[str, Any]:
    return {step.target: organs.preview(f.organs, run.uow, step.body["organ_template"],
                                        {s.target: s.body["template"] for s in run.planned.steps
                                         if s.op == "create_node"})}


def _list_capabilities(f: Deps, run: _DryRun, step: Step) -> dict[str, Any]:
    return {"capabilities": capabilities.list_capabilities(f.capabilities, run.actor).model_dump()}


def _list_organs(f: Deps, run: _DryRun, step: Step) -> dict[str, Any]:
    """The organs, of one lifecycle state when the command names it («какие органы стабильны»)."""
    return {"organs": [o.model_dump() for o in organs.list_organs(f.organs, run.actor, state=step.body.get("state"))]}


def _list_nodes(f: Deps, run: _DryRun, step: Step) -> dict[str, Any]:
    """The nodes that match the command's filters: state, kind, backend, and the members of an organ."""
    filters = {key: step.body[key] for key in ("state", "kind", "backend") if key in step.body}
    members = step.body.get("members")
    if members is not None:
        filters["limit"] = 1000
    return {"nodes": [n.model_dump() for n in nodes.list_nodes(f.nodes, run.actor, **filters)
                      if members is None or n.id in members]}


def _node(f: Deps, run: _DryRun, step: Step) -> dict[str, Any]:
    return {step.target: nodes.get_node(f.nodes, run.actor, step.target).model_dump()}


def _organ_status(f: Deps, run: _DryRun, step: Step) -> dict[str, Any]:
    return {step.target: organs.status(f.organs, run.actor, step.target).model_dump()}


def _create_node(f: Deps, actor: Actor, step: Step) -> dict[str, Any]:
    return {"state": fabricate.create(f.fabricate, actor, step.body).state}


def _build_organ(f: Deps, actor: Actor, step: Step) -> dict[str, Any]:
    return {"state": organs.build(f.organs, actor, step.body).state}


def _transition(f: Deps, actor: Actor, step: Step) -> dict[str, Any]:
    return {"state": lifecycle.transition(f.lifecycle, actor, step.target, step.body["action"],
                                          reason="natural-language command").state}


def _set_capability(f: Deps, actor: Actor, step: Step) -> dict[str, Any]:
    return {"state": capabilities.set_capability(f.capabilities, actor, step.target, step.body["state"],
                                                 reason="natural-language command").state}


def _train(f: Deps, actor: Actor, step: Step) -> dict[str, Any]:
    started = training.start(f.training, actor, step.target, step.body)
    return {"state": started.state, "run_id": started.run_id}


@dataclass(frozen=True)
class StepHandler:
    """What this service does with one kind of plan step."""

    # the self_edit gates of a step that names a factory module anywhere (the use case that makes the step
    # checks them again when the plan is confirmed)
    self_edit: Callable[[UnitOfWork, Step], tuple[str, ...]] = _no_gates
    preview: Callable[[Deps, _DryRun, Step], dict[str, Any]] | None = None  # its part of the plan's report
    make: Callable[[Deps, Actor, Step], dict[str, Any]] | None = None  # None: read-only, never confirmed
    creates: bool = False  # its target is listed as created


STEP_HANDLERS: dict[str, StepHandler] = {
    "create_node": StepHandler(_node_gates, _preview_node, _create_node, creates=True),
    "build_organ": StepHandler(_organ_gates, _preview_organ, _build_organ, creates=True),
    "transition": StepHandler(_target_gates, make=_transition),
    "set_capability": StepHandler(make=_set_capability),
    "train": StepHandler(_target_gates, make=_train),
    "capabilities": StepHandler(preview=_list_capabilities),
    "organs": StepHandler(preview=_list_organs),
    "nodes": StepHandler(preview=_list_nodes),
    "node": StepHandler(preview=_node),
    "organ_status": StepHandler(preview=_organ_status),
}
