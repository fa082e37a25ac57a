"""What each word of a command can mean: the command's tokens become items.

Each item is the longest phrase from ``synonyms`` that matches at its position
(Russian by pymorphy3 lemma, English by plural stem; a few Russian words by their
own surface form, where the lemma would mislead), else one word matched
against the vocabulary's own names (organs, node ids, capabilities, impls),
versions (v2) and numbers, and last a one-edit typo match against known names.
An item holds every meaning it can have; the reader decides which one is used.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..domain.backend_kinds import BACKEND_KINDS
from .morphology import (
    Token,
    en_forms,
    forms,
    inflections,
    is_cyrillic,
    is_known_russian,
    lemmas,
    norm,
    script,
    tokenize,
    within_one_edit,
)
from .synonyms import (
    ACTION_WORDS,
    CAPABILITY_PART_WORDS,
    FILLER_WORDS,
    IMPL_SYNONYMS,
    KIND_WORDS,
    LIGHT_VERBS,
    MARK_WORDS,
    OPTION_IMPL,
    OPTION_SYNONYMS,
    ORDINAL_WORDS,
    ORGAN_SYNONYMS,
    PICK_WORDS,
    QUESTION_WORDS,
    SEPARATOR_WORDS,
    STATE_WORDS,
    SURFACE_WORDS,
    TARGET_WORDS,
)
from .vocabulary import Vocabulary

# categories that name something (they do not decide the command's language)
NAME_CATS = frozenset({"organ", "node", "nodeid", "cap", "impl", "option", "ident", "ver", "num", "backend"})
# categories that qualify what a command is about: a state, a node kind, a backend, a relative version
QUALIFIER_CATS = frozenset({"state", "kind", "backend", "pick"})
_STRUCT_CATS = frozenset({"filler", "mark", "sep", "ask"})
_SURFACE = tuple((re.compile(f"^(?:{pattern})$"), cat, value) for pattern, cat, value in SURFACE_WORDS)
_NODE_ID = re.compile(r"^(?:analysis|action|memory)\.[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*$")
_NODE_VERSION = re.compile(r"\.v(\d+)$")
_VERSION = re.compile(r"^v\.?(\d+)(?:\.0+)*$")
_NUMBER = re.compile(r"^\d+$")
IDENT = re.compile(r"^[a-z][a-z0-9]*(?:[_\-][a-z0-9]+)*$")

# --- the static lexicon ----------------------------------------------------------


@dataclass
class _Entry:
    words: tuple[frozenset[str], ...]
    meanings: dict[str, tuple]


@dataclass
class _Lexicon:
    index: dict[str, list[_Entry]]
    fuzzy: list[tuple[frozenset[str], str, dict[str, tuple]]]  # (forms, surface, meanings)


_FUZZY_MIN = {"verb": 6, "target": 5, "organ": 4, "impl": 4, "option": 4, "cappart": 4, "filler": 6,
              "state": 6, "pick": 6, "kind": 6, "backend": 5}


def _entry_forms(word: str) -> frozenset[str]:
    w = norm(word)
    if is_cyrillic(w):
        lem = lemmas(w)
        return frozenset({w, *lem[:1]})
    return frozenset({w})


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    table: dict[tuple[frozenset[str], ...], dict[str, list]] = {}
    surfaces: dict[tuple[frozenset[str], ...], str] = {}

    def add(phrase: str, cat: str, value) -> None:
        toks = tokenize(phrase)
        if not toks or any(t.kind != "word" for t in toks):
            raise ValueError(f"bad lexicon phrase {phrase!r}")
        key = tuple(_entry_forms(t.text) for t in toks)
        bucket = table.setdefault(key, {})
        values = bucket.setdefault(cat, [])
        if value not in values:
            values.append(value)
        surfaces.setdefault(key, norm(phrase))

    lexicons = (("verb", ACTION_WORDS), ("light", {True: LIGHT_VERBS}), ("target", TARGET_WORDS),
                ("mark", MARK_WORDS), ("sep", SEPARATOR_WORDS), ("filler", {True: FILLER_WORDS}),
                ("organ", ORGAN_SYNONYMS), ("impl", IMPL_SYNONYMS),
                ("option", {option: (*words, option) for option, words in OPTION_SYNONYMS.items()}),
                ("cappart", CAPABILITY_PART_WORDS), ("ord", ORDINAL_WORDS), ("state", STATE_WORDS),
                ("kind", KIND_WORDS), ("pick", PICK_WORDS), ("ask", {True: QUESTION_WORDS}),
                ("backend", {kind.name: (kind.name, *kind.words) for kind in BACKEND_KINDS.values()}))
    for cat, lexicon in lexicons:
        for value, words in lexicon.items():
            for w in words:
                add(w, cat, value)

    index: dict[str, list[_Entry]] = {}
    fuzzy: list[tuple[frozenset[str], str, dict[str, tuple]]] = []
    for key, meanings in table.items():
        entry = _Entry(key, {k: tuple(v) for k, v in meanings.items()})
        for f in key[0]:
            index.setdefault(f, []).append(entry)
        if len(key) == 1:
            surface = surfaces[key]
            if any(len(surface) >= _FUZZY_MIN.get(cat, 99) for cat in meanings):
                fuzzy.append((inflections(surface) | key[0], surface, entry.meanings))
    for entries in index.values():
        entries.sort(key=lambda e: -len(e.words))
    return _Lexicon(index, fuzzy)


# --- items ----------------------------------------------------------------------


@dataclass
class Item:
    """One word or phrase of a command (or a separator) and everything it can mean: category → values."""

    text: str
    kind: str  # "word" | "sep"
    m: dict[str, tuple] = field(default_factory=dict)
    in_parens: bool = False
    scripts: tuple[str | None, ...] = ()
    fuzzy_of: str | None = None  # the known word a typo was matched to
    ambiguous: tuple[str, ...] = ()  # names a typo is one edit from (more than one)

    def has(self, *cats: str) -> bool:
        return any(c in self.m for c in cats)

    def vals(self, cat: str) -> tuple:
        return self.m.get(cat, ())

    @property
    def is_struct(self) -> bool:
        return self.kind == "sep" or (self.has(*_STRUCT_CATS) and not self.has(*NAME_CATS, *QUALIFIER_CATS,
                                                                                "cappart"))


def _cap_parts(cap: str) -> frozenset[str]:
    """The words of a capability name, singular: organs_builder → {organ, builder}."""
    return frozenset(min(en_forms(p), key=len) for p in cap.split("_") if p)


def node_impl(node_id: str) -> str:
    parts = node_id.split(".")
    if len(parts) > 1 and _VERSION.match(parts[-1]):
        parts = parts[:-1]
    return parts[-1]


def node_route(node_id: str) -> str:
    return _NODE_VERSION.sub("", node_id)


def node_version(node_id: str) -> int | None:
    m = _NODE_VERSION.search(node_id)
    return int(m.group(1)) if m else None


class Context:
    """Per-vocabulary lookups (rebuilt per call: a vocabulary holds a few dozen names)."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.organs = set(vocab.organs)
        self.nodes = set(vocab.nodes)
        self.routes = {node_route(n) for n in vocab.nodes}
        self.caps = set(vocab.capabilities)
        self.impls = set(vocab.impls)
        self.cap_parts = {c: _cap_parts(c) for c in vocab.capabilities}
        self.all_parts = frozenset().union(*self.cap_parts.values()) if self.cap_parts else frozenset()
        self.impl_option = {impl: opt for opt, impl in OPTION_IMPL.items()}

    def organ_names(self) -> list[str]:
        names = list(ORGAN_SYNONYMS)
        names += sorted(n for n in self.organs if n not in names)
        return names

    def impl_names(self) -> list[str]:
        return sorted(self.impls) if self.impls else list(IMPL_SYNONYMS)

    def step_ok(self, impl: str) -> bool:
        return not self.impls or impl in self.impls


