"""The policy engine as the use cases ask it: the policy state read in a unit of work (or, on the hot path,
from a cache that this replica's changes clear at once and other replicas' within the TTL), and one
`authorize` that raises what the engine refuses."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from ..domain.actors import Actor
from ..domain.events import Event
from ..policy import Decision, PolicyEngine, PolicyState
from ..runtime.cache import TTLCache
from .ports import UnitOfWork

SAFE_MODE_KEY = "safe_mode"
POLICY_EVENTS = ("capability.changed", "safe_mode.changed")


def safe_mode_on(uow: UnitOfWork) -> bool:
    return bool(uow.settings.get(SAFE_MODE_KEY, False))


class Authorizer:
    def __init__(self, policy: PolicyEngine, read: Callable[[], AbstractContextManager[UnitOfWork]], *,
                 four_eyes: bool, ttl_s: float):
        self.policy = policy
        self.four_eyes = four_eyes
        self._read = read
        self._states: TTLCache[None, PolicyState] = TTLCache(self._read_state, ttl_s)

    def policy_state(self, uow: UnitOfWork) -> PolicyState:
        gates = {name: row["state"] for name, row in uow.capabilities.all().items()}
        return PolicyState(gates=gates, safe_mode=safe_mode_on(uow), four_eyes=self.four_eyes)

    def _read_state(self, _key: None) -> PolicyState:
        with self._read() as uow:
            return self.policy_state(uow)

    def cached_policy_state(self) -> PolicyState:
        """The policy state for the hot path (invocations): this replica's changes at once, others' as their
        events arrive (within the TTL at worst)."""
        return self._states.get(None)

    def authorize(self, uow: UnitOfWork, actor: Actor, action: str, *, gates: tuple[str, ...] = (),
                  owner: str | None = None) -> Decision:
        return self.policy.decide(actor, action, self.policy_state(uow), gates=gates, owner=owner).enforce()

    def invalidate(self, events: list[Event]) -> None:
        if any(event.type in POLICY_EVENTS for event in events):
            self._states.invalidate()
