"""A memory route's store as a whole: its summary, an export page by page, and a bulk import; the models of
their answers. The ops on single records (put, get, search, forget) go through the route like any traffic
(POST /invoke/{route}, backends/memory.py).

A route's memory node is its stable version, else its newest live one (canary, experimental); its template
names the store, capacity and language. Reading needs `memory.read`; an import needs `memory.write` (so
safe-mode makes it admin-only) and the memory backend's gate open, is checked whole before anything is
written, and is written in batches of IMPORT_BATCH records, each committed with its audit entry.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from ..backends.memory import spec_of, store_of
from ..backends.memory_access import MemoryAccess
from ..domain.actors import Actor
from ..domain.errors import Conflict, FactoryError, NotFound
from ..domain.ids import is_valid_id
from ..domain.lifecycle import LIVE, State
from ..domain.node import Node
from ..domain.references import run_gates
from ..domain.templates import NodeTemplate
from ..store.templates import load_template
from . import memory_lines
from .ports import Authorize, Read, UnitOfWork

log = logging.getLogger(__name__)
IMPORT_BATCH = 500  # records a transaction
MAX_PAGE = 1000


@dataclass(frozen=True)
class Deps:
    """What reading and importing a store uses: a read (the route's nodes), the policy, the stores."""

    read: Read
    authorize: Authorize
    memory: MemoryAccess


@dataclass(frozen=True)
class MemoryNode:
    """The version of a route whose template says where its records are and how they are kept."""

    record: Node
    template: NodeTemplate

    @property
    def store(self) -> str:
        return store_of(self.template)


class MemorySummary(BaseModel):
    route: str
    node_id: str = Field(description="the version whose template is read: the stable one, else the newest live")
    version: str
    state: str
    store: str = Field(description="the store its records live in (shared by the route's versions)")
    records: int
    evictions: int = Field(description="records evicted beyond the capacity so far")
    capacity: int
    language: str
    retention_days: float | None


class MemoryPage(BaseModel):
    route: str
    store: str
    records: list[dict[str, Any]] = Field(description="in the order they were first written")
    next: int | None = Field(description="the cursor of the next page (`after`); null after the last")


class ImportResult(BaseModel):
    route: str
    store: str
    imported: int = Field(description="records written (a record with an id that exists is its next version)")
    evicted: int = Field(description="records evicted beyond the capacity afterwards")
    batches: int


def resolve(uow: UnitOfWork, route: str) -> MemoryNode:
    """The route's memory node: 404 for an unknown route, 409 when it is not a memory node or nothing serves it."""
    # a name no node can have is not looked up (PostgreSQL refuses a NUL in it: an error, not an answer)
    records = uow.nodes.list(route=route, limit=1000) if is_valid_id(route) else []  # newest first
    if not records:
        raise NotFound(f"route {route} has no nodes", route=route)
    live = [r for r in records if r.state in LIVE]
    chosen = next((r for r in live if r.state is State.STABLE), live[0] if live else None)
    subject = chosen or records[0]
    if subject.backend != "memory":
        raise Conflict(f"route {route} is not a memory node: {subject.id} is a {subject.backend} "
                       f"{subject.kind}", code="not_memory_node", route=route, node=subject.id,
                       backend=subject.backend)
    if chosen is None:
        raise Conflict(f"route {route} has no live version (canary, experimental or stable) to read its store "
                       f"from; its newest is {subject.id} ({subject.state.value})", code="no_live_version",
                       route=route, node=subject.id)
    template = load_template(uow, chosen)
    assert isinstance(template, NodeTemplate)  # a memory node is never an organ
    return MemoryNode(chosen, template)


def _node(f: Deps, actor: Actor, route: str, action: str) -> MemoryNode:
    with f.read() as uow:
        f.authorize(uow, actor, action)
        node = resolve(uow, route)
        if action == "memory.write":  # the backend's kill switch: no writes while its gate is closed
            f.authorize(uow, actor, action, gates=run_gates(node.template))
    return node


def summary(f: Deps, actor: Actor, route: str) -> MemorySummary:
    node = _node(f, actor, route, "memory.read")
    spec, record = spec_of(node.template), node.record
    records, evictions = f.memory.count(node.store)
    return MemorySummary(route=route, node_id=record.id, version=record.version, state=record.state.value,
                         store=node.store, records=records, evictions=evictions, capacity=int(spec.capacity),
                         language=spec.language, retention_days=spec.retention_days)


def export(f: Deps, actor: Actor, route: str, after: int = 0, limit: int = 100) -> MemoryPage:
    """Up to `limit` records written after the cursor `after` (0: from the first), and the next cursor."""
    limit = max(1, min(limit, MAX_PAGE))
    node = _node(f, actor, route, "memory.read")
    records, cursor = f.memory.page(node.store, max(0, after), limit)
    return MemoryPage(route=route, store=node.store, records=records,
                      next=cursor if len(records) == limit else None)


def import_records(f: Deps, actor: Actor, route: str, records: bytes | str | Sequence[Any],
                   source: str) -> ImportResult:
    """`records`: a body (JSON Lines, or a JSON array) or the records' values. Every record is checked first
    (BadInput names the first bad one's line and field; nothing is written), then they are written in batches,
    each committed with its audit entry (`memory.import`: who, how many, `source`). A batch the database fails
    is a 503 `import_interrupted` that says how many records the batches before it wrote (they stay written)."""
    node = _node(f, actor, route, "memory.write")
    values, places = memory_lines.parse(records) if isinstance(records, bytes | str) else (records, None)
    checked = memory_lines.checked(values, places)
    spec = spec_of(node.template)
    imported = evicted = batches = 0
    for start in range(0, len(checked), IMPORT_BATCH):
        try:
            done, gone = f.memory.import_batch(node.store, checked[start:start + IMPORT_BATCH], actor=actor.name,
                                               capacity=int(spec.capacity), language=spec.language, source=source)
        except SQLAlchemyError as exc:
            log.error("memory import into %s stopped at batch %d", node.store, batches + 1, exc_info=exc)
            raise FactoryError(f"the import stopped at batch {batches + 1}: the database failed "
                               f"({type(exc).__name__}); the {imported} records of the batches before it are "
                               "written, the rest are not", code="import_interrupted", status=503,
                               imported_before=imported, batches_before=batches) from None
        imported, evicted, batches = imported + done, evicted + gone, batches + 1
    return ImportResult(route=route, store=node.store, imported=imported, evicted=evicted, batches=batches)
