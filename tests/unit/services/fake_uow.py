"""An in-memory unit of work with the repositories the lifecycle use cases touch, as cosmicpython's
FakeUnitOfWork: use cases run against it in microseconds, while tests/integration runs them on SQLite and
PostgreSQL. It keeps what a real one keeps: nodes with row versions (a stale move changes nothing),
transition rows, audit entries in order and the events announced."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from neira_factory.domain.capabilities import DEFAULT_GATES
from neira_factory.domain.events import Event
from neira_factory.domain.lifecycle import State
from neira_factory.domain.node import Node


class FakeNodes:
    def __init__(self) -> None:
        self.rows: dict[str, Node] = {}
        self.transitions: list[tuple[str, str, str | None, str, str, str | None, bool]] = []

    def add(self, node: Node) -> None:
        self.rows[node.id] = node

    def get(self, node_id: str) -> Node | None:
        return self.rows.get(node_id)

    def list(self, *, route: str | None = None, state: str | None = None, limit: int = 100,
             **_filters: Any) -> list[Node]:
        found = [n for n in self.rows.values() if (route is None or n.route == route)
                 and (state is None or n.state == state)]
        return sorted(found, key=lambda n: n.updated_at, reverse=True)[:limit]

    def move(self, record: Node, to_state: State, *, prev_state: State | None) -> Node | None:
        current = self.rows.get(record.id)
        if current is None or (current.state, current.row_version) != (record.state, record.row_version):
            return None
        moved = current.moved(State(to_state), prev_state=prev_state, at=datetime.now(UTC))
        self.rows[record.id] = moved
        return moved

    def add_transition(self, node_id: str, action: str, from_state: str | None, to_state: str, actor: str,
                       reason: str | None, forced: bool = False) -> None:
        self.transitions.append((node_id, action, from_state, to_state, actor, reason, forced))

    def pin_examples(self, node_ids: list[str]) -> None:
        for node_id in node_ids:
            current = self.rows.get(node_id)
            if current is not None and current.yields_to(organ=current.is_organ):
                self.rows[node_id] = replace(current, row_version=current.row_version + 1)


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def append(self, actor: str, action: str, resource: str, *, before: Any = None, after: Any = None,
               reason: str | None = None) -> None:
        self.entries.append({"actor": actor, "action": action, "resource": resource, "before": before,
                             "after": after, "reason": reason})


class FakeArtifacts(dict):
    def put(self, digest: str, content: bytes, _media_type: str) -> None:
        self[digest] = content


class FakeCapabilities:
    def __init__(self) -> None:
        self.gates = {name: state.value for name, state in DEFAULT_GATES.items()}

    def all(self) -> dict[str, dict[str, str]]:
        return {name: {"state": state} for name, state in self.gates.items()}


class FakeStats:
    """No traffic recorded: the analysis of any candidate is inconclusive."""

    def rows(self, node_id: str, state: str, since_window: int = 0) -> list[dict[str, Any]]:
        return []


class FakeMeasurements:
    def counts(self, node_id: str, state: str, *, before_window: int | None = None) -> dict[str, int]:
        return {}


@dataclass
class FakeUnitOfWork:
    nodes: FakeNodes = field(default_factory=FakeNodes)
    audit: FakeAudit = field(default_factory=FakeAudit)
    artifacts: FakeArtifacts = field(default_factory=FakeArtifacts)
    capabilities: FakeCapabilities = field(default_factory=FakeCapabilities)
    settings: dict[str, Any] = field(default_factory=dict)
    stats: FakeStats = field(default_factory=FakeStats)
    measurements: FakeMeasurements = field(default_factory=FakeMeasurements)
    events: list[Event] = field(default_factory=list)
    committed: int = 0

    def announce(self, event: Event) -> None:
        self.events.append(event)

    def __call__(self) -> AbstractContextManager[FakeUnitOfWork]:
        """As `read` or `write`: one store; a block that raises leaves it as it was (a rolled-back transaction)."""
        return self._transaction(counted=True)

    def savepoint(self) -> AbstractContextManager[FakeUnitOfWork]:
        return self._transaction(counted=False)

    @contextmanager
    def _transaction(self, *, counted: bool) -> Iterator[FakeUnitOfWork]:
        rows, artifacts = dict(self.nodes.rows), dict(self.artifacts)
        marks = len(self.nodes.transitions), len(self.audit.entries), len(self.events)
        try:
            yield self
        except BaseException:
            self.nodes.rows, self.artifacts = rows, FakeArtifacts(artifacts)
            del self.nodes.transitions[marks[0]:], self.audit.entries[marks[1]:], self.events[marks[2]:]
            raise
        self.committed += counted
