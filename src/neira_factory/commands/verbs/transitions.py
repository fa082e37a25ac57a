"""approve, rollback, disable: one lifecycle transition of an organ or a node. "disable" with no organ or
node named (or a capability named) is a capability's (capability.py)."""
from __future__ import annotations

from ..objects import read_one, resolve_object
from ..plans import Plan, Step, World, acted_on, picked_why, say, target_id
from ..reader import Reader
from ..vocabulary import Intent
from . import capability

# the transition, as the plan's summary says it (ru, en)
_SAID = {"approve": ("одобрить", "approve"), "rollback": ("откатить", "roll back"),
         "disable": ("отключить", "disable")}


def read(p: Reader, verb: str) -> Intent:
    """approve / rollback: the organ or node it is for."""
    return read_one(p, verb, ("organ", "node"))


def read_disable(p: Reader, verb: str) -> Intent:
    p.understood["action"] = "disable"
    nouns = p.noun_targets()
    if nouns.get("capability") or any(p.items[i].has("cap") or (p.items[i].has("backend") and not p.items[i].has(
            "impl", "node", "nodeid")) for i in p.content()):  # a gate, or the nodes of a backend: its gate
        return capability.read(p, verb)
    version = p.versions()
    pick, state = p.qualifiers("disable")
    target, name, version = resolve_object(p, ("organ", "node"), "disable", version,
                                           required="node" in nouns or pick is not None, relative=pick is not None)
    if target is None:
        if version is not None:
            p.leftovers(("organ", "node", "capability"))
        p.understood.pop("version", None)
        return capability.read(p, verb)
    p.leftovers((target,))
    p.one_only()
    return Intent("disable", p.lang, target, name, version, state=state, pick=pick, text=p.text)


def plan(intent: Intent, world: World) -> Plan:
    """One transition; for an organ named without a version, or a version named relative to the others, the
    summary says which version and why."""
    target = target_id(intent, world)
    ru, en = _SAID[intent.action]
    if intent.pick:
        why: str | None = say(intent, *picked_why(intent))
    else:
        why = acted_on(intent, world)[1] if intent.target == "organ" and intent.version is None else None
    because = f" ({why})" if why else ""
    return Plan(intent, say(intent, f"{ru} {target}{because}", f"{en} {target}{because}"),
                (Step("transition", target, {"action": intent.action}, f"nodes.{intent.action}"),))
