"""create, for a node described by what it should do: «создай узел, который переворачивает текст», «мне нужен
узел, чтобы …», «сделай узел для определения тональности отзыва», "make a node that …", "I need a node which …".

The words after a node noun and a marker (который, чтобы, для / that, which, who, to, for) are a description:
free text, not command words, so the verb is looked for before it (parser.py) and none of its words is
"left over". A negation or an exception in it is refused (a description that says what a node must not do is
not ranked).
The plan proposes the library implementation the description fits best (commands/describe.py) as a new draft
`analysis.<impl>.vN` (`action.` for one that acts on the world; N the route's next free version, or the one
named before the marker): `draft_content` is the command, the params are the implementation's defaults, and its
example input (library.core.About) is the template's example, so the dry-run shows it runs. The plan's
`choice` carries the score and the runners-up; a description nothing fits is 422 `no_implementation`.
"""
from __future__ import annotations

from typing import Any

from ... import library
from ...domain.errors import Conflict
from .. import describe
from ..lexicon import node_route, node_version
from ..morphology import lemmas, norm
from ..plans import Plan, Step, World, say
from ..reader import Reader
from ..vocabulary import Intent

MARKERS = frozenset({"который", "чтобы", "чтоб", "для", "that", "which", "who", "to", "for"})
# a request without a verb: «мне нужен узел, чтобы …», "I need a node that …"
WANT = frozenset({"нужный", "нужно", "надо", "хотеть", "требоваться", "need", "want", "wanted", "needed"})
# and the exceptions («…, кроме цифр», "except digits"): no implementation leaves a part of its input alone
NEGATIONS = frozenset({"не", "ни", "нельзя", "никогда", "not", "never", "no", "nothing", "don", "doesn", "didn",
                       "isn", "aren", "won", "cannot", "shouldn", "mustn",
                       "кроме", "исключением", "except", "excluding", "unless", "apart"})


def _words(text: str) -> set[str]:
    return {f for w in text.split() for f in (norm(w), *lemmas(norm(w)))}


def start(p: Reader) -> int:
    """The index of the marker that begins a node's description (words follow it); len(p.items) when there is
    none (and for a memory node: «узел памяти для фактов», "a memory node for facts", verbs/memory.py)."""
    for k, it in enumerate(p.items):
        if it.kind != "word" or it.in_parens or "node" not in it.vals("target"):
            continue
        j = k + 1
        while j < len(p.items) and (p.items[j].text in (",", ":") or p.items[j].has("ver")):  # «узел v3, который»
            j += 1
        memory = any("memory" in before.vals("cappart") for before in p.items[:j])
        if (j < len(p.items) - 1 and p.items[j].kind == "word" and not memory
                and _words(p.items[j].text.split()[0]) & MARKERS):
            return j
        break
    return len(p.items)


def read(p: Reader, at: int) -> Intent:
    """The description after the marker at `at`; before it, only the verb, the node noun, a version and
    words that change nothing."""
    description = " ".join(it.text for it in p.items[at + 1 :]).strip()
    p.understood.update(target="node")
    negated = [it.text for it in p.items[at + 1 :] if it.kind == "word" and set(it.text.split()) & NEGATIONS]
    if negated:
        p.fail(negated, [], "описание говорит, чего узел не должен делать: скажите, что он делает" if p.lang == "ru"
               else "the description says what the node must not do: say what it does")
    p.used.update(range(at, len(p.items)))
    p.use_nouns(p.noun_targets(), "node")
    p.used.update(i for i in p.content() if _words(p.items[i].text) & WANT)
    version = p.versions()
    p.leftovers(("node",))
    p.understood["description"] = description
    return Intent("create", p.lang, "node", None, version, text=p.text, description=description)


def plan(intent: Intent, world: World) -> Plan:
    """A draft of the implementation the description fits best, or NoImplementation naming the closest."""
    choice = describe.choose(intent.description or "", intent.lang)
    impl = library.get(choice.impl)
    kind = "action" if impl.side_effects else "analysis"
    route = f"{kind}.{impl.name}"
    taken = [node_version(n) or 0 for n in (*world.nodes, *world.examples) if node_route(n) == route]
    node_id = f"{route}.v{intent.version or max(taken, default=0) + 1}"
    if node_id in world.nodes:
        raise Conflict(say(intent, f"узел {node_id} уже есть", f"node {node_id} exists already"), id=node_id)
    step = Step("create_node", node_id, {"template": _template(node_id, kind, impl, intent.text),
                                         "reason": f"command: {intent.text}"}, "nodes.create", ("factory_adapter",))
    others = ", ".join(f"{i} {s:.2f}" for i, s in choice.runners_up)
    summary = say(intent, f"создать узел {node_id} (черновик) из реализации {impl.name}: {choice.score:.2f} "
                          f"(дальше: {others})",
                  f"create node {node_id} (draft) of the implementation {impl.name}: {choice.score:.2f} "
                  f"(then: {others})")
    return Plan(intent, summary, (step,), choice=choice.to_dict())


def _template(node_id: str, kind: str, impl: library.LibraryImpl, text: str) -> dict[str, Any]:
    """The implementation bound with its default params, its schemas and its example input; the command as
    the draft's content."""
    return {"id": node_id, "version": "0.1.0", f"{kind}_type": impl.name, "backend": "adapter",
            "adapter": {"impl": impl.name}, "draft_content": text,
            "params": {name: dict(spec) for name, spec in impl.params.items()},
            "io": {"input": impl.input_schema, "output": impl.output_schema},
            "examples": [{"input": impl.about.example}]}
