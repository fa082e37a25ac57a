"""What a plan is made of (World, Step, Plan) and the pieces every verb's planner builds one from.

Pure: the caller passes a snapshot of the world (nodes, organs, gates, the
example documents). Every node an organ needs and the registry lacks becomes a
node to create first; an organ that replaces another carries a unified diff
against it.
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..domain.errors import Conflict, NotFound
from ..domain.templates import OrganTemplate
from .vocabulary import Intent


@dataclass(frozen=True)
class World:
    nodes: Mapping[str, tuple[str, str]]  # node id -> (node type, state)
    organs: Mapping[str, dict[str, Any]]  # organ id -> its current template document
    capabilities: Mapping[str, str]  # gate -> state
    examples: Mapping[str, dict[str, Any]]  # example documents by id (nodes and organs)
    organ_states: Mapping[str, str] = field(default_factory=dict)  # organ id -> its lifecycle state


@dataclass(frozen=True)
class Step:
    """One operation of a plan, and what the PolicyEngine is asked about it."""

    op: str  # the step's kind: every verb lists the kinds its plans hold (verbs/__init__.py)
    target: str
    body: dict[str, Any] = field(default_factory=dict)
    action: str = ""  # the policy action
    gates: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "target": self.target, "body": self.body, "action": self.action,
                "gates": list(self.gates)}


@dataclass(frozen=True)
class Plan:
    intent: Intent
    summary: str
    steps: tuple[Step, ...]
    diff: str | None = None
    read_only: bool = False  # status: nothing to confirm
    choice: Mapping[str, Any] | None = None  # a node from a description: the implementation, its score, runners-up

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "steps": [s.to_dict() for s in self.steps], "diff": self.diff,
                "read_only": self.read_only, **({"choice": dict(self.choice)} if self.choice else {})}


def say(intent: Intent, ru: str, en: str) -> str:
    return ru if intent.lang == "ru" else en


def new_organ_id(intent: Intent, world: World, name: str, version: int) -> str:
    """The id of an organ version to make; Conflict when it exists already."""
    organ_id = f"organ.{name}.v{version}"
    if organ_id in world.organs:
        raise Conflict(say(intent, f"орган {organ_id} уже есть", f"organ {organ_id} exists already"), id=organ_id)
    return organ_id


def organ_plan(intent: Intent, world: World, document: dict[str, Any], current: dict[str, Any] | None,
               summary: str) -> Plan:
    """Create the nodes the organ needs and the registry lacks, then build the organ."""
    steps = [node_step(node_id, world, reason=intent.text) for node_id in members(document)
             if node_id not in world.nodes]
    gates = tuple(document.get("policies", {}).get("gates", ()))
    steps.append(Step("build_organ", document["id"], {"organ_template": document, "dryrun": False}, "organs.build",
                      ("organs_builder", *gates)))
    return Plan(intent, summary, tuple(steps), diff=_diff(current, document) if current else None)


def members(document: dict[str, Any]) -> list[str]:
    """The nodes an organ document names, in order, once each."""
    return list(dict.fromkeys([*document.get("nodes", document.get("cells", [])),
                               *[n for c in document.get("channels", document.get("pathways", [])) for n in c["nodes"]]]))


def node_for(impl: str, world: World) -> str:
    """The node that plays `impl`: a registered one (live first), else an example, else a new id; analysis
    nodes before action nodes (a plan should not act on the world unless asked to)."""
    registered = sorted((n for n, (node_type, _) in world.nodes.items() if node_type == impl),
                        key=lambda n: (world.nodes[n][1] not in ("stable", "experimental", "canary"),
                                       not n.startswith("analysis."), n))
    if registered:
        return registered[0]
    examples = sorted((i for i, d in world.examples.items() if d.get("analysis_type") == impl
                       or d.get("action_type") == impl), key=lambda i: (not i.startswith("analysis."), i))
    return examples[0] if examples else f"analysis.{impl}.v1"


def node_step(node_id: str, world: World, reason: str) -> Step:
    document = world.examples.get(node_id)
    kind, name = node_id.split(".")[0], node_id.split(".")[1]
    if document is None and kind == "memory":  # a store named after its topic (verbs/memory.py)
        document = {"id": node_id, "version": "0.1.0", "memory_type": name, "backend": "memory",
                    "memory": {"store": name}}
    elif document is None:
        document = {"id": node_id, "version": "0.1.0", f"{kind}_type": name, "backend": "adapter",
                    "adapter": {"impl": name}}
    backend = document.get("backend") or "adapter"
    return Step("create_node", node_id, {"template": document, "reason": f"command: {reason}"}, "nodes.create",
                (f"factory_{backend}",))


def organ_gates(name: str, world: World) -> list[str]:
    gate = f"organ_{name}".replace("-", "_")
    return [gate] if gate in world.capabilities else []


def latest(world: World, name: str) -> str | None:
    found = [organ_id for organ_id in world.organs if organ_id.rsplit(".v", 1)[0] == f"organ.{name}"]
    return max(found, key=version_of) if found else None


def version_of(organ_id: str) -> int:
    tail = organ_id.rsplit(".v", 1)
    return int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else 1


def next_version(world: World, name: str) -> int:
    found = latest(world, name)
    return version_of(found) + 1 if found else 1


# the versions a lifecycle action can apply to, best first: disable and roll back the live one, approve the
# newest candidate (a version named without its number means that one, not merely the newest)
LIVE_FIRST = ("stable", "experimental", "canary")
CANDIDATES = ("experimental", "canary", "draft")
PICKS = {"disable": (LIVE_FIRST, ("живая версия", "the live version")),
         "rollback": (LIVE_FIRST, ("живая версия", "the live version")),
         "approve": (CANDIDATES, ("новейший кандидат", "the newest candidate"))}


def acted_on(intent: Intent, world: World) -> tuple[str | None, str | None]:
    """For an organ named without a version: the version its lifecycle action can apply to, and why (None, None
    when no version can: the plan then names the latest, whose confirmation says why not)."""
    pick = PICKS.get(intent.action)
    if pick is None:
        return None, None
    states, (ru, en) = pick
    versions = [o for o in world.organs if o.rsplit(".v", 1)[0] == f"organ.{intent.name}"]
    for state in states:
        found = [o for o in versions if world.organ_states.get(o) == state]
        if found:
            organ_id = max(found, key=version_of)
            return organ_id, say(intent, f"{ru}: {state}", f"{en}: {state}")
    return None, None


_PICKED = {"newest": ("новейшая", "the newest"), "previous": ("предыдущая", "the previous")}


def picked(intent: Intent, world: World) -> str:
    """The version an intent names relative to the others (`pick`, of those in `state` when it names one): its
    newest, or the one before it, by version number. NotFound when there is no such version."""
    if intent.target == "node":
        versions = {n: state for n, (_, state) in world.nodes.items() if n.rsplit(".v", 1)[0] == intent.name}
    else:
        versions = {o: world.organ_states.get(o, "") for o in world.organs if o.rsplit(".v", 1)[0] == f"organ.{intent.name}"}
    ordered = sorted((v for v, state in versions.items() if intent.state in (None, state)), key=version_of, reverse=True)
    index = 1 if intent.pick == "previous" else 0
    if len(ordered) <= index:
        ru, en = picked_why(intent)
        raise NotFound(say(intent, f"у {intent.name} нет версии: {ru}", f"{intent.name} has no such version: {en}"),
                       id=intent.name, pick=intent.pick, state=intent.state)
    return ordered[index]


def picked_why(intent: Intent) -> tuple[str, str]:
    """How a relative version was named, (ru, en): «новейшая стабильная», "the previous stable"."""
    ru, en = _PICKED.get(intent.pick or "newest", _PICKED["newest"])
    return (f"{ru} {intent.state}", f"{en} {intent.state}") if intent.state else (ru, en)


def target_id(intent: Intent, world: World) -> str:
    """The node or organ the intent is about: the one named; a version named relative to the others, that one
    (`picked`); an organ named without a version, the version the action can apply to (`acted_on`), else its
    latest. NotFound if none."""
    if intent.pick:
        return picked(intent, world)
    if intent.target == "node":
        if intent.name not in world.nodes:
            raise NotFound(say(intent, f"узла {intent.name} нет", f"there is no node {intent.name}"), id=intent.name)
        return intent.name or ""
    organ_id = f"organ.{intent.name}.v{intent.version}" if intent.version else (
        acted_on(intent, world)[0] or latest(world, intent.name or ""))
    if organ_id is None or organ_id not in world.organs:
        raise NotFound(say(intent, f"органа {intent.name} нет", f"there is no {intent.name} organ"), organ=intent.name)
    return organ_id


def _diff(current: dict[str, Any], planned: dict[str, Any]) -> str:
    """A unified diff of the two versions, each in its canonical form (defaults spelled out), as YAML."""
    def lines(document: dict[str, Any]) -> list[str]:
        canonical = OrganTemplate.model_validate(document).to_document()
        return yaml.safe_dump(canonical, sort_keys=False, allow_unicode=True).splitlines(keepends=True)

    return "".join(difflib.unified_diff(lines(current), lines(planned), fromfile=current["id"],
                                        tofile=planned["id"]))
