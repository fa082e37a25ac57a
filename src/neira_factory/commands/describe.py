"""Which library implementation a description of a node fits: «узел, который переворачивает текст» → reverse.

Every implementation carries a short description in Russian and English and the words people use for what it
does (`library.core.About`). A description and each implementation become sets of terms: a Russian word its
pymorphy3 lemma, then that lemma's Snowball stem (so «распознаёт» and «распознавание» meet); an English word
its Snowball stem; stop words, numbers and the words any description of a node uses («узел», «уметь», "node",
"return", …) left out. Two terms match when they are equal or one begins the other and the shorter has at
least PREFIX_MIN letters ("recogn", "recognit").

A description term weighs by how rare it is among the implementations, ln(1 + N/df); a term no implementation
knows weighs most, UNKNOWN × ln(1 + N): it names what the library cannot do («тональность», "translate"). An
implementation's score is the share of the description's weight its terms cover, in [0, 1]. The best fits
when it scores at least THRESHOLD and at least MARGIN more than the next (two that fit alike are not a
choice); it can be proposed when it also runs with its default params (`About.needs` is empty) and is not one
of the factory's own modules (library/factory_modules.py: they are changed as new versions of their factory.*
nodes, behind the self_edit gate, never bound by a node made from a description). Otherwise `choose` raises
NoImplementation (422 `no_implementation`) naming the closest with their scores.

THRESHOLD, MARGIN and UNKNOWN were set by measurement on the labelled descriptions of
tests/unit/commands/test_describe_corpus.py (scripts/measure_describe.py), where this ranking was also compared
with Russian word embeddings (navec): docs/decisions.md.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from .. import library
from ..domain.errors import BadInput
from ..library import factory_modules
from ..library.text_search import stem, term

__all__ = ["Choice", "MARGIN", "NoImplementation", "THRESHOLD", "best", "choose", "fits", "rank", "terms"]

THRESHOLD = 0.525  # the least score that fits
MARGIN = 0.05  # how far the best must lead the next
PREFIX_MIN = 5  # letters of the shorter term when one term begins the other
UNKNOWN = 1.5  # the weight of a term no implementation knows, over the rarest known term's
CLOSEST = 3  # implementations named in a refusal (and runners-up in a proposal)

_WORD = re.compile(r"[^\W\d_]+")
_CYR = re.compile(r"[а-яё]")
# what any description of a node says, whatever the node does
_GENERIC = """узел нода нод который чтобы уметь мочь должный должен нужный нужно надо хотеть делать сделать
создать работать принимать получать возвращать выдавать отдавать давать брать выполнять помогать заниматься
отвечать использовать данные вход выход входной выходной штука любой показывать выводить превращать
преобразовывать ответ результат каждый всякий писать прислать присылать просто
node nodes one should must can able make makes work works take takes get gets return returns give gives
produce produces output input data use uses using help helps thing something any whatever anything everything
show shows display displays convert converts turn turns transform transforms put puts answer result each every
few some write writes send sent""".split()


class NoImplementation(BadInput):
    """No implementation fits a description well enough to make a node that would run (422)."""

    code = "no_implementation"


@dataclass(frozen=True)
class Choice:
    """The implementation proposed for a description, its score and the runners-up."""

    impl: str
    score: float
    runners_up: tuple[tuple[str, float], ...]

    def to_dict(self) -> dict:
        return {"impl": self.impl, "score": self.score, "threshold": THRESHOLD,
                "runners_up": [{"impl": i, "score": s} for i, s in self.runners_up]}


@lru_cache(maxsize=20_000)
def _term(word: str) -> str | None:
    found = term(word)  # a Russian lemma or an English stem; None for a stop word
    if found is None or len(found) < 2:
        return None
    return stem(found, "ru") if _CYR.search(found) else found


@lru_cache(maxsize=1)
def _generic() -> frozenset[str]:
    return frozenset(t for w in _GENERIC if (t := _term(w)))  # on first use: pymorphy3 loads lazily


def terms(text: str) -> frozenset[str]:
    """The terms a text is matched by."""
    found = (_term(w) for w in _WORD.findall(text.lower().replace("ё", "е")))
    return frozenset(t for t in found if t and t not in _generic())


def _matches(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= PREFIX_MIN and long.startswith(short)


@lru_cache(maxsize=1)
def _index() -> dict[str, frozenset[str]]:
    """Each implementation's terms: its name's parts, both sentences and its words."""
    out = {}
    for name in library.names():
        about = library.get(name).about
        out[name] = terms(" ".join((name.replace("_", " "), about.ru, about.en, *about.words)))
    return out


def rank(text: str, lang: str | None = None) -> list[tuple[str, float]]:
    """Every implementation with its score for the description `text`, best first (ties by name).
    `lang` is accepted for symmetry with the parser; each word is read by its own script."""
    wanted = terms(text)
    index = _index()
    n = len(index)
    weights = {}
    for t in wanted:
        df = sum(1 for have in index.values() if any(_matches(t, h) for h in have))
        weights[t] = math.log(1 + n / df) if df else UNKNOWN * math.log(1 + n)
    total = sum(weights.values())
    scored = []
    for name, have in index.items():
        covered = sum(w for t, w in weights.items() if any(_matches(t, h) for h in have))
        scored.append((name, round(covered / total, 3) if total else 0.0))
    return sorted(scored, key=lambda pair: (-pair[1], pair[0]))


def fits(ranked: list[tuple[str, float]]) -> bool:
    """Whether the first of a ranking fits: at least THRESHOLD, and MARGIN ahead of the next."""
    top = ranked[0][1] if ranked else 0.0
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    return top >= THRESHOLD and round(top - second, 3) >= MARGIN


def _proposable(name: str) -> bool:
    """Whether a node of it, made from a description, runs (no params it needs) and is a user's own."""
    return not library.get(name).about.needs and name not in factory_modules.NAMES


