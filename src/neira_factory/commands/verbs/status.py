"""status: read-only answers: an organ's status, one node, the organs, the nodes, or the capabilities (all,
or one). Its plan has nothing to confirm."""
from __future__ import annotations

from ..objects import resolve_capability, resolve_object
from ..plans import Plan, Step, World, say, target_id
from ..reader import Reader
from ..vocabulary import Intent

_PLURAL = {"capability": "capabilities", "organ": "organs", "node": "nodes"}


def read(p: Reader, verb: str) -> Intent:
    p.understood["action"] = "status"
    version = p.versions()
    nouns = p.noun_targets()
    if any(p.items[i].has("cap") for i in p.content() if not p.items[i].in_parens):
        name = resolve_capability(p)
        p.use_nouns(nouns, "capability")
        return _capability(p, name, version)
    target, name, version = resolve_object(p, ("organ", "node", "capability"), "status", version, required=False)
    if target is None:
        nouns = p.noun_targets()
        rest = p.content()
        if rest and all(p.items[i].has("cappart") or i in nouns.get("organ", ()) for i in rest) \
                and any(not p.items[i].has("target") for i in rest):
            return _capability(p, resolve_capability(p), version)
        plural = [t for t in ("capability", "organ", "node") if t in nouns]
        if len(plural) > 1:
            words = p.words_of(i for t in plural for i in nouns[t])
            p.fail(words, [], p.msg("ambiguous", words=" / ".join(words), names=", ".join(plural)))
        if plural:
            target = _PLURAL[plural[0]]
            p.use_nouns(nouns, plural[0])
            p.understood["target"] = target
    p.leftovers((target,) if target in ("organ", "node", "capability") else ("organ", "node", "capability"))
    return Intent("status", p.lang, target, name, version, text=p.text)


def _capability(p: Reader, name: str, version: int | None) -> Intent:
    p.understood.update(target="capability", name=name)
    p.leftovers(("capability",))
    return Intent("status", p.lang, "capability", name, version, text=p.text)


def plan(intent: Intent, world: World) -> Plan:
    if intent.target == "organ":
        target = target_id(intent, world)
        return Plan(intent, say(intent, f"статус {target}", f"status of {target}"),
                    (Step("organ_status", target, action="nodes.read"),), read_only=True)
    if intent.target == "node":
        target = target_id(intent, world)
        return Plan(intent, say(intent, f"узел {target}", f"node {target}"),
                    (Step("node", target, action="nodes.read"),), read_only=True)
    listing = {"organs": ("список органов", "the organs", "nodes.read"),
               "nodes": ("список узлов", "the nodes", "nodes.read")}.get(intent.target or "")
    if listing:
        return Plan(intent, say(intent, listing[0], listing[1]), (Step(intent.target or "", intent.target or "",
                                                                       action=listing[2]),), read_only=True)
    return Plan(intent, say(intent, "статус способностей", "the capabilities"),
                (Step("capabilities", intent.name or "capabilities", action="capabilities.read"),), read_only=True)
