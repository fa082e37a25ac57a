"""The Backend protocol and the per-invocation context every backend receives."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from ..domain.actors import Actor
from ..domain.errors import FactoryError
from ..domain.report import Risk
from ..domain.templates import NodeTemplate

MAX_LINK_DEPTH = 8
log = logging.getLogger(__name__)


class ExecutionError(FactoryError):
    """A node failed while running; `kind` is the error class the statistics count
    (bad_input, exception, timeout, limit, policy, bad_output)."""

    status = 502
    code = "execution_failed"

    def __init__(self, reason: str, *, kind: str = "exception", node: str | None = None, status: int | None = None,
                 **extra: Any):
        status = status or {"bad_input": 422, "timeout": 504}.get(kind)
        super().__init__(reason, status=status, kind=kind, node=node, **extra)
        self.kind = kind

    @classmethod
    def defect(cls, node: str, exc: Exception) -> ExecutionError:
        """A Python exception out of a backend or the node's own code: logged, and an `exception` error."""
        log.error("node %s raised", node, exc_info=exc)
        return cls(f"{node} failed: {type(exc).__name__}: {exc}", kind="exception", node=node)


@dataclass(frozen=True)
class ResolvedNode:
    """A linked node as the backend sees it: its template and lifecycle state."""

    template: NodeTemplate
    state: str

    @property
    def id(self) -> str:
        return self.template.id


@dataclass
class ExecContext:
    """What one invocation may use: whether side effects are on, and how to reach linked nodes."""

    side_effects: bool
    resolve: Callable[[str], ResolvedNode | None]
    execute: Callable[[NodeTemplate, Any, "ExecContext"], Any]
    output_dir: Path | None = None
    depth: int = 0
    log: list[str] = field(default_factory=list)
    deadline: float | None = None  # time.monotonic() by which a self-interrupting sandbox must stop
    usage: dict[str, int] = field(default_factory=dict)  # operations / memory_bytes a sandbox reports
    trace: list[dict[str, Any]] = field(default_factory=list)  # an organ's steps: {node, version, ms, ok}
    member: Callable[[ResolvedNode, Any, "ExecContext"], Any] | None = None  # runs an organ's node, guarded
    closed: frozenset[str] = frozenset()  # gates that are off when the call began: nothing behind them runs
    live: bool = True  # False in a dry-run: failures are not counted and the immune system does not react
    actor: Actor | None = None  # who the call runs for (None: the factory itself: a dry-run, training, a shadow)
    permit: Callable[[str], None] | None = None  # raises Forbidden when `actor` may not do a policy action
    scratch: dict[str, Any] = field(default_factory=dict)  # throwaway state a dry-run's examples share
    # an organ's last member's output and the cap it was checked against: the organ's answer, if it is that very
    # object and the organ's cap is no lower, is not measured again
    checked: tuple[Any, int] | None = None
    # the stable version of a route (a script's `import "route"`), from the runtime's route cache; None: none
    stable: Callable[[str], ResolvedNode | None] = lambda route: None

    def deeper(self) -> "ExecContext":
        if self.depth + 1 > MAX_LINK_DEPTH:
            raise ExecutionError(f"links nest deeper than {MAX_LINK_DEPTH}", kind="policy")
        return replace(self, depth=self.depth + 1)


class Backend(Protocol):
    name: str
    interruptible: bool  # stops itself at ctx.deadline (sandboxes); else the watchdog abandons a worker

    def check(self, template: NodeTemplate) -> list[Risk]:
        """Static findings about the template (no execution)."""

    def run(self, template: NodeTemplate, data: Any, ctx: ExecContext) -> Any:
        """Execute the node on `data`; raise ExecutionError on failure."""

    def side_effects(self, template: NodeTemplate) -> bool:
        """Whether running this node acts on the world."""


# What a backend may add to the protocol (Backends falls back to these when it does not):
#   policy_action(template, data) -> str: the policy action an invocation with this input needs
#       (default: routes.invoke); a memory read needs only the read scope.
#   mirrors(template, data) -> bool: whether a shadow copy of this input runs (default: True).
#   comparable(template, output) -> Any: what a shadow's output is compared by (default: the output).
#   flush() -> None: write what the backend buffers (usage counters), with the statistics.
