"""The shapes of what the composition root hands the use cases: a unit of work to read or write in, the
policy engine's answers. Each use-case module's `Deps` lists the ones it uses."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from ..domain.actors import Actor
from ..policy import Decision, PolicyState
from ..store import UnitOfWork

Read = Callable[[], AbstractContextManager[UnitOfWork]]  # a read-only unit of work
Write = Callable[[], AbstractContextManager[UnitOfWork]]  # a write whose events are published after its commit
PolicyStateOf = Callable[[UnitOfWork], PolicyState]
CachedPolicyState = Callable[[], PolicyState]
FlushStats = Callable[[], int]


class Authorize(Protocol):
    def __call__(self, uow: UnitOfWork, actor: Actor, action: str, *, gates: tuple[str, ...] = (),
                 owner: str | None = None) -> Decision: ...
