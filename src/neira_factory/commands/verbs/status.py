"""status: read-only answers: an organ's status, one node, the organs, the nodes, or the capabilities (all,
or one). The organs and the nodes may be filtered by lifecycle state, node kind, backend and, for nodes, the
organ they belong to («какие узлы на канарейке?», "list wasm nodes", «какие органы стабильны»). Its plan has
nothing to confirm."""
from __future__ import annotations

from ...domain.errors import NotFound
from ..morphology import is_plural
from ..objects import resolve_capability, resolve_object
from ..plans import Plan, Step, World, latest, members, say, target_id
from ..reader import Reader
from ..vocabulary import Intent

_PLURAL = {"capability": "capabilities", "organ": "organs", "node": "nodes"}
_FILTERS = ("state", "kind", "backend")


def read(p: Reader, verb: str) -> Intent:
    p.understood["action"] = "status"
    version = p.versions()
    nouns = p.noun_targets()
    if any(p.items[i].has("cap") for i in p.content() if not p.items[i].in_parens):
        name = resolve_capability(p)
        p.use_nouns(nouns, "capability")
        return _capability(p, name, version)
    if _is_listing(p, nouns) and version is None:
        return _listing(p, nouns)
    pick, state = p.qualifiers("status")
    target, name, version = resolve_object(p, ("organ", "node", "capability"), "status", version, required=False,
                                           relative=pick is not None)
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
    if target not in ("organ", "node") and (pick or state):  # «покажи последние органы»
        p.fail(p.words_of(i for i, it in enumerate(p.items) if it.has("pick", "state")), [])
    return Intent("status", p.lang, target, name, version, state=state, pick=pick, text=p.text)


def _is_listing(p: Reader, nouns: dict[str, list[int]]) -> bool:
    """A question about the organs or nodes of a state, kind or backend, or the nodes of an organ; not about one
    organ («стабильный голосовой орган» is its stable version) or one node («узел эха»: a singular noun and a
    name)."""
    rest = [i for i in p.content() if not p.items[i].in_parens]
    filters = [i for i in rest if p.items[i].has(*_FILTERS)]
    node_nouns, organ_nouns = nouns.get("node", []), nouns.get("organ", [])
    organs = [i for i in rest if p.items[i].has("organ") and i not in organ_nouns and i not in filters]
    if not (filters or (node_nouns and organs)) or (organs and not node_nouns):
        return False
    if organs and not any(is_plural(p.items[i].text) for i in node_nouns):
        return False
    return all(i in filters or i in node_nouns or i in organ_nouns or i in organs for i in rest)


def _listing(p: Reader, nouns: dict[str, list[int]]) -> Intent:
    """The organs or nodes that match: each filter once; an organ's name filters nodes by membership."""
    node_nouns, organ_nouns = nouns.get("node", []), nouns.get("organ", [])
    second = [i for i in organ_nouns if node_nouns and is_plural(p.items[i].text)]
    if second:  # «покажи стабильные узлы и органы»: two listings, not the nodes of an organ
        words = p.words_of(sorted({*node_nouns, *second}))
        p.fail(words, [], p.msg("ambiguous", words=" / ".join(words), names="node, organ"))
    target = "organs" if organ_nouns and not node_nouns else "nodes"
    p.understood["target"] = target
    found: dict[str, dict[str, list[int]]] = {}
    for i in p.content():
        it = p.items[i]
        for cat in (*_FILTERS, "organ"):
            for value in it.vals(cat) if not (cat == "organ" and i in organ_nouns) else ():
                found.setdefault(cat, {}).setdefault(value, []).append(i)
    if target == "organs":  # organs have a state, not a kind, a backend or an organ
        found = {"state": found.get("state", {})} if "state" in found else {}
    for values in found.values():
        if len(values) > 1:
            words = p.words_of(sorted({i for idx in values.values() for i in idx}))
            p.fail(words, list(values), p.msg("two_of", words=", ".join(words)))
    filters = {cat: next(iter(values)) for cat, values in found.items()}
    p.used.update(i for values in found.values() for idx in values.values() for i in idx)
    p.use_nouns(nouns, "node")
    p.use_nouns(nouns, "organ")
    p.understood["filters"] = filters
    p.leftovers(("organ",))
    return Intent("status", p.lang, target, None, None, filters=tuple(sorted(filters.items())), text=p.text)


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
    if intent.target in ("organs", "nodes"):
        return _listing_plan(intent, world)
    return Plan(intent, say(intent, "статус способностей", "the capabilities"),
                (Step("capabilities", intent.name or "capabilities", action="capabilities.read"),), read_only=True)


def _listing_plan(intent: Intent, world: World) -> Plan:
    """The organs or the nodes that match the filters; an organ filter becomes its newest version's members."""
    body: dict = dict(intent.filters)
    if "organ" in body:
        organ_id = latest(world, body["organ"])
        if organ_id is None:
            raise NotFound(say(intent, f"органа {body['organ']} нет", f"there is no {body['organ']} organ"),
                           organ=body["organ"])
        body.update(organ=organ_id, members=members(world.organs[organ_id]))
    shown = ", ".join(f"{k}={v}" for k, v in sorted(intent.filters))
    ru, en = ("органов", "the organs") if intent.target == "organs" else ("узлов", "the nodes")
    summary = say(intent, f"список {ru}" + (f": {shown}" if shown else ""), en + (f": {shown}" if shown else ""))
    return Plan(intent, summary, (Step(intent.target or "", intent.target or "", body, "nodes.read"),),
                read_only=True)
