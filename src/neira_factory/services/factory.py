"""The Factory: the adapters every use case receives (database, policy, selector, backends,
metrics, events) and the few helpers they all share (authorize, load a template, publish)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..backends import Backends, ExecContext, ResolvedNode
from ..config import Settings
from ..domain.actors import Actor
from ..domain.errors import NotFound
from ..domain.templates import NodeTemplate
from ..immune.integrity import sha256_hex, verified
from ..nervous.events import EventBus
from ..nervous.metrics import FactoryMetrics
from ..policy import Decision, PolicyEngine, PolicyState
from ..store import Database, NodeRecord, UnitOfWork
from .selector_sync import SelectorSync

SAFE_MODE_KEY = "safe_mode"
TEMPLATE_MEDIA_TYPE = "application/vnd.neira.node-template+json"


class AnalysisGate(Protocol):
    """Decides whether a live node's evidence lets it graduate."""

    def verdict(self, uow: UnitOfWork, record: NodeRecord) -> dict[str, Any]:
        """{passed: bool, reason: str, ...}"""


class NoTrafficAnalysis:
    """Until the runtime measures traffic there is no evidence: graduation needs admin force."""

    def verdict(self, uow: UnitOfWork, record: NodeRecord) -> dict[str, Any]:
        return {"passed": False, "verdict": "inconclusive",
                "reason": "no traffic analysis is available yet; an admin may force it with a reason"}


def template_bytes(template: NodeTemplate) -> bytes:
    return json.dumps(template.to_document(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class Factory:
    settings: Settings
    db: Database
    backends: Backends
    policy: PolicyEngine = field(default_factory=PolicyEngine)
    bus: EventBus = field(default_factory=EventBus)
    analysis: AnalysisGate = field(default_factory=NoTrafficAnalysis)

    def __post_init__(self) -> None:
        self.metrics = FactoryMetrics(self._count_active)
        self.selector = SelectorSync(self.db)

    # -- policy ---------------------------------------------------------------------------
    def policy_state(self, uow: UnitOfWork) -> PolicyState:
        gates = {name: row["state"] for name, row in uow.capabilities.all().items()}
        return PolicyState(gates=gates, safe_mode=bool(uow.settings.get(SAFE_MODE_KEY, False)),
                           four_eyes=self.settings.four_eyes)

    def authorize(self, uow: UnitOfWork, actor: Actor, action: str, *, gates: tuple[str, ...] = (),
                  owner: str | None = None) -> Decision:
        return self.policy.decide(actor, action, self.policy_state(uow), gates=gates, owner=owner).enforce()

    # -- templates --------------------------------------------------------------------------
    def node(self, uow: UnitOfWork, node_id: str) -> NodeRecord:
        record = uow.nodes.get(node_id)
        if record is None:
            raise NotFound(f"node {node_id} does not exist", id=node_id)
        return record

    def load_template(self, uow: UnitOfWork, record: NodeRecord) -> NodeTemplate:
        """The node's template, re-verified against its recorded sha256 at every load."""
        content = uow.artifacts.get(record.artifact_sha256) or b""
        return NodeTemplate.model_validate_json(verified(content, record.artifact_sha256, f"node {record.id}"))

    @staticmethod
    def store_template(uow: UnitOfWork, template: NodeTemplate) -> str:
        content = template_bytes(template)
        digest = sha256_hex(content)
        uow.artifacts.put(digest, content, TEMPLATE_MEDIA_TYPE)
        return digest

    def exec_context(self, uow: UnitOfWork, *, side_effects: bool) -> ExecContext:
        def resolve(node_id: str) -> ResolvedNode | None:
            record = uow.nodes.get(node_id)
            return ResolvedNode(self.load_template(uow, record), record.state) if record else None

        return ExecContext(side_effects=side_effects, resolve=resolve, execute=self.backends.execute,
                           output_dir=self.settings.var_dir / "output")

    # -- units of work ---------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A write transaction whose events are published once it has committed."""
        with self.db.unit_of_work(write=True) as uow:
            yield uow
        self.bus.publish(uow.events)

    def read(self):
        return self.db.unit_of_work(write=False)

    def _count_active(self) -> float:
        with self.read() as uow:
            counts = uow.nodes.count_by_state()
        return float(sum(counts.get(s, 0) for s in ("canary", "experimental", "stable")))