def best(text: str, lang: str | None = None) -> tuple[str, float] | None:
    """The implementation a node for this description would run, with its score; None when none fits
    (too low, two alike) or the one that fits cannot be proposed (params it needs, a factory module)."""
    ranked = rank(text, lang)
    if not fits(ranked) or not _proposable(ranked[0][0]):
        return None
    return ranked[0]


def choose(text: str, lang: str | None = None) -> Choice:
    """The implementation to propose for a description, with the runners-up; NoImplementation (naming the
    closest, with their scores and the params they need) when none fits or the one that fits cannot be
    proposed (params it needs, a factory module)."""
    ranked = rank(text, lang)
    if fits(ranked) and _proposable(ranked[0][0]):
        return Choice(ranked[0][0], ranked[0][1], tuple(ranked[1 : 1 + CLOSEST]))
    closest = [{"impl": i, "score": s, "needs": list(library.get(i).about.needs)}
               for i, s in ranked[:CLOSEST] if s > 0]
    raise NoImplementation(_refusal(text, lang, ranked), description=text, threshold=THRESHOLD,
                           closest=closest)


def _refusal(text: str, lang: str | None, ranked: list[tuple[str, float]]) -> str:
    named = ", ".join(f"{i} ({s:.2f})" for i, s in ranked[:CLOSEST] if s > 0)
    if fits(ranked) and ranked[0][0] in factory_modules.NAMES:
        name = ranked[0][0]
        if lang == "ru":
            return (f"«{text}» описывает модуль самой фабрики ({name}): его меняют новой версией его узла "
                    f"factory.* под гейтом self_edit, а не узлом из описания.")
        return (f"'{text}' describes a module of the factory itself ({name}): it changes as a new version of its "
                f"factory.* node, behind the self_edit gate, not as a node made from a description.")
    if fits(ranked):  # it fits but would not run as it is
        impl = library.get(ranked[0][0])
        needs = ", ".join(impl.about.needs)
        if lang == "ru":
            return (f"«{text}» подходит к реализации {impl.name}, но без параметров ({needs}) узел не заработает: "
                    f"создайте его шаблоном с ними (POST /factory/nodes).")
        return (f"'{text}' fits the implementation {impl.name}, but a node of it does not run without its params "
                f"({needs}): create it from a template that sets them (POST /factory/nodes).")
    if lang == "ru":
        return (f"Нет такой реализации: «{text}» не подходит ни к одной реализации библиотеки (нужно не меньше "
                f"{THRESHOLD:.2f}). Ближайшие: {named or 'нет'}.")
    return (f"There is no such implementation: '{text}' fits none of the library's implementations (at least "
            f"{THRESHOLD:.2f} is needed). Closest: {named or 'none'}.")
