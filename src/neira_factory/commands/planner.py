"""From an understood command (an Intent) to a plan: the exact operations a confirmation will make.

Pure: the caller passes a snapshot of the world (nodes, organs, gates, the
example documents, the library). Organs come from `examples/` when a document
for that id exists (voice v1, vision v1/v2, the speak-pipeline), else from a
recipe of library implementations; every node an organ needs and the registry
lacks becomes a node to create first. Updates carry a unified diff against the
organ's current version.
"""
from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..domain.errors import Conflict, NotFound
from ..domain.templates import OrganTemplate
from .parser import Intent

# organ name -> the library implementations of its one channel, when examples/ has no document for it
RECIPES: dict[str, tuple[str, ...]] = {
    "voice": ("text_normalize", "text_to_phonemes", "speak_adapter"),
    "vision": ("image_downscale", "image_binarize"),
}
# update options: what each adds to every channel (at the front, or at the end)
OPTIONS: dict[str, tuple[str, str]] = {
    "grayscale": ("image_grayscale", "front"),
    "ocr": ("ocr", "end"),
    "downscale": ("image_downscale", "front"),
    "binarize": ("image_binarize", "end"),
}
TRANSITIONS = ("approve", "rollback", "disable")


@dataclass(frozen=True)
class World:
    nodes: Mapping[str, tuple[str, str]]  # node id -> (node type, state)
    organs: Mapping[str, dict[str, Any]]  # organ id -> its current template document
    capabilities: Mapping[str, str]  # gate -> state
    examples: Mapping[str, dict[str, Any]]  # example documents by id (nodes and organs)


@dataclass(frozen=True)
class Step:
    """One operation of a plan, and what the PolicyEngine is asked about it."""

    op: str  # create_node | build_organ | transition | set_capability | train
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

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "steps": [s.to_dict() for s in self.steps], "diff": self.diff,
                "read_only": self.read_only}


def plan(intent: Intent, world: World) -> Plan:
    handler = {"create": _create, "update": _update, "pipeline": _pipeline, "capability": _capability,
               "status": _status, "train": _train, **{a: _transition for a in TRANSITIONS}}[intent.action]
    return handler(intent, world)


def _say(intent: Intent, ru: str, en: str) -> str:
    return ru if intent.lang == "ru" else en


# ---- organs and nodes ------------------------------------------------------------------------------

def _create(intent: Intent, world: World) -> Plan:
    if intent.target == "node":
        node_id = intent.name or ""
        if node_id in world.nodes:
            raise Conflict(_say(intent, f"узел {node_id} уже есть", f"node {node_id} exists already"), id=node_id)
        step = _node_step(node_id, world, reason=intent.text)
        return Plan(intent, _say(intent, f"создать узел {node_id} (черновик)", f"create node {node_id} (draft)"),
                    (step,))
    name, version = intent.name or "", intent.version or _next_version(world, intent.name or "")
    organ_id = f"organ.{name}.v{version}"
    if organ_id in world.organs:
        raise Conflict(_say(intent, f"орган {organ_id} уже есть", f"organ {organ_id} exists already"), id=organ_id)
    document = world.examples.get(organ_id) or _from_recipe(intent, organ_id, world)
    return _organ_plan(intent, world, document, None,
                       _say(intent, f"создать орган {organ_id} (черновик)", f"create organ {organ_id} (draft)"))


def _update(intent: Intent, world: World) -> Plan:
    name = intent.name or ""
    current_id = _latest(world, name)
    if current_id is None:
        raise NotFound(_say(intent, f"органа {name} нет: создайте его сначала", f"there is no {name} organ to "
                            "update: create it first"), organ=name)
    version = intent.version or _version_of(current_id) + 1
    organ_id = f"organ.{name}.v{version}"
    if organ_id in world.organs:
        raise Conflict(_say(intent, f"орган {organ_id} уже есть", f"organ {organ_id} exists already"), id=organ_id)
    document = copy.deepcopy(world.examples.get(organ_id) or world.organs[current_id])
    document["id"], document["version"] = organ_id, f"0.{version}.0"
    for option in intent.options:
        _apply_option(document, option, world)
    summary = _say(intent, f"обновить {current_id} до {organ_id}", f"update {current_id} to {organ_id}")
    if intent.options:
        summary += f" ({', '.join(intent.options)})"
    return _organ_plan(intent, world, document, world.organs[current_id], summary)


