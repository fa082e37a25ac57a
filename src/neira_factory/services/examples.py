"""The example files: node and organ templates under examples/, loaded as drafts into an empty factory."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..domain.actors import EXAMPLES
from ..domain.capabilities import FACTORY_NODE_PREFIX
from ..domain.errors import FactoryError
from . import fabricate, organs
from .ports import Read

log = logging.getLogger(__name__)
KIND_KEYS = ("analysis_type", "action_type", "memory_type")


@dataclass(frozen=True)
class Deps:
    """What loading the examples uses: a read (is the factory empty?), fabrication and the organ builder."""

    read: Read
    fabricate: fabricate.Deps
    organs: organs.Deps


def _documents(directory: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(directory.glob("*.y*ml")) + sorted(directory.glob("*.json")):
        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict) and "id" in data:
            found.append(data)
    return found


def node_templates(directory: Path) -> list[dict[str, Any]]:
    """Node templates among the example files, ordered so that links come before the nodes that use them."""
    found = {data["id"]: data for data in _documents(directory) if any(k in data for k in KIND_KEYS)}
    ordered: list[dict[str, Any]] = []

    def visit(node_id: str, trail: tuple[str, ...] = ()) -> None:
        data = found.get(node_id)
        if data is None or data in ordered or node_id in trail:
            return
        for link in data.get("links", []):
            visit(link, (*trail, node_id))
        ordered.append(data)

    for node_id in found:
        visit(node_id)
    return ordered


def organ_templates(directory: Path) -> list[dict[str, Any]]:
    """Organ templates among the example files (ids starting with `organ.`)."""
    return [data for data in _documents(directory) if str(data["id"]).startswith("organ.")]


def load_examples(f: Deps, directory: Path) -> list[str]:
    """Create the example nodes, then the example organs, as drafts — only into an empty factory. They are the
    `examples` actor's: until someone moves one, a client's template of its id replaces it (Node.yields_to)."""
    with f.read() as uow:
        if any(not n.id.startswith(FACTORY_NODE_PREFIX) for n in uow.nodes.list(limit=10)):
            return []
    created = []
    for template in node_templates(directory):
        try:
            body = {"template": template, "reason": "example loaded at start-up"}
            created.append(fabricate.create(f.fabricate, EXAMPLES, body).id)
        except FactoryError as exc:
            log.warning("example %s not loaded: %s", template.get("id"), exc.reason)
    for organ in organ_templates(directory):
        try:
            created.append(organs.build(f.organs, EXAMPLES, {"organ_template": organ, "dryrun": False}).organ_id)
        except FactoryError as exc:
            log.warning("example organ %s not loaded: %s", organ.get("id"), exc.reason)
    return created
