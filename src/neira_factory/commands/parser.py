"""Natural-language commands (Russian and English) → Intent.

Pure: no I/O, no database. The caller passes a Vocabulary of the names that exist
now; every name in the Intent is canonical (organ name, node id, capability,
implementation). Anything the parser cannot pin down — no verb, an unknown or
ambiguous name, a word left over that could change the meaning (a negation, an
unknown adjective) — raises NotUnderstood instead of guessing.

How a command is read:

1. tokenize: words (keeping dots/hyphens/underscores inside names), arrows
   (→ -> => …), commas, brackets; quotes and other punctuation fall away.
2. lexicon: the longest phrase from ``synonyms`` that matches at each position
   (Russian by pymorphy3 lemma, English by plural stem), then the vocabulary's own
   names (organs, node ids, capabilities, impls), versions (v2, "версии 2",
   "second version"), and last a one-edit typo match against known names.
3. action: the verb (or action noun: "откат", "обучение", "статус"); several
   different verbs → NotUnderstood; "сделай"/"make" only carry a noun's action.
4. slots per action, each word must be used; leftovers → NotUnderstood.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .morphology import (
    Token,
    en_forms,
    forms,
    inflections,
    is_cyrillic,
    is_known_russian,
    lemmas,
    script,
    tokenize,
    within_one_edit,
)
from .synonyms import (
    ACTION_WORDS,
    CAPABILITY_PART_WORDS,
    FILLER_WORDS,
    GATE_STATES,
    IMPL_SYNONYMS,
    LIGHT_VERBS,
    MARK_WORDS,
    OPTION_IMPL,
    OPTION_SYNONYMS,
    ORDINAL_WORDS,
    ORGAN_SYNONYMS,
    SEPARATOR_WORDS,
    STEP_LABELS,
    TARGET_WORDS,
)
from .vocabulary import Intent, NotUnderstood, Vocabulary

__all__ = ["Intent", "NotUnderstood", "Vocabulary", "parse", "step_impl"]

# categories that name something (they do not decide the command's language)
_NAME_CATS = frozenset({"organ", "node", "nodeid", "cap", "impl", "option", "ident", "ver", "num"})
_STRUCT_CATS = frozenset({"filler", "mark", "sep"})
_NODE_ID = re.compile(r"^(?:analysis|action|memory)\.[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*$")
_NODE_VERSION = re.compile(r"\.v(\d+)$")
_VERSION = re.compile(r"^v\.?(\d+)(?:\.0+)*$")
_NUMBER = re.compile(r"^\d+$")
_IDENT = re.compile(r"^[a-z][a-z0-9]*(?:[_\-][a-z0-9]+)*$")

_EXAMPLES = {
    "ru": ["создай голосовой орган v1", "обнови зрение до v2 (grayscale)",
           "собери speak-pipeline normalize→phonemes→adapter", "одобри analysis.echo.v1",
           "разблокируй factory_script", "покажи статус способностей", "обучи analysis.keyword_classify.v1"],
    "en": ["create voice organ v1", "upgrade vision to v2 (grayscale)",
           "assemble speak-pipeline normalize→phonemes→adapter", "approve analysis.echo.v1",
           "unlock factory_script", "show capabilities", "train analysis.keyword_classify.v1"],
}
_VERB_HINTS = {
    "ru": ["создай", "обнови", "собери", "одобри", "откати", "отключи", "разблокируй", "включи",
           "заблокируй", "покажи", "обучи"],
    "en": ["create", "update", "assemble", "approve", "roll back", "disable", "unlock", "enable",
           "lock", "show", "train"],
}


def _norm(word: str) -> str:
    return word.lower().replace("ё", "е")


# --- the static lexicon ----------------------------------------------------------


@dataclass
class _Entry:
    words: tuple[frozenset[str], ...]
    meanings: dict[str, tuple]


@dataclass
class _Lexicon:
    index: dict[str, list[_Entry]]
    fuzzy: list[tuple[frozenset[str], str, dict[str, tuple]]]  # (forms, surface, meanings)


_FUZZY_MIN = {"verb": 6, "target": 5, "organ": 4, "impl": 4, "option": 4, "cappart": 4, "filler": 6}


def _entry_forms(word: str) -> frozenset[str]:
    w = _norm(word)
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
        surfaces.setdefault(key, _norm(phrase))

    lexicons = (("verb", ACTION_WORDS), ("light", {True: LIGHT_VERBS}), ("target", TARGET_WORDS),
                ("mark", MARK_WORDS), ("sep", SEPARATOR_WORDS), ("filler", {True: FILLER_WORDS}),
                ("organ", ORGAN_SYNONYMS), ("impl", IMPL_SYNONYMS),
                ("option", {option: (*words, option) for option, words in OPTION_SYNONYMS.items()}),
                ("cappart", CAPABILITY_PART_WORDS), ("ord", ORDINAL_WORDS))
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
class _Item:
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
        return self.kind == "sep" or (self.has(*_STRUCT_CATS) and not self.has(*_NAME_CATS, "cappart"))


def _cap_parts(cap: str) -> frozenset[str]:
    """The words of a capability name, singular: organs_builder → {organ, builder}."""
    return frozenset(min(en_forms(p), key=len) for p in cap.split("_") if p)


def _node_impl(node_id: str) -> str:
    parts = node_id.split(".")
    if len(parts) > 1 and _VERSION.match(parts[-1]):
        parts = parts[:-1]
    return parts[-1]


def _node_route(node_id: str) -> str:
    return _NODE_VERSION.sub("", node_id)


def _node_version(node_id: str) -> int | None:
    m = _NODE_VERSION.search(node_id)
    return int(m.group(1)) if m else None


class _Context:
    """Per-vocabulary lookups (rebuilt per call: a vocabulary holds a few dozen names)."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.organs = set(vocab.organs)
        self.nodes = set(vocab.nodes)
        self.routes = {_node_route(n) for n in vocab.nodes}
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