def _pipeline(intent: Intent, world: World) -> Plan:
    name = intent.name or "-".join(intent.steps)
    version = intent.version or _next_version(world, name)
    organ_id = f"organ.{name}.v{version}"
    if organ_id in world.organs:
        raise Conflict(_say(intent, f"орган {organ_id} уже есть", f"organ {organ_id} exists already"), id=organ_id)
    nodes = [_node_for(impl, world) for impl in intent.steps]
    document = {"id": organ_id, "version": f"0.{version}.0", "roles": list(intent.steps), "nodes": nodes,
                "channels": [{"name": name, "nodes": nodes}], "policies": {"hitl": True, "gates": _gates(name, world)}}
    current_id = _latest(world, name)
    return _organ_plan(intent, world, document, world.organs.get(current_id) if current_id else None,
                       _say(intent, f"собрать {organ_id}: {' → '.join(intent.steps)}",
                            f"build {organ_id}: {' → '.join(intent.steps)}"))


def _organ_plan(intent: Intent, world: World, document: dict[str, Any], current: dict[str, Any] | None,
                summary: str) -> Plan:
    members = list(dict.fromkeys([*document.get("nodes", document.get("cells", [])),
                                  *[n for c in document.get("channels", document.get("pathways", []))
                                    for n in c["nodes"]]]))
    steps = [_node_step(node_id, world, reason=intent.text) for node_id in members if node_id not in world.nodes]
    gates = tuple(document.get("policies", {}).get("gates", ()))
    steps.append(Step("build_organ", document["id"], {"organ_template": document, "dryrun": False}, "organs.build",
                      ("organs_builder", *gates)))
    return Plan(intent, summary, tuple(steps), diff=_diff(current, document) if current else None)


def _from_recipe(intent: Intent, organ_id: str, world: World) -> dict[str, Any]:
    recipe = RECIPES.get(intent.name or "")
    if recipe is None:
        raise NotFound(_say(intent, f"не знаю, из чего собрать орган {intent.name}: опишите его цепочкой "
                            f"(«собери {intent.name} шаг→шаг»)", f"there is no recipe for a {intent.name} organ: "
                            f"describe it as a chain (\"build {intent.name} step->step\")"), organ=intent.name)
    nodes = [_node_for(impl, world) for impl in recipe]
    return {"id": organ_id, "version": "0.1.0", "roles": list(recipe), "nodes": nodes,
            "channels": [{"name": intent.name, "nodes": nodes}],
            "policies": {"hitl": True, "gates": _gates(intent.name or "", world)}}


def _apply_option(document: dict[str, Any], option: str, world: World) -> None:
    impl, where = OPTIONS[option]
    node_id = _node_for(impl, world)
    channels = document.get("channels") or document.get("pathways") or []
    for channel in channels:
        if node_id not in channel["nodes"]:
            channel["nodes"] = [node_id, *channel["nodes"]] if where == "front" else [*channel["nodes"], node_id]
    key = "nodes" if "nodes" in document else "cells"
    if node_id not in document.get(key, []):
        document[key] = [node_id, *document.get(key, [])] if where == "front" else [*document.get(key, []), node_id]
    roles = document.get("roles")
    if isinstance(roles, list) and impl not in roles:
        roles.insert(0, impl) if where == "front" else roles.append(impl)


def _node_for(impl: str, world: World) -> str:
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


def _node_step(node_id: str, world: World, reason: str) -> Step:
    document = world.examples.get(node_id)
    if document is None:
        kind, impl = node_id.split(".")[0], node_id.split(".")[1]
        document = {"id": node_id, "version": "0.1.0", f"{kind}_type": impl, "backend": "adapter",
                    "adapter": {"impl": impl}}
    backend = document.get("backend") or "adapter"
    return Step("create_node", node_id, {"template": document, "reason": f"command: {reason}"}, "nodes.create",
                (f"factory_{backend}",))


def _gates(name: str, world: World) -> list[str]:
    gate = f"organ_{name}".replace("-", "_")
    return [gate] if gate in world.capabilities else []


