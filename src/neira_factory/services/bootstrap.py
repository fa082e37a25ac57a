"""Start-up: open and migrate the database, position the event tail, seed capability gates, load examples on
an empty factory."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from ..backends import Backends
from ..backends.adapter import AdapterBackend
from ..backends.organ import OrganBackend
from ..backends.script import ScriptBackend
from ..backends.wasm import WasmBackend
from ..config import Settings
from ..domain.actors import SYSTEM
from ..domain.capabilities import DEFAULT_GATES, FACTORY_NODE_PREFIX, GateState
from ..domain.errors import FactoryError
from ..immune.seal import AuditSeal
from ..store import Database
from .factory import Factory
from . import organs, self_edit
from .fabricate import create

log = logging.getLogger(__name__)
KIND_KEYS = ("analysis_type", "action_type", "memory_type")


def read_gates(path: Path) -> dict[str, str]:
    """Gates from capabilities.yaml over the defaults; a bad state is an error at start-up."""
    gates = {name: state.value for name, state in DEFAULT_GATES.items()}
    if path.exists():
        data = yaml.safe_load(path.read_text()) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of gate -> state")
        for name, state in data.items():
            gates[str(name)] = GateState(state).value
    return gates


def build_factory(settings: Settings) -> Factory:
    """The factory on a migrated, seeded database; its event tail publishes what is committed from now on."""
    db = Database(settings.database_url, replica=settings.replica, seal=AuditSeal.from_settings(settings))
    backends = Backends(AdapterBackend(), ScriptBackend(), WasmBackend(), OrganBackend(),
                        max_output_bytes=settings.max_output_bytes)
    factory = Factory(settings=settings, db=db, backends=backends)
    with db.startup_lock():
        db.migrate()
        factory.tail.seek_end()
        with factory.write() as uow:
            added = uow.capabilities.seed(read_gates(settings.capabilities_file), SYSTEM.name)
            if added:
                uow.audit.append(SYSTEM.name, "capability.seed", "capabilities", after={n: "seeded" for n in added})
        self_edit.seed(factory)
    return factory


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


def load_examples(factory: Factory, directory: Path) -> list[str]:
    """Create the example nodes, then the example organs, as drafts — only into an empty factory."""
    with factory.read() as uow:
        if any(not n.id.startswith(FACTORY_NODE_PREFIX) for n in uow.nodes.list(limit=10)):
            return []
    created = []
    for template in node_templates(directory):
        try:
            created.append(create(factory, SYSTEM, {"template": template, "reason": "example loaded at start-up"})["id"])
        except FactoryError as exc:
            log.warning("example %s not loaded: %s", template.get("id"), exc.reason)
    for organ in organ_templates(directory):
        try:
            created.append(organs.build(factory, SYSTEM, {"organ_template": organ, "dryrun": False})["organ_id"])
        except FactoryError as exc:
            log.warning("example organ %s not loaded: %s", organ.get("id"), exc.reason)
    return created
