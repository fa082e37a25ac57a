"""What an actor may do now, as the PolicyEngine answers: the admin UI hides or disables what it would refuse
(posting still goes through the use case, where the engine decides again)."""
from __future__ import annotations

from dataclasses import dataclass

from ..domain.actors import Actor
from ..policy import Decision, PolicyEngine, PolicyState
from .ports import PolicyStateOf, Read


@dataclass(frozen=True)
class Deps:
    """What reading the permissions uses: a read and the policy."""

    read: Read
    policy: PolicyEngine
    policy_state: PolicyStateOf


@dataclass(frozen=True)
class Permissions:
    """One actor's answers against one reading of the gates, safe mode and four-eyes."""

    engine: PolicyEngine
    state: PolicyState
    actor: Actor

    @property
    def safe_mode(self) -> bool:
        return self.state.safe_mode

    def may(self, action: str, *, gates: tuple[str, ...] = (), owner: str | None = None) -> Decision:
        return self.engine.decide(self.actor, action, self.state, gates=gates, owner=owner)


def permissions(f: Deps, actor: Actor) -> Permissions:
    """The policy's answers for `actor`, on the world as it is now (read once)."""
    with f.read() as uow:
        return Permissions(f.policy, f.policy_state(uow), actor)