def _latest(world: World, name: str) -> str | None:
    found = [organ_id for organ_id in world.organs if organ_id.rsplit(".v", 1)[0] == f"organ.{name}"]
    return max(found, key=_version_of) if found else None


def _version_of(organ_id: str) -> int:
    tail = organ_id.rsplit(".v", 1)
    return int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else 1


def _next_version(world: World, name: str) -> int:
    latest = _latest(world, name)
    return _version_of(latest) + 1 if latest else 1


def _diff(current: dict[str, Any], planned: dict[str, Any]) -> str:
    """A unified diff of the two versions, each in its canonical form (defaults spelled out), as YAML."""
    def lines(document: dict[str, Any]) -> list[str]:
        canonical = OrganTemplate.model_validate(document).to_document()
        return yaml.safe_dump(canonical, sort_keys=False, allow_unicode=True).splitlines(keepends=True)

    return "".join(difflib.unified_diff(lines(current), lines(planned), fromfile=current["id"],
                                        tofile=planned["id"]))


# ---- the rest ----------------------------------------------------------------------------------------

def _transition(intent: Intent, world: World) -> Plan:
    target = _target_id(intent, world)
    verbs = {"approve": ("одобрить", "approve"), "rollback": ("откатить", "roll back"),
             "disable": ("отключить", "disable")}[intent.action]
    return Plan(intent, _say(intent, f"{verbs[0]} {target}", f"{verbs[1]} {target}"),
                (Step("transition", target, {"action": intent.action}, f"nodes.{intent.action}"),))


def _target_id(intent: Intent, world: World) -> str:
    if intent.target == "node":
        if intent.name not in world.nodes:
            raise NotFound(_say(intent, f"узла {intent.name} нет", f"there is no node {intent.name}"), id=intent.name)
        return intent.name or ""
    organ_id = f"organ.{intent.name}.v{intent.version}" if intent.version else _latest(world, intent.name or "")
    if organ_id is None or organ_id not in world.organs:
        raise NotFound(_say(intent, f"органа {intent.name} нет", f"there is no {intent.name} organ"), organ=intent.name)
    return organ_id


def _capability(intent: Intent, world: World) -> Plan:
    name, state = intent.name or "", intent.state or ""
    current = world.capabilities.get(name)
    if current is None:
        raise NotFound(_say(intent, f"способности {name} нет", f"there is no capability {name}"), capability=name)
    return Plan(intent, _say(intent, f"{name}: {current} → {state}", f"{name}: {current} → {state}"),
                (Step("set_capability", name, {"state": state}, "capabilities.set"),))


def _status(intent: Intent, world: World) -> Plan:
    """Read-only answers: an organ's status, the organs, the nodes, one node, or the capabilities."""
    if intent.target == "organ":
        target = _target_id(intent, world)
        return Plan(intent, _say(intent, f"статус {target}", f"status of {target}"),
                    (Step("organ_status", target, action="nodes.read"),), read_only=True)
    if intent.target == "node":
        target = _target_id(intent, world)
        return Plan(intent, _say(intent, f"узел {target}", f"node {target}"),
                    (Step("node", target, action="nodes.read"),), read_only=True)
    listing = {"organs": ("список органов", "the organs", "nodes.read"),
               "nodes": ("список узлов", "the nodes", "nodes.read")}.get(intent.target or "")
    if listing:
        return Plan(intent, _say(intent, listing[0], listing[1]), (Step(intent.target or "", intent.target or "",
                                                                        action=listing[2]),), read_only=True)
    return Plan(intent, _say(intent, "статус способностей", "the capabilities"),
                (Step("capabilities", intent.name or "capabilities", action="capabilities.read"),), read_only=True)


def _train(intent: Intent, world: World) -> Plan:
    target = intent.name or ""
    if target not in world.nodes:
        candidates = [n for n, (node_type, _) in world.nodes.items() if node_type == target]
        if len(candidates) != 1:
            raise NotFound(_say(intent, f"узла {target} нет", f"there is no node {target}"), id=target)
        target = candidates[0]
    return Plan(intent, _say(intent, f"обучить {target}", f"train {target}"),
                (Step("train", target, {}, "training.start"),))