def _analyse(tokens: list[Token], ctx: _Context) -> list[_Item]:
    lex = _lexicon()
    items: list[_Item] = []
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
        if t.kind in ("arrow", "comma"):
            items.append(_Item(t.text, "sep", {"sep": ("then" if t.kind == "arrow" else "and",)}, depth > 0))
            i += 1
            continue
        # longest lexicon phrase at i
        n, meanings = 0, {}
        first = forms(t.text)
        candidates: list[_Entry] = []
        for f in first:
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
        if n == 0:
            n = 1
        window = tokens[i : i + n]
        item = _Item(" ".join(w.text for w in window), "word", dict(meanings), depth > 0,
                     tuple(script(w.text) for w in window))
        if n == 1:
            _dynamic(item, ctx)
            if not item.m:
                _fuzzy(item, ctx, lex)
            if not item.m and not item.ambiguous and _IDENT.match(item.text):
                item.m["ident"] = (item.text,)
        items.append(item)
        i += n
    return items


def _add(item: _Item, cat: str, value) -> None:
    vals = item.m.get(cat, ())
    if value not in vals:
        item.m[cat] = vals + (value,)


def _dynamic(item: _Item, ctx: _Context) -> None:
    w = _norm(item.text)
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


def _node_shaped(item: _Item, w: str, ctx: _Context) -> None:
    """A node id not in the registry: a new version of a known route, a typo of a
    known route (one edit, the version kept), or a new node altogether."""
    route, version = _node_route(w), w[len(_node_route(w)):]
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


def _fuzzy(item: _Item, ctx: _Context, lex: _Lexicon) -> None:
    """One edit (insert, delete, substitute, transpose) from exactly one known name."""
    w = _norm(item.text)
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
        sig = tuple(sorted((c, v) for c, vs in meanings.items() if c in _NAME_CATS | {"verb", "target"} for v in vs))
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


