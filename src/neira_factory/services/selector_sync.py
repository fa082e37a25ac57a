"""Keeps this replica's SelectorIndex in step with the database.

The index lives in memory; the database is the truth. Before a decision, the
registry's mark (one row, bumped by a trigger with every node write) tells
whether any node was added or moved (by this replica or another); only the
changed rows are then reloaded.
"""
from __future__ import annotations

import threading

from ..immune.integrity import verified
from ..domain.templates import NodeTemplate
from ..selector import SelectorDecision, SelectorIndex, SelectorWeights, entry_for, query_for
from ..store import Database, UnitOfWork


class SelectorSync:
    def __init__(self, db: Database):
        self.db = db
        self.index = SelectorIndex()
        self._known: dict[str, int] = {}
        self._mark: int | None = None
        self._lock = threading.Lock()

    def refresh(self, uow: UnitOfWork) -> None:
        mark = uow.nodes.version_mark()
        if mark == self._mark:
            return
        with self._lock:
            versions = uow.nodes.row_versions()
            changed = [node_id for node_id, version in versions.items() if self._known.get(node_id) != version]
            for gone in set(self._known) - versions.keys():
                self.index.remove(gone)
                del self._known[gone]
            for node_id in changed:
                record = uow.nodes.get(node_id)
                if record is None:
                    continue
                if record.is_organ:  # organs are not candidates for a node's place
                    self._known[node_id] = record.row_version
                    continue
                content = verified(uow.artifacts.get(record.artifact_sha256) or b"", record.artifact_sha256, node_id)
                self.index.upsert(entry_for(NodeTemplate.model_validate_json(content), record.state))
                self._known[node_id] = record.row_version
            self._mark = mark

    def decide(self, uow: UnitOfWork, template: NodeTemplate, weights: SelectorWeights | None = None,
               **options) -> SelectorDecision:
        self.refresh(uow)
        return self.index.select(query_for(template, **options), weights)