def analyse(tokens: list[Token], ctx: Context) -> list[Item]:
    """The command's items: lexicon phrases, single words (with their dynamic, typo or identifier meaning),
    and separators; brackets only mark the items inside them."""
    lex = _lexicon()
    items: list[Item] = []
    depth = 0
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.kind == "open":
            depth += 1
            i += 1
            continue
        if t.kind == "close":
            depth = max(0, depth - 1)
            i += 1
            continue
        if t.kind in ("arrow", "comma", "colon"):
            sep = {"arrow": "then", "comma": "and", "colon": "colon"}[t.kind]
            items.append(Item(t.text, "sep", {"sep": (sep,)}, depth > 0))
            i += 1
            continue
        n, meanings = _surface(t.text) or _longest_phrase(tokens, i, lex)
        window = tokens[i : i + n]
        item = Item(" ".join(w.text for w in window), "word", meanings, depth > 0,
                    tuple(script(w.text) for w in window))
        if n == 1:
            _dynamic(item, ctx)
            if not item.m:
                _fuzzy(item, ctx, lex)
            if not item.m and not item.ambiguous and IDENT.match(item.text):
                item.m["ident"] = (item.text,)
        items.append(item)
        i += n
    return items


def _surface(word: str) -> tuple[int, dict[str, tuple]] | None:
    """A word whose own form means something its lemma does not («отключённые» → the state disabled)."""
    w = norm(word)
    for pattern, cat, value in _SURFACE:
        if pattern.match(w):
            return 1, {cat: (value,)}
    return None


