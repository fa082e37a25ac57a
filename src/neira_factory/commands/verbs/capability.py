"""capability: set a capability gate's state ("разблокируй factory_script", "lock wasm factory")."""
from __future__ import annotations

from ...domain.errors import NotFound
from ..objects import resolve_capability
from ..plans import Plan, Step, World, say
from ..reader import Reader
from ..synonyms import GATE_STATES
from ..vocabulary import Intent


def read(p: Reader, verb: str) -> Intent:
    """unlock / enable / lock (and disable, for a capability): the gate and the state the verb asks for."""
    state = GATE_STATES[verb]
    p.understood = {"action": "capability", "target": "capability", "state": state}
    name = resolve_capability(p)
    p.understood["name"] = name
    p.leftovers(("capability",))
    p.one_only()  # «заблокируй все органы»: every organ's gate, or the builder's? neither
    return Intent("capability", p.lang, "capability", name, None, state=state, text=p.text)


def plan(intent: Intent, world: World) -> Plan:
    name, state = intent.name or "", intent.state or ""
    current = world.capabilities.get(name)
    if current is None:
        raise NotFound(say(intent, f"способности {name} нет", f"there is no capability {name}"), capability=name)
    return Plan(intent, say(intent, f"{name}: {current} → {state}", f"{name}: {current} → {state}"),
                (Step("set_capability", name, {"state": state}, "capabilities.set"),))
