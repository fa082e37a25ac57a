"""train: start a training run of one node ("обучи классификатор",
"train analysis.keyword_classify.v1")."""
from __future__ import annotations

from ...domain.errors import NotFound
from ..objects import read_one
from ..plans import Plan, Step, World, picked, say
from ..reader import Reader
from ..vocabulary import Intent


def read(p: Reader, verb: str) -> Intent:
    return read_one(p, verb, ("node",))


def plan(intent: Intent, world: World) -> Plan:
    target = picked(intent, world) if intent.pick else intent.name or ""
    if target not in world.nodes:
        candidates = [n for n, (node_type, _) in world.nodes.items() if node_type == target]
        if len(candidates) != 1:
            raise NotFound(say(intent, f"узла {target} нет", f"there is no node {target}"), id=target)
        target = candidates[0]
    return Plan(intent, say(intent, f"обучить {target}", f"train {target}"),
                (Step("train", target, {}, "training.start"),))
