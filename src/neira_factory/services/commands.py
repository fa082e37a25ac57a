"""Natural-language commands: understand (commands/parser.py), plan (commands/planner.py), check each
step with the PolicyEngine for the caller, dry-run what would be created, and keep the plan behind a
confirmation token; confirming makes exactly that plan, step by step, with the caller's authority.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .. import library
from ..commands.parser import NotUnderstood, Vocabulary, parse
from ..commands.planner import Plan, Step, World, plan
from ..domain.actors import Actor
from ..domain.errors import BadInput, Conflict, FactoryError, Forbidden, NotFound
from ..domain.events import Event
from ..domain.references import self_edit_gates, template_gates
from ..domain.shapes import parse_fabrication, parse_organ
from ..domain.templates import NodeTemplate
from ..store import UnitOfWork
from ..store.repositories import now
from . import capabilities, fabricate, lifecycle, nodes, organs, training
from .dryrun import build_report
from .factory import Factory

PLAN_TTL = timedelta(minutes=15)
MAX_TEXT = 1000


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


def examples(f: Factory) -> dict[str, dict[str, Any]]:
    directory = f.settings.examples_dir or Path("examples")
    return _example_documents(str(directory.resolve())) if directory.is_dir() else {}


def world(f: Factory, uow: UnitOfWork) -> World:
    nodes, organ_docs = {}, {}
    for record in uow.nodes.all():
        if record.is_organ:
            organ_docs[record.id] = f.load_template(uow, record).to_document()
        else:
            nodes[record.id] = (record.node_type, record.state)
    gates = {name: row["state"] for name, row in uow.capabilities.all().items()}
    return World(nodes=nodes, organs=organ_docs, capabilities=gates, examples=examples(f))


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

def plan_command(f: Factory, actor: Actor, text: Any) -> dict[str, Any]:
    """POST /factory/commands: what was understood, the plan, the policy outcome, the reports, the diff,
    and a token that confirms exactly this plan (none when the policy refuses it or nothing is to be done)."""
    if not isinstance(text, str) or not text.strip():
        raise BadInput("text: say what to do, e.g. «создай голосовой орган v1»", field="text")
    if len(text) > MAX_TEXT:
        raise BadInput(f"text: at most {MAX_TEXT} characters", field="text")
    with f.read() as uow:
        f.authorize(uow, actor, "commands.plan")
        snapshot = world(f, uow)
        try:
            intent = parse(text, vocabulary(snapshot))
        except NotUnderstood as exc:
            raise CommandNotUnderstood(exc.reason, lang=exc.lang, understood=exc.understood,
                                       not_understood=exc.not_understood, suggestions=exc.suggestions) from None
        planned = plan(intent, snapshot)
        state = f.policy_state(uow)
        decisions = [f.policy.decide(actor, step.action, state, gates=(*step.gates, *_self_edit(uow, step)))
                     for step in planned.steps]
        allowed = all(d.allowed for d in decisions)
        report = _report(f, uow, actor, planned) if allowed else None
    answer = {"intent": intent.to_dict(), "plan": planned.to_dict(), "diff": planned.diff, "report": report,
              "policy": {"allowed": allowed, "steps": [{"op": s.op, "target": s.target, **d.to_dict()}
                                                       for s, d in zip(planned.steps, decisions)]},
              "confirm_token": None}
    if allowed and not planned.read_only and not _blocked(report):
        answer["confirm_token"] = _remember(f, actor, text, planned)
    return answer


def _self_edit(uow: UnitOfWork, step: Step) -> tuple[str, ...]:
    """The self_edit gate for a step that names a factory module anywhere (the step's own use case checks it
    again when the plan is confirmed)."""
    if step.op == "create_node":
        return template_gates(parse_fabrication(step.body).template)
    if step.op == "build_organ":
        return template_gates(parse_organ(step.body["organ_template"]))
    if step.op in ("transition", "train"):
        record = uow.nodes.get(step.target)
        return self_edit_gates(step.target, record.route if record else None)
    return ()


def _report(f: Factory, uow: UnitOfWork, actor: Actor, planned: Plan) -> dict[str, Any]:
    """Dry-runs of what would be created (with side effects off); read-only answers for status."""
    state = f.policy_state(uow)
    report: dict[str, Any] = {}
    created: dict[str, NodeTemplate] = {}
    for step in planned.steps:
        if step.op == "create_node":
            request = parse_fabrication(step.body)
            report[step.target] = build_report(f, uow, request, state, created)["report"]
            created[step.target] = request.template
        elif step.op == "build_organ":
            report[step.target] = organs.preview(f, uow, step.body["organ_template"],
                                                 {s.target: s.body["template"] for s in planned.steps
                                                  if s.op == "create_node"})
        elif step.op == "capabilities":
            report["capabilities"] = capabilities.list_capabilities(f, actor)
        elif step.op == "organs":
            report["organs"] = organs.list_organs(f, actor)
        elif step.op == "nodes":
            report["nodes"] = nodes.list_nodes(f, actor)
        elif step.op == "node":
            report[step.target] = nodes.get_node(f, actor, step.target)
        elif step.op == "organ_status":
            report[step.target] = organs.status(f, actor, step.target)
    return report


def _blocked(report: dict[str, Any] | None) -> bool:
    """A plan whose dry-run already shows a blocking risk is not worth a token."""
    return any(r.get("severity") == "blocking" for part in (report or {}).values() if isinstance(part, dict)
               for r in part.get("risks", []))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _remember(f: Factory, actor: Actor, text: str, planned: Plan) -> str:
    token = secrets.token_urlsafe(24)
    with f.write() as uow:
        uow.command_plans.prune(now())
        uow.command_plans.put(_digest(token), actor.name, text, planned.to_dict(), now() + PLAN_TTL)
    return token


# ---- confirming ----------------------------------------------------------------------------------------

def confirm(f: Factory, actor: Actor, token: Any) -> dict[str, Any]:
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
        uow.audit.append(actor.name, "command.confirm", "commands", after={"text": stored["text"],
                                                                          "plan": stored["plan"]["summary"]})
        uow.announce(Event("command.confirmed", "commands", {"text": stored["text"], "actor": actor.name}))
    done: list[dict[str, Any]] = []
    for raw in stored["plan"]["steps"]:
        step = Step(raw["op"], raw["target"], raw["body"], raw["action"], tuple(raw["gates"]))
        try:
            done.append({"op": step.op, "target": step.target, **_make(f, actor, step)})
        except FactoryError as exc:
            exc.extra.update(done=done, failed={"op": step.op, "target": step.target})
            raise
    return {"summary": stored["plan"]["summary"], "done": done,
            "created": [{"id": d["target"], "state": d["state"]} for d in done if d["op"] in CREATING]}


CREATING = ("create_node", "build_organ")


def _make(f: Factory, actor: Actor, step: Step) -> dict[str, Any]:
    if step.op == "create_node":
        created = fabricate.create(f, actor, step.body)
        return {"state": created["state"]}
    if step.op == "build_organ":
        return {"state": organs.build(f, actor, step.body)["state"]}
    if step.op == "transition":
        return {"state": lifecycle.transition(f, actor, step.target, step.body["action"],
                                              reason="natural-language command")["state"]}
    if step.op == "set_capability":
        return {"state": capabilities.set_capability(f, actor, step.target, step.body["state"],
                                                     reason="natural-language command")["state"]}
    if step.op == "train":
        started = training.start(f, actor, step.target, step.body)
        return {"state": started["state"], "run_id": started["run_id"]}
    raise BadInput(f"a plan step {step.op!r} cannot be made", field="plan")
