"""``keyword_classify``: label a text by the keywords it contains.

Params: ``keywords`` ``{label: [keyword, …]}``, ``threshold`` (0..1, tunable,
default 0.5), ``prior`` (≥ 0, tunable, default 1) and ``default_label``
(default ``"uncertain"``). Input ``{text}`` → ``{label, confidence, scores,
hits}``.

Text and keywords are split into Unicode words (``\\w+``), case-folded, with
``ё`` read as ``е``, so Russian and English work alike. A keyword may be a
phrase (``"не работает"``: consecutive words) and a word ending in ``*``
matches any word it begins (``"заказ*"`` matches ``заказа``, ``заказу``).
Every occurrence counts as one hit for its label.

Scores: ``scores[label] = hits[label] / (total_hits + prior)``: each label's
share of all keyword hits, with ``prior`` pseudo-hits of doubt that belong to
no label. One lone hit gives 0.5, three hits of one label 0.75, a tie between
two labels with one hit each 1/3, no hit 0. So confidence grows with the
evidence for the best label and falls with evidence for the others;
``prior = 0`` gives the plain share. The best label (on a tie, the one
declared first) wins when its score reaches ``threshold``; otherwise the label
is ``default_label``. ``confidence`` is the best label's score either way.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from neira_factory.domain import deadlines
from neira_factory.library.core import About, ImplContext, ImplError, define, require_param
from neira_factory.library.text import TEXT_INPUT

MAX_KEYWORDS = 2_000
MAX_PHRASE_WORDS = 16  # words in one keyword phrase: the cost of a match attempt
DEADLINE_EVERY = 256  # tokens between two looks at the call's deadline
_WORD = re.compile(r"\w+")
_KEYWORD_WORD = re.compile(r"\w+\*?")

Phrase = tuple[str, ...]  # words; a word ending in "*" is a prefix


def _fold(text: str) -> str:
    return text.casefold().replace("ё", "е")


class _Index:
    """Keyword phrases by their first word: exact words, and prefixes by length."""

    def __init__(self, keywords: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
        self.labels = [label for label, _ in keywords]
        self.exact: dict[str, list[tuple[str, Phrase]]] = {}
        self.prefix: dict[str, list[tuple[str, Phrase]]] = {}
        seen: set[tuple[str, Phrase]] = set()
        for label, words in keywords:
            for keyword in words:
                phrase = tuple(_KEYWORD_WORD.findall(_fold(keyword)))
                if not phrase:
                    raise ImplError("bad_params", f"keyword {keyword!r} of {label!r} has no word", "params.keywords")
                if len(phrase) > MAX_PHRASE_WORDS:
                    raise ImplError("bad_params", f"keyword {keyword[:40]!r}… of {label!r} has more than "
                                    f"{MAX_PHRASE_WORDS} words", "params.keywords")
                head = phrase[0]
                table = self.prefix if head.endswith("*") else self.exact
                if (label, phrase) not in seen:  # a repeated keyword would only repeat the work
                    seen.add((label, phrase))
                    table.setdefault(head.rstrip("*"), []).append((label, phrase))
        self.prefix_lengths = sorted({len(head) for head in self.prefix})

    def count(self, tokens: list[str]) -> Counter:
        hits: Counter = Counter()
        for position, token in enumerate(tokens):
            if position % DEADLINE_EVERY == 0:
                deadlines.check()
            candidates = list(self.exact.get(token, ()))
            for length in self.prefix_lengths:
                candidates += self.prefix.get(token[:length], ()) if len(token) >= length else ()
            for label, phrase in candidates:
                if _phrase_at(phrase, tokens, position):
                    hits[label] += 1
        return hits


def _phrase_at(phrase: Phrase, tokens: list[str], position: int) -> bool:
    window = tokens[position : position + len(phrase)]
    return len(window) == len(phrase) and all(
        token.startswith(word[:-1]) if word.endswith("*") else token == word
        for word, token in zip(phrase, window, strict=True)
    )


@lru_cache(maxsize=64)
def _index(keywords: tuple[tuple[str, tuple[str, ...]], ...]) -> _Index:
    return _Index(keywords)


def _frozen_keywords(params: dict) -> tuple[tuple[str, tuple[str, ...]], ...]:
    keywords = require_param(params, "keywords", dict, "an object {label: [keywords]}")
    if not all(isinstance(words, list) and all(isinstance(w, str) for w in words) for words in keywords.values()):
        raise ImplError("bad_params", "keywords must map each label to a list of strings", "params.keywords")
    if sum(len(words) for words in keywords.values()) > MAX_KEYWORDS:
        raise ImplError("bad_params", f"more than {MAX_KEYWORDS} keywords", "params.keywords")
    return tuple((str(label), tuple(words)) for label, words in keywords.items())


def _classify(input: dict, params: dict, ctx: ImplContext) -> dict:
    index = _index(_frozen_keywords(params))
    default_label = require_param(params, "default_label", str, "a non-empty string")
    hits = index.count(_WORD.findall(_fold(input["text"])))
    denominator = sum(hits.values()) + params["prior"]
    scores = {label: hits[label] / denominator if denominator else 0.0 for label in index.labels}
    best = max(index.labels, key=lambda label: scores[label])
    confidence = scores[best]
    passed = hits[best] > 0 and confidence >= params["threshold"]
    return {
        "label": best if passed else default_label,
        "confidence": confidence,
        "scores": scores,
        "hits": {label: hits[label] for label in index.labels},
    }


IMPLS = (
    define(
        "keyword_classify",
        _classify,
        input_schema=TEXT_INPUT,
        output_schema={
            "type": "object",
            "properties": {
                "label": {"type": "string"},
                "confidence": {"type": "number"},
                "scores": {"type": "object"},
                "hits": {"type": "object"},
            },
            "required": ["label", "confidence", "scores", "hits"],
        },
        description="Labels a text by keyword hits (ru/en words, phrases, prefix*); confidence in [0, 1].",
        params={
            "keywords": {"value": {}},
            "threshold": {"value": 0.5, "min": 0.0, "max": 1.0, "step": 0.05, "tunable": True},
            "prior": {"value": 1.0, "min": 0.0, "max": 10.0, "step": 0.5, "tunable": True},
            "default_label": {"value": "uncertain"},
        },
        about=About(
            ru="Относит текст к одной из меток по ключевым словам и даёт уверенность: классификация, рубрикация "
               "по темам и категориям.",
            en="Labels a text with one of its labels by keyword hits, with a confidence: classification, "
               "categorisation by topic.",
            words=("классификатор", "классификация", "классифицировать", "категория", "рубрика",
                   "рубрикатор", "метка", "тема", "ключевые слова", "отнести к категории", "разметить", "обращение",
                   "заявка", "тикет",
                   "classify", "classifier", "classification", "category", "categorize", "categorise",
                   "label", "tag", "topic", "keywords", "keyword", "ticket", "request"),
            example={"text": "доставка опоздала"},
            needs=("keywords",),
        ),
    ),
)
