"""pipeline: an organ of one channel made of the given steps, in order ("собери speak-pipeline
normalize→phonemes→adapter"). create.py decides that a create/assemble command is a pipeline."""
from __future__ import annotations

from ..lexicon import IDENT
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
    return not ((prev and prev.has("sep")) or (nxt and nxt.has("sep")))


def read_steps(p: Reader, version: int | None) -> Intent:
    """The pipeline's name (an organ, an identifier, or one after "named") and its steps."""
    p.understood.update(action="pipeline", target="organ")
    nouns = p.noun_targets()
    for t in ("pipeline", "organ"):
        p.use_nouns(nouns, t)
    name: str | None = None
    steps: list[str] = []
    for i in p.content():
        it = p.items[i]
        if it.in_parens:
            continue
        prev = p.prev_item(i)
        named = prev is not None and "name" in prev.vals("mark")
        impls = [v for v in it.vals("impl") if p.ctx.step_ok(v)]
        if len(impls) == 1 and not named and not organ_first(p, i):
            steps.append(impls[0])
            p.used.add(i)
            continue
        candidate = None
        if it.has("organ") and len(it.vals("organ")) == 1:
            candidate = it.vals("organ")[0]
        elif it.has("ident") or (named and IDENT.match(it.text)):
            candidate = it.text
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
