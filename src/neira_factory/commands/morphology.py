"""Word forms for the command parser: Russian lemmas (pymorphy3), English plural
stems, one-edit typo distance, and the tokenizer.

pymorphy3's analyser takes a noticeable moment to load its dictionaries, so it is
built once, lazily, on the first Russian word (thread-safe), and every lemma
lookup is memoised: after the first command, parsing costs microseconds per word.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..library.text_search import morph

__all__ = [
    "Token",
    "en_forms",
    "forms",
    "inflections",
    "is_cyrillic",
    "is_known_russian",
    "is_plural",
    "lemmas",
    "morph",
    "norm",
    "script",
    "tokenize",
    "within_one_edit",
]

_CYR = re.compile(r"[а-яё]", re.IGNORECASE)
_LAT = re.compile(r"[a-z]", re.IGNORECASE)


def is_cyrillic(word: str) -> bool:
    return bool(_CYR.search(word))


def script(word: str) -> str | None:
    """'ru' for a Cyrillic word, 'en' for a Latin one, None for neither or both."""
    cyr, lat = bool(_CYR.search(word)), bool(_LAT.search(word))
    if cyr and not lat:
        return "ru"
    if lat and not cyr:
        return "en"
    return None


def norm(word: str) -> str:
    """Lower-cased, ё folded to е: how words are compared."""
    return word.lower().replace("ё", "е")


@lru_cache(maxsize=32768)
def lemmas(word: str) -> tuple[str, ...]:
    """Every normal form pymorphy3 proposes for a Russian word (ё folded to е);
    () for a word without Cyrillic letters."""
    if not is_cyrillic(word):
        return ()
    out: list[str] = []
    for p in morph().parse(word.lower()):
        nf = norm(p.normal_form)
        if nf not in out:
            out.append(nf)
    return tuple(out)


@lru_cache(maxsize=8192)
def is_known_russian(word: str) -> bool:
    """True when the word is in pymorphy3's dictionary (a real word, not a typo)."""
    return is_cyrillic(word) and morph().word_is_known(word.lower())


@lru_cache(maxsize=4096)
def is_plural(word: str) -> bool:
    """Whether a noun is plural: «узлы», «узлов», "nodes" (pymorphy3's likeliest reading; an English -s)."""
    if is_cyrillic(word):
        return morph().parse(word.lower())[0].tag.number == "plur"
    return len(en_forms(word)) > 1


@lru_cache(maxsize=4096)
def inflections(word: str) -> frozenset[str]:
    """All inflected forms of a Russian word (its lexeme), ё folded; {word} otherwise."""
    if not is_cyrillic(word):
        return frozenset({norm(word)})
    parses = morph().parse(word.lower())
    if not parses:
        return frozenset({norm(word)})
    return frozenset({norm(f.word) for f in parses[0].lexeme} | {norm(word)})


def en_forms(word: str) -> frozenset[str]:
    """The word and its plausible singulars: organs→organ, capabilities→capability."""
    w = word.lower()
    out = {w}
    if len(w) > 4 and w.endswith("ies"):
        out.add(w[:-3] + "y")
    if len(w) > 3 and w.endswith("es"):
        out.add(w[:-2])
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        out.add(w[:-1])
    return frozenset(out)


@lru_cache(maxsize=32768)
def forms(word: str) -> frozenset[str]:
    """What a word can stand for when matched against the lexicon: itself (ё→е),
    its Russian lemmas or its English singulars."""
    w = norm(word)
    if is_cyrillic(w):
        return frozenset({w, *lemmas(w)})
    return en_forms(w)


def within_one_edit(a: str, b: str) -> bool:
    """Optimal-string-alignment distance ≤ 1: one insertion, deletion,
    substitution or transposition of two adjacent letters."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


# --- tokenizer ---------------------------------------------------------------

_ARROWS = re.compile(r"-{1,2}>|={1,2}>|[—–]>|>>|[→⟶➔➜➝➞⇒⟹↦]|\|")
_QUOTES = re.compile(r"[«»\"“”„‟'‘’‚`´]")
_PARTICLE = re.compile(r"(?<=\w)-(?:ка|то|нибудь)\b")
_TOKEN = re.compile(r"→|[,;:]|[(\[{]|[)\]}]|\w(?:[\w.\-]*\w)?")


@dataclass(frozen=True)
class Token:
    text: str  # lower-cased surface form (ё kept), as reported back to the user
    kind: str  # "word" | "arrow" | "comma" | "colon" | "open" | "close"


def tokenize(text: str) -> list[Token]:
    """Split a command into words, arrows (→ -> => …), commas, colons and brackets.

    Words keep inner dots, hyphens and underscores (node ids, capability names,
    "speak-pipeline"); quotes and other punctuation fall away; "-ка" particles
    are dropped ("создай-ка")."""
    s = text.lower()
    s = _QUOTES.sub(" ", s)
    s = _ARROWS.sub(" → ", s)
    s = _PARTICLE.sub("", s)
    out: list[Token] = []
    for m in _TOKEN.finditer(s):
        t = m.group(0)
        if t == "→":
            out.append(Token(t, "arrow"))
        elif t in ",;":
            out.append(Token(t, "comma"))
        elif t == ":":
            out.append(Token(t, "colon"))
        elif t in "([{":
            out.append(Token(t, "open"))
        elif t in ")]}":
            out.append(Token(t, "close"))
        else:
            out.extend(Token(part, "word") for part in _split_scripts(t))
    return out


def _split_scripts(word: str) -> list[str]:
    """A hyphenated word whose parts are written in different scripts is its parts: «wasm-узлы» → wasm, узлы."""
    parts = word.split("-")
    if len(parts) > 1 and all(parts) and len({script(part) for part in parts}) > 1:
        return parts
    return [word]