def _longest_phrase(tokens: list[Token], i: int, lex: _Lexicon) -> tuple[int, dict[str, tuple]]:
    """How many words the longest lexicon phrase at `i` takes (1 when none does) and what it means."""
    n, meanings = 0, {}
    candidates: list[_Entry] = []
    for f in forms(tokens[i].text):
        candidates.extend(lex.index.get(f, ()))
    for entry in sorted(candidates, key=lambda e: -len(e.words)):
        k = len(entry.words)
        if k < n:
            break
        if i + k > len(tokens):
            continue
        window = tokens[i : i + k]
        if any(w.kind != "word" for w in window):
            continue
        if all(forms(w.text) & ef for w, ef in zip(window, entry.words)):
            if k > n:
                n, meanings = k, {}
            for cat, vals in entry.meanings.items():
                meanings[cat] = tuple(dict.fromkeys(meanings.get(cat, ()) + vals))
    return max(n, 1), meanings


def _add(item: Item, cat: str, value) -> None:
    vals = item.m.get(cat, ())
    if value not in vals:
        item.m[cat] = vals + (value,)


def _dynamic(item: Item, ctx: Context) -> None:
    w = norm(item.text)
    if w in ctx.organs:
        _add(item, "organ", w)
    if w in ctx.nodes:
        _add(item, "node", w)
    elif _NODE_ID.match(w):
        _node_shaped(item, w, ctx)
    if w in ctx.caps:
        _add(item, "cap", w)
    if w in ctx.impls:
        _add(item, "impl", w)
        if w in ctx.impl_option:
            _add(item, "option", ctx.impl_option[w])
    if not is_cyrillic(w) and ctx.all_parts and not item.has("cap", "node", "nodeid"):
        for f in forms(w):
            if f in ctx.all_parts:
                _add(item, "cappart", f)
    m = _VERSION.match(w)
    if m:
        _add(item, "ver", int(m.group(1)))
    elif _NUMBER.match(w):
        _add(item, "num", int(w))


def _node_shaped(item: Item, w: str, ctx: Context) -> None:
    """A node id not in the registry: a new version of a known route, a typo of a
    known route (one edit, the version kept), or a new node altogether."""
    route, version = node_route(w), w[len(node_route(w)):]
    if route in ctx.routes:
        _add(item, "nodeid", w)
        return
    close = sorted({r for r in ctx.routes if within_one_edit(route, r)})
    if len(close) > 1:
        item.ambiguous = tuple(r + version for r in close)
        return
    if close:
        fixed = close[0] + version
        _add(item, "node" if fixed in ctx.nodes else "nodeid", fixed)
        item.fuzzy_of = fixed
        return
    _add(item, "nodeid", w)


def _fuzzy(item: Item, ctx: Context, lex: _Lexicon) -> None:
    """One edit (insert, delete, substitute, transpose) from exactly one known name."""
    w = norm(item.text)
    if len(w) < 4 or is_known_russian(w):
        return
    cyr = is_cyrillic(w)
    probes = {w, *lemmas(w)} if cyr else {w}
    hits: dict[str, tuple[str, dict[str, tuple]]] = {}  # canonical key -> (surface, meanings)
    for fs, surface, meanings in lex.fuzzy:
        if is_cyrillic(surface) != cyr:
            continue
        if not any(len(surface) >= _FUZZY_MIN.get(cat, 99) for cat in meanings):
            continue
        if any(within_one_edit(p, f) for p in probes for f in fs if abs(len(p) - len(f)) <= 1):
            key = repr(sorted(meanings.items()))
            hits.setdefault(key, (surface, meanings))
    if not cyr:
        for cat, names in (("organ", ctx.organs), ("cap", ctx.caps), ("impl", ctx.impls)):
            for name in names:
                if len(name) >= 4 and within_one_edit(w, name):
                    meanings = {cat: (name,)}
                    if cat == "impl" and name in ctx.impl_option:
                        meanings["option"] = (ctx.impl_option[name],)
                    hits.setdefault(repr(sorted(meanings.items())), (name, meanings))
    if not hits:
        return
    # the same canonical name reached through different words is not ambiguous
    by_name: dict[tuple, tuple[str, dict[str, tuple]]] = {}
    for surface, meanings in hits.values():
        sig = tuple(sorted((c, v) for c, vs in meanings.items() if c in NAME_CATS | {"verb", "target"} for v in vs))
        by_name.setdefault(sig or (("word", surface),), (surface, meanings))
    if len(by_name) == 1:
        surface, meanings = next(iter(by_name.values()))
        item.m = {k: tuple(v) for k, v in meanings.items()}
        item.fuzzy_of = surface
    else:
        names = []
        for surface, meanings in by_name.values():
            canon = next((v[0] for c, v in meanings.items() if c in ("organ", "node", "cap", "impl", "option")), surface)
            if canon not in names:
                names.append(canon)
        item.ambiguous = tuple(names)
