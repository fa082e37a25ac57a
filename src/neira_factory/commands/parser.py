"""Natural-language commands (Russian and English) → Intent.

Pure: no I/O, no database. The caller passes a Vocabulary of the names that exist
now; every name in the Intent is canonical (organ name, node id, capability,
implementation). Anything the parser cannot pin down — no verb, an unknown or
ambiguous name, a word left over that could change the meaning (a negation, an
unknown adjective) — raises NotUnderstood instead of guessing.

How a command is read:

1. tokenize (morphology.py): words (keeping dots/hyphens/underscores inside
   names), arrows (→ -> => …), commas, brackets; quotes and other punctuation
   fall away.
2. lexicon (lexicon.py): the longest phrase from ``synonyms`` that matches at
   each position (Russian by pymorphy3 lemma, English by plural stem), then the
   vocabulary's own names (organs, node ids, capabilities, impls), versions (v2,
   "версии 2", "second version"), and last a one-edit typo match against known names.
3. action (here): the verb (or action noun: "откат", "обучение", "статус");
   several different verbs → NotUnderstood; "сделай"/"make" only carry a noun's action;
   a question without a verb («какие узлы на канарейке?») asks for the status.
4. the verb's own reading (verbs/, through the table in verbs/__init__.py): its
   slots, each word must be used; leftovers → NotUnderstood. The words that changed
   nothing (fillers: please, the, пожалуйста) are listed in the Intent's ``ignored``.
"""
from __future__ import annotations

import dataclasses

from .lexicon import Context, analyse, node_impl
from .morphology import forms, tokenize
from .reader import Reader
from .synonyms import ADD_WORDS, GATE_STATES, IMPL_SYNONYMS
from .verbs import BY_WORD, VERBS
from .verbs.described import start as description_start
from .vocabulary import Intent, Vocabulary

__all__ = ["parse", "step_impl"]

_LANGS = ("ru", "en")
# suggested when a command has no verb: whole commands, and every verb word
_EXAMPLES = {lang: [verb.example[k] for verb in VERBS] for k, lang in enumerate(_LANGS)}
_VERB_HINTS = {lang: [said[k] for verb in VERBS for said in verb.words.values()] for k, lang in enumerate(_LANGS)}


def parse(text: str, vocabulary: Vocabulary) -> Intent:
    """Read one command (Russian or English) into an Intent, or raise NotUnderstood."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    p = Reader(text, vocabulary)
    word = _verb_word(p)
    intent = BY_WORD[word].read(p, word)
    return dataclasses.replace(intent, ignored=p.ignored())


def _verb_word(p: Reader) -> str:
    """The command's one verb word class (a key of synonyms.ACTION_WORDS)."""
    if not any(it.kind == "word" for it in p.items):
        p.fail([p.text.strip()] if p.text.strip() else [], _EXAMPLES[p.lang][:3], p.msg("empty"))
    end = description_start(p)  # «узел, который …»: a node's description is free text (verbs/described.py)
    verbs = _gate_names_out(p, [i for i, it in enumerate(p.items[:end]) if it.has("verb", "light")])
    strong = [i for i in verbs if p.items[i].has("verb") and not p.items[i].has("light")]
    chosen = strong or [i for i in verbs if p.items[i].has("verb")]
    classes = _classes(p, chosen)
    if len(classes) > 1:  # two different actions in one command: do neither
        p.fail(p.words_of(chosen), [], p.msg("two_verbs", words=", ".join(p.words_of(chosen))))
    if not classes and end < len(p.items):  # «мне нужен узел, чтобы …», "I need a node that …"
        classes = ["create"]
    asks = [i for i, it in enumerate(p.items[:end]) if it.has("ask")]
    if not classes and (asks or _only_filters(p)):  # «какие узлы на канарейке?», "deprecated nodes?"
        p.used.update(asks)
        classes = ["status"]
    if not classes and "pipeline" in p.noun_targets():  # «мне нужен конвейер scan: …», "pipeline mirror: …"
        classes = ["assemble"]
    if not classes:
        content = [it.text for it in p.items if it.kind == "word" and not it.is_struct]
        p.fail(content or [it.text for it in p.items if it.kind == "word"], _EXAMPLES[p.lang][:4],
               p.msg("no_verb", words=": " + " ".join(content) if content else "",
                     verbs=", ".join(_VERB_HINTS[p.lang])))
    p.used.update(verbs)  # light verbs next to a strong one are fillers
    return classes[0]


def _gate_names_out(p: Reader, verbs: list[int]) -> list[int]:
    """Beside a gate's verb (lock, unlock, enable, disable), an action noun that is also a gate's name
    («обучение», "training") names that gate, not a second action: «заблокируй обучение» locks `training`."""
    if not any(set(p.items[i].vals("verb")) & set(GATE_STATES) for i in verbs):
        return verbs
    return [i for i in verbs if not (p.items[i].has("cappart") and not set(p.items[i].vals("verb")) & set(GATE_STATES))]


def _classes(p: Reader, chosen: list[int]) -> list[str]:
    """The verb classes of the chosen verb words: "assemble" beside "create" is a pipeline, "add" beside "update"
    an update's options."""
    classes: list[str] = []
    for i in chosen:
        for c in p.items[i].vals("verb"):
            if c not in classes:
                classes.append(c)
    if set(classes) == {"create", "assemble"}:
        return ["assemble"]
    if set(classes) == {"update", "create"} and _adds_options(p, chosen):  # "update vision to v2 and add ocr"
        return ["update"]
    return classes


def _adds_options(p: Reader, verbs: list[int]) -> bool:
    """Whether every create word among the verbs is "add" («добавь») followed by an option: the update's
    options («обнови зрение до v2 и добавь ocr»), not a second action."""
    def option_after(i: int) -> bool:
        after = next((it for it in p.items[i + 1 :] if not it.has("filler")), None)
        return after is not None and after.has("option")

    adds = [i for i in verbs if "create" in p.items[i].vals("verb")]
    return all(forms(p.items[i].text) & ADD_WORDS and option_after(i) for i in adds)


def _only_filters(p: Reader) -> bool:
    """A command without a verb that is nothing but a listing's filters and its noun («устаревшие узлы?»,
    "deprecated nodes?", «есть ли узлы в карантине»): a status question."""
    rest = [p.items[i] for i in p.content()]
    return any(it.has("state", "kind", "backend") for it in rest) and all(
        it.has("state", "kind", "backend") or set(it.vals("target")) & {"node", "organ"} for it in rest)


def step_impl(word: str, vocabulary: Vocabulary) -> str | None:
    """The library implementation a step word names: "normalize", "нормализация",
    "phonemes", "фонемы", "adapter", "адаптер", "grayscale", "серый", "ocr", a node
    id or an impl name; None when it names none (or more than one)."""
    ctx = Context(vocabulary)
    items = [it for it in analyse(tokenize(word), ctx) if it.kind == "word"]
    if len(items) != 1:
        return None
    it = items[0]
    impls = list(it.vals("impl"))
    if not impls:
        for v in it.vals("node") + it.vals("nodeid"):
            impl = node_impl(v)
            if impl in IMPL_SYNONYMS or impl in ctx.impls:
                impls.append(impl)
    impls = [i for i in dict.fromkeys(impls) if ctx.step_ok(i)]
    return impls[0] if len(impls) == 1 else None
