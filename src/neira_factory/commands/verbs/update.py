"""update: the next version of an organ, copied from the current one (or from examples/ when it has that
version), with options added to every channel ("обнови зрение до v2 (grayscale)"); the plan carries the
diff against the current version."""
from __future__ import annotations

import copy
from typing import Any

from ...domain.errors import NotFound
from ..objects import read_made
from ..plans import Plan, World, latest, new_organ_id, node_for, organ_plan, say, version_of
from ..reader import Reader
from ..vocabulary import Intent

# update options: what each adds to every channel (at the front, or at the end)
OPTIONS: dict[str, tuple[str, str]] = {
    "grayscale": ("image_grayscale", "front"),
    "ocr": ("ocr", "end"),
    "downscale": ("image_downscale", "front"),
    "binarize": ("image_binarize", "end"),
}


def read(p: Reader, verb: str) -> Intent:
    p.understood["action"] = "update"
    return read_made(p, "update", p.versions())


def plan(intent: Intent, world: World) -> Plan:
    name = intent.name or ""
    current_id = latest(world, name)
    if current_id is None:
        raise NotFound(say(intent, f"органа {name} нет: создайте его сначала", f"there is no {name} organ to "
                           "update: create it first"), organ=name)
    version = intent.version or version_of(current_id) + 1
    organ_id = new_organ_id(intent, world, name, version)
    document = copy.deepcopy(world.examples.get(organ_id) or world.organs[current_id])
    document["id"], document["version"] = organ_id, f"0.{version}.0"
    for option in intent.options:
        _apply_option(document, option, world)
    summary = say(intent, f"обновить {current_id} до {organ_id}", f"update {current_id} to {organ_id}")
    if intent.options:
        summary += f" ({', '.join(intent.options)})"
    return organ_plan(intent, world, document, world.organs[current_id], summary)


def _apply_option(document: dict[str, Any], option: str, world: World) -> None:
    impl, where = OPTIONS[option]
    node_id = node_for(impl, world)
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
