"""pipeline: an organ of one channel made of the given steps, in order ("собери speak-pipeline
normalize→phonemes→adapter"; a name before a colon is the name even when it is a step's word: «собери
пайплайн speak: normalize -> phonemes -> adapter»). create.py decides that a create/assemble command is a
pipeline."""
from __future__ import annotations

from .. import describe
from ..lexicon import IDENT, Item
from ..plans import Plan, World, latest, new_organ_id, next_version, node_for, organ_gates, organ_plan, say
from ..reader import Reader
from ..synonyms import STEP_LABELS
from ..vocabulary import Intent


def organ_first(p: Reader, i: int) -> bool:
    """An organ name that is also a step ("echo") is the name unless it sits in an arrow chain."""
    it = p.items[i]
    if not it.has("organ"):
        return False
    prev, nxt = p.prev_item(i), p.next_item(i)
    return not any(near and near.has("sep") and "colon" not in near.vals("sep") for near in (prev, nxt))


def _named(p: Reader, i: int) -> bool:
    """Whether the word at `i` follows "named" («под именем», «назови его»), across fillers."""
    j = i - 1
    while j >= 0 and p.items[j].is_struct and "name" not in p.items[j].vals("mark"):
        if not p.items[j].has("filler"):
            return False
        j -= 1
    return j >= 0 and "name" in p.items[j].vals("mark")


def _colon_name(p: Reader) -> tuple[int, str] | None:
    """The one word before the first colon, when it can be a name: («speak: normalize → …»)."""
    colons = [i for i, it in enumerate(p.items) if "colon" in it.vals("sep")]
    before = [i for i in p.content() if colons and i < colons[0] and not p.items[i].in_parens]
    if len(before) != 1:
        return None
    name = _name_of(p.items[before[0]], True)
    return (before[0], name) if name else None


def _name_of(it: Item, named: bool) -> str | None:
    """The name a word gives a pipeline: an organ's, or an identifier (an identifier after "named" or before a
    colon is taken as written, even one edit from an organ: "voice2" is not voice)."""
    written = IDENT.match(it.text) and (named or it.has("ident") or it.fuzzy_of)
    if len(it.vals("organ")) == 1 and not (it.fuzzy_of and written):
        return it.vals("organ")[0]
    return it.text if written else None


def refuse_unknown_steps(p: Reader) -> None:
    """«собери орган из распознавания речи и перевода»: an organ or a pipeline made "from" parts, one of which
    names no step and fits no implementation (commands/describe.py), is refused as such: NoImplementation (422
    no_implementation) naming the closest implementations."""
    nouns = p.noun_targets()
    start = next((i for i, it in enumerate(p.items) if "of" in it.vals("mark")), None)
    if start is None or not (nouns.get("organ") or nouns.get("pipeline")):
        return
    chunk: list = []
    for it in [*p.items[start + 1 :], None]:
        if it is not None and not it.has("sep"):
            chunk.append(it)
            continue
        if any(w.kind == "word" and not w.is_struct and not w.has("impl") for w in chunk):
            describe.choose(" ".join(w.text for w in chunk), p.lang)  # raises when nothing fits
        chunk = []


def read_steps(p: Reader, version: int | None) -> Intent:
    """The pipeline's name (an organ, an identifier, or one after "named") and its steps."""
    p.understood.update(action="pipeline", target="organ")
    nouns = p.noun_targets()
    for t in ("pipeline", "organ"):
        p.use_nouns(nouns, t)
    name: str | None = None
    steps: list[str] = []
    named_first = _colon_name(p)
    if named_first:
        p.used.add(named_first[0])
        name = named_first[1]
    for i in p.content():
        it = p.items[i]
        if it.in_parens:
            continue
        named = _named(p, i)
        impls = [v for v in it.vals("impl") if p.ctx.step_ok(v)]
        if len(impls) == 1 and not named and not organ_first(p, i):
            steps.append(impls[0])
            p.used.add(i)
            continue
        candidate = _name_of(it, named)
        if candidate and (name is None or candidate == name) and (not steps or named):
            name = candidate
            p.used.add(i)
    p.understood["steps"] = list(steps)
    if name:
        p.understood["name"] = name
    p.leftovers(("impl", "organ"))
    if not steps:
        p.fail([], list(STEP_LABELS.values())[:6], p.msg("no_steps"))
    if name is None:
        name = "-".join(STEP_LABELS.get(s, s) for s in steps)
    return Intent("pipeline", p.lang, "organ", name, version, steps=tuple(steps), text=p.text)


def plan(intent: Intent, world: World) -> Plan:
    name = intent.name or "-".join(intent.steps)
    version = intent.version or next_version(world, name)
    organ_id = new_organ_id(intent, world, name, version)
    nodes = [node_for(impl, world) for impl in intent.steps]
    document = {"id": organ_id, "version": f"0.{version}.0", "roles": list(intent.steps), "nodes": nodes,
                "channels": [{"name": name, "nodes": nodes}],
                "policies": {"hitl": True, "gates": organ_gates(name, world)}}
    current_id = latest(world, name)
    return organ_plan(intent, world, document, world.organs.get(current_id) if current_id else None,
                      say(intent, f"собрать {organ_id}: {' → '.join(intent.steps)}",
                          f"build {organ_id}: {' → '.join(intent.steps)}"))