# --- the parse ------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, vocab: Vocabulary) -> None:
        self.text = text
        self.ctx = _Context(vocab)
        self.tokens = tokenize(text)
        self.items = _analyse(self.tokens, self.ctx)
        self.used: set[int] = set()
        self.lang = self._language()
        self.understood: dict = {}

    # -- helpers --

    def fail(self, not_understood: list[str], suggestions: list[str], reason: str | None = None):
        understood = {k: v for k, v in self.understood.items() if v not in (None, "", [], ())}
        raise NotUnderstood(self.lang, understood, list(not_understood), list(suggestions)[:8], reason)

    def _language(self) -> str:
        words = [it for it in self.items if it.kind == "word"]
        if not words:
            return "ru"

        def count(items) -> tuple[int, int]:
            ru = sum(1 for it in items for s in it.scripts if s == "ru")
            en = sum(1 for it in items for s in it.scripts if s == "en")
            return ru, en

        func = [it for it in words if it.has("verb", "light", "target", "mark", "sep", "filler", "ord")
                and not it.has(*_NAME_CATS)]
        ru, en = count(func)
        if ru != en:
            return "ru" if ru > en else "en"
        verbs = [it for it in words if it.has("verb")]
        if verbs:
            ru, en = count(verbs[:1])
            if ru != en:
                return "ru" if ru > en else "en"
        ru, en = count(words)
        if ru != en:
            return "ru" if ru > en else "en"
        return "ru" if ru else "en"

    def words_of(self, idxs) -> list[str]:
        return [self.items[i].text for i in idxs]

    def content(self) -> list[int]:
        """Indexes of unused items that carry meaning (not fillers or separators)."""
        return [i for i, it in enumerate(self.items)
                if i not in self.used and not it.is_struct and not it.has("light")]

    def _prev_word(self, i: int) -> _Item | None:
        return self.items[i - 1] if i > 0 else None

    def _next_word(self, i: int) -> _Item | None:
        return self.items[i + 1] if i + 1 < len(self.items) else None

    def suggest(self, words: list[str], pool: list[str]) -> list[str]:
        out: list[str] = []
        for w in words:
            for s in difflib.get_close_matches(_norm(w), pool, n=4, cutoff=0.6):
                if s not in out:
                    out.append(s)
        return out

    def name_pool(self, kinds: tuple[str, ...]) -> list[str]:
        pool: list[str] = []
        if "organ" in kinds:
            pool += self.ctx.organ_names()
        if "node" in kinds:
            pool += sorted(self.ctx.nodes)
        if "capability" in kinds:
            pool += sorted(self.ctx.caps)
        if "impl" in kinds:
            pool += self.ctx.impl_names()
        return list(dict.fromkeys(pool))

    def synonym_suggestions(self, words: list[str], kinds: tuple[str, ...]) -> list[str]:
        """Close names, reached through their canonical spelling or a synonym."""
        tables = []
        if "organ" in kinds:
            tables.append(ORGAN_SYNONYMS)
        if "impl" in kinds:
            tables.append(IMPL_SYNONYMS)
        if "option" in kinds:
            tables.append(OPTION_SYNONYMS)
        by_word: dict[str, str] = {}
        for table in tables:
            for canon, syns in table.items():
                for s in (canon, *syns):
                    by_word.setdefault(_norm(s), canon)
        for name in self.name_pool(kinds):
            by_word.setdefault(name, name)
        out: list[str] = []
        for w in words:
            probes = [_norm(w), *lemmas(_norm(w))]
            for p in probes:
                for s in difflib.get_close_matches(p, list(by_word), n=4, cutoff=0.6):
                    if by_word[s] not in out:
                        out.append(by_word[s])
        return out

    def leftovers(self, kinds: tuple[str, ...]) -> None:
        """Every meaningful word must have been used; otherwise say which were not."""
        left = self.content()
        if not left:
            return
        words = self.words_of(left)
        ambiguous = [n for i in left for n in self.items[i].ambiguous]
        suggestions = list(dict.fromkeys(ambiguous))
        suggestions += [s for s in self.synonym_suggestions(words, kinds) if s not in suggestions]
        if not suggestions and any(self.items[i].in_parens for i in left):
            suggestions = list(OPTION_SYNONYMS)  # "(…)" holds options
        self.fail(words, suggestions)

    # -- versions --

    def versions(self) -> int | None:
        to, plain = [], []
        for i, it in enumerate(self.items):
            if i in self.used:
                continue
            if it.has("ver"):
                v = it.vals("ver")[0]
            elif it.has("num", "ord"):
                prev, nxt = self._prev_word(i), self._next_word(i)
                if not ((prev and "mark" in prev.m) or (nxt and "version" in nxt.vals("mark"))):
                    continue
                v = (it.vals("num") or it.vals("ord"))[0]
            else:
                continue
            # look back across a "версия"/"version" word for до/to or с/from
            j = i - 1
            role = "plain"
            while j >= 0 and self.items[j].kind == "word":
                marks = self.items[j].vals("mark")
                if "version" in marks and not ({"to", "from"} & set(marks)):
                    j -= 1
                    continue
                if "to" in marks:
                    role = "to"
                elif "from" in marks:
                    role = "from"
                break
            self.used.add(i)
            if role == "to":
                to.append(v)
            elif role == "plain":
                plain.append(v)
        chosen = to or plain
        distinct = list(dict.fromkeys(chosen))
        if len(distinct) > 1:
            self.understood["version"] = None
            self.fail([f"v{v}" for v in distinct], [f"v{v}" for v in distinct],
                      self._msg("two_versions", versions=", ".join(f"v{v}" for v in distinct)))
        if distinct:
            self.understood["version"] = distinct[0]
            return distinct[0]
        return None

    def _msg(self, key: str, **kw) -> str:
        ru = {
            "empty": "Пустая команда: напишите, что сделать, например «создай голосовой орган v1».",
            "no_verb": "Не понял, что сделать: в команде нет действия{words}. Возможные действия: {verbs}.",
            "two_verbs": "Не понял: в команде несколько разных действий ({words}). Дайте одну команду за раз.",
            "two_versions": "Не понял, какая версия нужна: {versions}.",
            "ambiguous": "Неоднозначно: «{words}» подходит к нескольким именам: {names}. Уточните.",
            "no_name": "Не понял, к чему относится команда{what}. Возможно, вы имели в виду: {names}.",
            "no_steps": "Не понял шаги конвейера: перечислите их через стрелки, например normalize → phonemes → adapter.",
        }
        en = {
            "empty": "Empty command: say what to do, e.g. 'create voice organ v1'.",
            "no_verb": "Did not understand what to do: the command has no action{words}. Actions: {verbs}.",
            "two_verbs": "Did not understand: the command asks for several different actions ({words}). One at a time, please.",
            "two_versions": "Did not understand which version is meant: {versions}.",
            "ambiguous": "Ambiguous: '{words}' fits several names: {names}. Please say which.",
            "no_name": "Did not understand what the command is about{what}. Did you mean: {names}?",
            "no_steps": "Did not understand the pipeline's steps: list them with arrows, e.g. normalize → phonemes → adapter.",
        }
        return (ru if self.lang == "ru" else en)[key].format(**kw)

    # -- main --

    def run(self) -> Intent:
        if not any(it.kind == "word" for it in self.items):
            self.fail([self.text.strip()] if self.text.strip() else [], _EXAMPLES[self.lang][:3], self._msg("empty"))
        cls = self.action()
        if cls in ("create", "assemble"):
            return self.create(cls)
        if cls == "update":
            return self.update()
        if cls in ("approve", "rollback", "train"):
            return self.lifecycle(cls)
        if cls == "disable":
            return self.disable()
        if cls in ("unlock", "enable", "lock"):
            return self.capability(cls)
        return self.status()

    def action(self) -> str:
        verbs = [i for i, it in enumerate(self.items) if it.has("verb", "light")]
        strong = [i for i in verbs if self.items[i].has("verb") and not self.items[i].has("light")]
        chosen = strong or [i for i in verbs if self.items[i].has("verb")]
        classes: list[str] = []
        for i in chosen:
            for c in self.items[i].vals("verb"):
                if c not in classes:
                    classes.append(c)
        if set(classes) == {"create", "assemble"}:
            classes = ["assemble"]
        if len(classes) > 1:  # two different actions in one command: do neither
            self.fail(self.words_of(chosen), [], self._msg("two_verbs", words=", ".join(self.words_of(chosen))))
        if not classes:
            content = [it.text for it in self.items if it.kind == "word" and not it.is_struct]
            self.fail(content or [it.text for it in self.items if it.kind == "word"], _EXAMPLES[self.lang][:4],
                      self._msg("no_verb", words=": " + " ".join(content) if content else "",
                                verbs=", ".join(_VERB_HINTS[self.lang])))
        self.used.update(verbs)  # light verbs next to a strong one are fillers
        return classes[0]

    # -- targets and names --

    def noun_targets(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for i, it in enumerate(self.items):
            if i in self.used or it.in_parens:
                continue
            for t in it.vals("target"):
                out.setdefault(t, []).append(i)
        return out

    def node_for_impl(self, impl: str, version: int | None, create: bool) -> tuple[str | None, list[str]]:
        ids = [n for n in self.ctx.nodes if _node_impl(n) == impl]
        routes = sorted({_node_route(n) for n in ids})
        if len(routes) > 1:
            return None, [max((n for n in ids if _node_route(n) == r), key=lambda n: _node_version(n) or 0) for r in routes]
        if len(routes) == 1:
            route = routes[0]
            if version is not None:
                node = f"{route}.v{version}"
                if create or node in self.ctx.nodes:
                    return node, []
                return None, sorted(ids)  # that version does not exist: say which do
            if create:
                return f"{route}.v{max(_node_version(n) or 0 for n in ids) + 1}", []
            return max(ids, key=lambda n: _node_version(n) or 0), []
        if create and (not self.ctx.impls or impl in self.ctx.impls):
            return f"analysis.{impl}.v{version or 1}", []
        return None, []

    def resolve_object(self, allowed: tuple[str, ...], action: str, version: int | None,
                       option_ok: bool = False, required: bool = True):
        """Find the one organ / node / capability the command is about.

        Returns (target, name, version) or (None, None, version) when nothing names
        an object and ``required`` is false; raises NotUnderstood when two
        different names fit, or when nothing fits and ``required``."""
        nouns = self.noun_targets()
        explicit = [t for t in ("organ", "node", "capability") if t in nouns and t in allowed]
        if len(explicit) > 1:
            self.understood["target"] = None
            idx = [i for t in explicit for i in nouns[t]]
            self.fail(self.words_of(idx), [], self._msg("ambiguous", words=" / ".join(self.words_of(idx)),
                                                        names=", ".join(explicit)))
        kinds = tuple(explicit) if explicit else allowed
        create = action == "create"
        strong: dict[tuple[str, str], list[int]] = {}
        for i in self.content():
            it = self.items[i]
            if it.in_parens:
                continue
            if "organ" in kinds:
                for v in it.vals("organ"):
                    strong.setdefault(("organ", v), []).append(i)
            if "node" in kinds:
                for v in it.vals("node"):
                    strong.setdefault(("node", v), []).append(i)
                if create:
                    for v in it.vals("nodeid"):
                        strong.setdefault(("node", v), []).append(i)
            if "capability" in kinds:
                for v in it.vals("cap"):
                    strong.setdefault(("capability", v), []).append(i)
        if explicit:
            self.understood["target"] = explicit[0]
        if len(strong) > 1:
            idx = sorted({i for v in strong.values() for i in v})
            names = [n for (_, n) in strong]
            self.fail(self.words_of(idx), names, self._msg("ambiguous", words=" ".join(self.words_of(idx)),
                                                           names=", ".join(names)))
        if strong:
            (target, name), idx = next(iter(strong.items()))
            self.used.update(idx)
            if target == "node" and not (action == "update" and version is not None):
                # "update analysis.echo.v1 to v2": the id is the current node, the version the new one
                nv = _node_version(name)
                if nv is not None and version is not None and nv != version:
                    self.fail([name, f"v{version}"], [name], self._msg("two_versions", versions=f"v{nv}, v{version}"))
                version = nv if nv is not None else version
            self._use_nouns(nouns, target)
            self.understood.update(target=target, name=name, version=version)
            known = self.ctx.vocab.organs.get(name) if target == "organ" else None
            if known and version is not None and version not in known and action not in ("create", "update"):
                # an existing organ at a version it never had: say which it has
                self.understood.pop("version", None)
                self.fail([f"v{version}"], [f"{name} v{v}" for v in known])
            return target, name, version
        # a library implementation names a node: "обучи классификатор", "create node normalize"
        if "node" in kinds:
            weak: dict[str, list[int]] = {}
            for i in self.content():
                it = self.items[i]
                if it.in_parens or (option_ok and it.has("option") and "node" not in explicit):
                    continue
                for v in it.vals("impl"):
                    weak.setdefault(v, []).append(i)
            if len(weak) > 1:
                idx = sorted({i for v in weak.values() for i in v})
                self.fail(self.words_of(idx), list(weak), self._msg("ambiguous", words=" ".join(self.words_of(idx)),
                                                                   names=", ".join(weak)))
            if weak:
                impl, idx = next(iter(weak.items()))
                node, alternatives = self.node_for_impl(impl, version, create)
                if alternatives and len({_node_route(n) for n in alternatives}) == 1:
                    self.understood["target"] = "node"
                    self.understood.pop("version", None)
                    self.fail(self.words_of(idx) + [f"v{version}"], alternatives)
                if alternatives:
                    self.understood["target"] = "node"
                    self.fail(self.words_of(idx), alternatives,
                              self._msg("ambiguous", words=" ".join(self.words_of(idx)), names=", ".join(alternatives)))
                if node:
                    self.used.update(idx)
                    version = _node_version(node) if version is None else version
                    self._use_nouns(nouns, "node")
                    self.understood.update(target="node", name=node, version=version)
                    return "node", node, version
        if not required:
            return None, None, version
        # nothing names the object
        for t in explicit:
            self._use_nouns(nouns, t)
        left = [i for i in self.content() if not self.items[i].in_parens]
        words = self.words_of(left)
        pool_kinds = kinds + (("impl",) if "node" in kinds else ())
        suggestions = list(dict.fromkeys(n for i in left for n in self.items[i].ambiguous))
        suggestions += [s for s in self.synonym_suggestions(words, pool_kinds) if s not in suggestions]
        if not suggestions:
            suggestions = self.name_pool(kinds)[:8]
        if words:
            self.fail(words, suggestions)
        what = ""
        self.fail([], suggestions, self._msg("no_name", what=what, names=", ".join(suggestions)))

    def _use_nouns(self, nouns: dict[str, list[int]], target: str) -> None:
        for i in nouns.get(target, ()):
            self.used.add(i)

    def options(self) -> tuple[str, ...]:
        out: list[str] = []
        for i in self.content():
            it = self.items[i]
            opts = it.vals("option")
            if len(opts) == 1:
                self.used.add(i)
                if opts[0] not in out:
                    out.append(opts[0])
        if out:
            self.understood["options"] = list(out)
        return tuple(out)

    # -- intents --

    def create(self, cls: str) -> Intent:
        self.understood["action"] = "create"
        version = self.versions()
        nouns = self.noun_targets()
        content = [i for i in self.content() if not self.items[i].in_parens]
        organ_named = any(self.items[i].has("organ") and not self.items[i].has("impl") for i in content)
        steps = [i for i in content if self.items[i].has("impl") and not self._organ_first(i)]
        strong_sep = any("then" in it.vals("sep") for it in self.items)
        with_mark = any("with" in it.vals("mark") for it in self.items)
        chained = len(steps) >= 2 and all(any(self.items[k].has("sep") for k in range(a + 1, b))
                                          for a, b in zip(steps, steps[1:]))  # steps joined by arrows or commas
        pipeline = bool(nouns.get("pipeline")) or chained or (steps and (strong_sep or cls == "assemble")) or (
            len(steps) >= 2 and not with_mark and not organ_named and "node" not in nouns)
        if pipeline:
            return self.pipeline(version)
        target, name, version = self.resolve_object(("organ", "node"), "create", version, option_ok=True)
        options = self.options() if target == "organ" else ()
        self.leftovers((target, "option") if target == "organ" else (target,))
        return Intent("create", self.lang, target, name, version, options=options, text=self.text)

    def _organ_first(self, i: int) -> bool:
        """An organ name that is also a step ("echo") is the name unless it sits in an arrow chain."""
        it = self.items[i]
        if not it.has("organ"):
            return False
        prev, nxt = self._prev_word(i), self._next_word(i)
        return not ((prev and prev.has("sep")) or (nxt and nxt.has("sep")))

    def pipeline(self, version: int | None) -> Intent:
        self.understood.update(action="pipeline", target="organ")
        nouns = self.noun_targets()
        for t in ("pipeline", "organ"):
            self._use_nouns(nouns, t)
        name: str | None = None
        name_idx: list[int] = []
        steps: list[str] = []
        for i in self.content():
            it = self.items[i]
            if it.in_parens:
                continue
            prev = self._prev_word(i)
            named = prev is not None and "name" in prev.vals("mark")
            impls = [v for v in it.vals("impl") if self.ctx.step_ok(v)]
            as_step = len(impls) == 1 and not named and not self._organ_first(i)
            if as_step:
                steps.append(impls[0])
                self.used.add(i)
                continue
            candidate = None
            if it.has("organ") and len(it.vals("organ")) == 1:
                candidate = it.vals("organ")[0]
            elif it.has("ident") or (named and _IDENT.match(it.text)):
                candidate = it.text
            if candidate and (name is None or candidate == name) and (not steps or named):
                name = candidate
                name_idx.append(i)
                self.used.add(i)
        self.understood["steps"] = list(steps)
        if name:
            self.understood["name"] = name
        left = self.content()
        if left:
            self.leftovers(("impl", "organ"))
        if not steps:
            self.fail([], list(STEP_LABELS.values())[:6], self._msg("no_steps"))
        if name is None:
            name = "-".join(STEP_LABELS.get(s, s) for s in steps)
        return Intent("pipeline", self.lang, "organ", name, version, steps=tuple(steps), text=self.text)

    def update(self) -> Intent:
        self.understood["action"] = "update"
        version = self.versions()
        target, name, version = self.resolve_object(("organ", "node"), "update", version, option_ok=True)
        options = self.options() if target == "organ" else ()
        self.leftovers((target, "option") if target == "organ" else (target,))
        return Intent("update", self.lang, target, name, version, options=options, text=self.text)

    def lifecycle(self, cls: str) -> Intent:
        self.understood["action"] = cls
        version = self.versions()
        allowed = ("node",) if cls == "train" else ("organ", "node")
        target, name, version = self.resolve_object(allowed, cls, version)
        self.leftovers((target,))
        return Intent(cls, self.lang, target, name, version, text=self.text)

    def disable(self) -> Intent:
        self.understood["action"] = "disable"
        nouns = self.noun_targets()
        if nouns.get("capability") or any(self.items[i].has("cap") for i in self.content()):
            return self.capability("disable")
        version = self.versions()
        target, name, version = self.resolve_object(("organ", "node"), "disable", version,
                                                    required="node" in nouns)
        if target is None:
            if version is not None:
                self.leftovers(("organ", "node", "capability"))
            self.understood.pop("version", None)
            return self.capability("disable")
        self.leftovers((target,))
        return Intent("disable", self.lang, target, name, version, text=self.text)

    def capability(self, cls: str) -> Intent:
        state = GATE_STATES[cls]
        self.understood = {"action": "capability", "target": "capability", "state": state}
        name = self.resolve_capability()
        self.understood["name"] = name
        self.leftovers(("capability",))
        return Intent("capability", self.lang, "capability", name, None, state=state, text=self.text)

    def resolve_capability(self, required: bool = True) -> str | None:
        nouns = self.noun_targets()
        self._use_nouns(nouns, "capability")
        content = [i for i in self.content() if not self.items[i].in_parens]
        exact = {v: i for i in content for v in self.items[i].vals("cap")}
        if len(exact) > 1:
            names = list(exact)
            self.fail(self.words_of(exact.values()), names,
                      self._msg("ambiguous", words=" ".join(self.words_of(exact.values())), names=", ".join(names)))
        if exact:
            name, i = next(iter(exact.items()))
            self.used.add(i)
            self._use_nouns(nouns, "organ")
            return name
        # words that are parts of capability names: "wasm factory", "сборщик органов"
        part_idx = [i for i in content if self.items[i].has("cappart")]
        part_idx += [i for i in nouns.get("organ", ()) if i not in part_idx and self.items[i].has("cappart")]
        if part_idx:
            options = [tuple(self.items[i].vals("cappart")) for i in part_idx]
            cands = [c for c, parts in self.ctx.cap_parts.items()
                     if all(any(p in parts for p in opts) for opts in options)]
            exactly = [c for c in cands if len(self.ctx.cap_parts[c]) == len(options)]
            if len(cands) == 1 or len(exactly) == 1:
                self.used.update(part_idx)
                return cands[0] if len(cands) == 1 else exactly[0]
            if len(cands) > 1:
                unknown = [i for i in content if i not in part_idx and not self.items[i].has("organ")]
                words = self.words_of(sorted(part_idx))
                if unknown:  # "фабрику марсиан": say both what is ambiguous and what is unknown
                    self.fail(self.words_of(sorted(part_idx + unknown)), sorted(cands))
                self.fail(words, sorted(cands), self._msg("ambiguous", words=" ".join(words), names=", ".join(sorted(cands))))
        # an organ's gate: "включи голосовой орган" → organ_voice
        organs = {v: i for i in content for v in self.items[i].vals("organ")}
        if len(organs) == 1:
            organ, i = next(iter(organs.items()))
            gate = self._organ_gate(organ)
            if gate:
                self.used.add(i)
                self._use_nouns(nouns, "organ")
                return gate
        if not required:
            return None
        left = self.content()
        words = self.words_of(left)
        suggestions = list(dict.fromkeys(n for i in left for n in self.items[i].ambiguous))
        suggestions += [s for s in self.suggest(words, sorted(self.ctx.caps)) if s not in suggestions]
        if not suggestions:
            suggestions = sorted(self.ctx.caps)[:8]
        if words:
            self.fail(words, suggestions)
        self.fail([], suggestions, self._msg("no_name", what="", names=", ".join(suggestions)))

    def _organ_gate(self, organ: str) -> str | None:
        gate = f"organ_{organ.replace('-', '_')}"
        if gate in self.ctx.caps:
            return gate
        prefixed = [c for c in self.ctx.caps if c.startswith(gate + "_")]
        return prefixed[0] if len(prefixed) == 1 else None

    def status(self) -> Intent:
        self.understood["action"] = "status"
        version = self.versions()
        nouns = self.noun_targets()
        content = [i for i in self.content() if not self.items[i].in_parens]
        if any(self.items[i].has("cap") for i in content):
            name = self.resolve_capability()
            self._use_nouns(nouns, "capability")
            self.understood.update(target="capability", name=name)
            self.leftovers(("capability",))
            return Intent("status", self.lang, "capability", name, version, text=self.text)
        target, name, version = self.resolve_object(("organ", "node", "capability"), "status", version, required=False)
        if target is None:
            nouns = self.noun_targets()
            rest = self.content()
            if rest and all(self.items[i].has("cappart") or i in nouns.get("organ", ()) for i in rest) \
                    and any(not self.items[i].has("target") for i in rest):
                name = self.resolve_capability()
                self.understood.update(target="capability", name=name)
                self.leftovers(("capability",))
                return Intent("status", self.lang, "capability", name, version, text=self.text)
            plural = [t for t in ("capability", "organ", "node") if t in nouns]
            if len(plural) > 1:
                self.fail(self.words_of(i for t in plural for i in nouns[t]), [],
                          self._msg("ambiguous", words=" / ".join(self.words_of(i for t in plural for i in nouns[t])),
                                    names=", ".join(plural)))
            if plural:
                target = {"capability": "capabilities", "organ": "organs", "node": "nodes"}[plural[0]]
                self._use_nouns(nouns, plural[0])
                self.understood["target"] = target
        self.leftovers((target,) if target in ("organ", "node", "capability") else ("organ", "node", "capability"))
        return Intent("status", self.lang, target, name, version, text=self.text)


def parse(text: str, vocabulary: Vocabulary) -> Intent:
    """Read one command (Russian or English) into an Intent, or raise NotUnderstood."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    return _Parser(text, vocabulary).run()


def step_impl(word: str, vocabulary: Vocabulary) -> str | None:
    """The library implementation a step word names: "normalize", "нормализация",
    "phonemes", "фонемы", "adapter", "адаптер", "grayscale", "серый", "ocr", a node
    id or an impl name; None when it names none (or more than one)."""
    ctx = _Context(vocabulary)
    items = [it for it in _analyse(tokenize(word), ctx) if it.kind == "word"]
    if len(items) != 1:
        return None
    it = items[0]
    impls = list(it.vals("impl"))
    if not impls:
        for v in it.vals("node") + it.vals("nodeid"):
            impl = _node_impl(v)
            if impl in IMPL_SYNONYMS or impl in ctx.impls:
                impls.append(impl)
    impls = [i for i in dict.fromkeys(impls) if ctx.step_ok(i)]
    return impls[0] if len(impls) == 1 else None
