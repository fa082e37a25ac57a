"""create: a new organ (its document from examples/, else from a recipe of library implementations) or a
new node. A create or assemble command whose words are steps is a pipeline (pipeline.py); one that names
memory makes a memory node (memory.py)."""
from __future__ import annotations

from typing import Any

from ...domain.errors import Conflict, NotFound
from ..objects import read_made
from ..plans import Plan, World, new_organ_id, next_version, node_for, node_step, organ_gates, organ_plan, say
from ..reader import Reader
from ..vocabulary import Intent
from . import described, memory
from .pipeline import organ_first, read_steps, refuse_unknown_steps

# organ name -> the library implementations of its one channel, when examples/ has no document for it
RECIPES: dict[str, tuple[str, ...]] = {
    "voice": ("text_normalize", "text_to_phonemes", "speak_adapter"),
    "vision": ("image_downscale", "image_binarize"),
}


def read(p: Reader, verb: str) -> Intent:
    """create / assemble: a pipeline when steps follow, else one organ or node."""
    p.understood["action"] = "create"
    if verb == "create" and (at := described.start(p)) < len(p.items):
        return described.read(p, at)  # «создай узел, который …»: a node described by what it does
    version = p.versions()
    if verb == "create" and memory.names_memory(p):
        return memory.read(p, version)
    refuse_unknown_steps(p)  # «собери орган из распознавания речи и перевода»: no such implementation
    if _is_pipeline(p, verb):
        return read_steps(p, version)
    return read_made(p, "create", version)


def _is_pipeline(p: Reader, verb: str) -> bool:
    """Steps named in a chain, after "pipeline", or after "assemble"; or several steps and nothing else."""
    nouns = p.noun_targets()
    content = [i for i in p.content() if not p.items[i].in_parens]
    organ_named = any(p.items[i].has("organ") and not p.items[i].has("impl") for i in content)
    steps = [i for i in content if p.items[i].has("impl") and not organ_first(p, i)]
    strong_sep = any("then" in it.vals("sep") for it in p.items)
    with_mark = any("with" in it.vals("mark") for it in p.items)
    chained = len(steps) >= 2 and all(any(p.items[k].has("sep") for k in range(a + 1, b))
                                      for a, b in zip(steps, steps[1:]))  # steps joined by arrows or commas
    return bool(nouns.get("pipeline") or chained or (steps and (strong_sep or verb == "assemble"))
                or (len(steps) >= 2 and not with_mark and not organ_named and "node" not in nouns))


def plan(intent: Intent, world: World) -> Plan:
    if intent.target == "node" and intent.description is not None:
        return described.plan(intent, world)
    if intent.target == "node":
        node_id = memory.node_id(intent, world) if "memory" in intent.options else intent.name or ""
        if node_id in world.nodes:
            raise Conflict(say(intent, f"узел {node_id} уже есть", f"node {node_id} exists already"), id=node_id)
        step = node_step(node_id, world, reason=intent.text)
        return Plan(intent, say(intent, f"создать узел {node_id} (черновик)", f"create node {node_id} (draft)"),
                    (step,))
    name, version = intent.name or "", intent.version or next_version(world, intent.name or "")
    organ_id = new_organ_id(intent, world, name, version)
    document = world.examples.get(organ_id) or _from_recipe(intent, organ_id, world)
    return organ_plan(intent, world, document, None,
                      say(intent, f"создать орган {organ_id} (черновик)", f"create organ {organ_id} (draft)"))


def _from_recipe(intent: Intent, organ_id: str, world: World) -> dict[str, Any]:
    recipe = RECIPES.get(intent.name or "")
    if recipe is None:
        raise NotFound(say(intent, f"не знаю, из чего собрать орган {intent.name}: опишите его цепочкой "
                           f"(«собери {intent.name} шаг→шаг»)", f"there is no recipe for a {intent.name} organ: "
                           f"describe it as a chain (\"build {intent.name} step->step\")"), organ=intent.name)
    nodes = [node_for(impl, world) for impl in recipe]
    return {"id": organ_id, "version": "0.1.0", "roles": list(recipe), "nodes": nodes,
            "channels": [{"name": intent.name, "nodes": nodes}],
            "policies": {"hitl": True, "gates": organ_gates(intent.name or "", world)}}
