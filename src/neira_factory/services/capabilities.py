"""Capability gates and safe-mode: read by anyone, changed by an admin, every change audited; the models of
the answers (the API's response models)."""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from ..domain.actors import Actor
from ..domain.capabilities import GateState
from ..domain.errors import BadInput, NotFound
from ..domain.events import Event
from .authorizer import SAFE_MODE_KEY, safe_mode_on
from .ports import Authorize, Read, Write


@dataclass(frozen=True)
class Deps:
    """What the capability and safe-mode switches use: units of work and the policy."""

    read: Read
    write: Write
    authorize: Authorize


class CapabilityRow(BaseModel):
    state: str
    updated_by: str
    updated_at: str


class CapabilityList(BaseModel):
    capabilities: dict[str, CapabilityRow]
    safe_mode: bool


class CapabilityChange(BaseModel):
    name: str
    state: str
    previous: str


class SafeModeResult(BaseModel):
    safe_mode: bool
    previous: bool


def list_capabilities(f: Deps, actor: Actor) -> CapabilityList:
    with f.read() as uow:
        f.authorize(uow, actor, "capabilities.read")
        return CapabilityList(capabilities=uow.capabilities.all(),
                              safe_mode=safe_mode_on(uow))


def set_capability(f: Deps, actor: Actor, name: str, state: str, reason: str | None = None) -> CapabilityChange:
    try:
        new = GateState(state)
    except ValueError:
        raise BadInput(f"state must be one of {[s.value for s in GateState]}", field="state") from None
    with f.write() as uow:
        f.authorize(uow, actor, "capabilities.set")
        old = uow.capabilities.get(name)
        if old is None:
            raise NotFound(f"capability {name} does not exist", capability=name)
        uow.capabilities.put(name, new.value, actor.name)
        uow.audit.append(actor.name, "capability.set", f"capability:{name}", before={"state": old},
                         after={"state": new.value}, reason=reason)
        uow.announce(Event("capability.changed", name, {"from": old, "to": new.value, "actor": actor.name}))
    return CapabilityChange(name=name, state=new.value, previous=old)


def set_safe_mode(f: Deps, actor: Actor, on: bool, reason: str | None = None) -> SafeModeResult:
    with f.write() as uow:
        f.authorize(uow, actor, "safe_mode.set")
        old = safe_mode_on(uow)
        uow.settings.put(SAFE_MODE_KEY, on)
        uow.audit.append(actor.name, "safe_mode.set", "safe_mode", before={"on": old}, after={"on": on},
                         reason=reason)
        uow.announce(Event("safe_mode.changed", "safe_mode", {"on": on, "actor": actor.name}))
    return SafeModeResult(safe_mode=on, previous=old)
