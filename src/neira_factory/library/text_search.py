"""Text normalisation for full-text search: Russian lemmas (pymorphy3), English Snowball stems, stop words out.

`terms(text, language)` is what a memory store indexes and what a query is turned into, so «законы
тяготения» and «Закон всемирного тяготения Ньютона» meet on «закон» and «тяготение», and "laws of
gravitation" and "the law of gravitation" on "law" and "gravit". `language` is `ru` (Cyrillic words are
lemmatised, Latin ones only lower-cased), `en` (the reverse) or `auto` (each word by its script).

pymorphy3's analyser is built once, lazily and thread-safely (`morph`, shared with the command parser);
every word's normal form is memoised.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import snowballstemmer

_MORPH = None
_MORPH_LOCK = threading.Lock()
_WORD = re.compile(r"\w+", re.UNICODE)
_CYR = re.compile(r"[а-яё]", re.IGNORECASE)
_LAT = re.compile(r"[a-z]", re.IGNORECASE)
_STEMMER = threading.local()  # Snowball stemmers are not thread-safe
MAX_WORD = 64  # longer "words" (a hash, a run of letters) are kept as they are, not analysed
LANGUAGES = ("ru", "en", "auto")
SKIP_POS = frozenset({"PREP", "CONJ", "PRCL", "INTJ", "NPRO"})  # prepositions, conjunctions, particles, pronouns
EN_STOP = frozenset("""a an the of in on at to for from by with about as into onto over under and or but nor not no
is are was were be been being am do does did has have had it its this that these those there here what which who
whom whose when where why how i you he she we they me him her us them my your his our their than then so""".split())


def morph():
    """The shared pymorphy3 MorphAnalyzer (built on first use)."""
    global _MORPH
    if _MORPH is None:
        with _MORPH_LOCK:
            if _MORPH is None:
                import pymorphy3

                _MORPH = pymorphy3.MorphAnalyzer(lang="ru")
    return _MORPH


def stem(word: str, lang: str = "en") -> str:
    """`word`'s Snowball stem in `lang` ("en" or "ru"); one stemmer per thread and language."""
    stemmer = getattr(_STEMMER, lang, None)
    if stemmer is None:
        stemmer = snowballstemmer.stemmer({"en": "english", "ru": "russian"}[lang])
        setattr(_STEMMER, lang, stemmer)
    return stemmer.stemWord(word)


@lru_cache(maxsize=100_000)
def russian(word: str) -> str | None:
    """The normal form of a Russian word (ё folded to е), None for a stop word."""
    parse = morph().parse(word)[0]
    if parse.tag.POS in SKIP_POS or "Apro" in parse.tag:
        return None
    return parse.normal_form.replace("ё", "е")


@lru_cache(maxsize=100_000)
def english(word: str) -> str | None:
    """The Snowball stem of an English word, None for a stop word."""
    return None if word in EN_STOP else stem(word)


def term(word: str, language: str = "auto") -> str | None:
    """One lower-cased word as it is indexed, or None when it is left out. ё is folded to е before anything
    else, so a word spelt with ё and without it is analysed alike («Королёв», «Королев»); so are the accents of
    a word without Cyrillic letters ("café", "cafe"), which SQLite's FTS5 would fold and PostgreSQL would not."""
    word = word.replace("ё", "е")
    if not _CYR.search(word):
        word = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
    if len(word) > MAX_WORD:
        return word
    cyrillic, latin = bool(_CYR.search(word)), bool(_LAT.search(word))
    if cyrillic and not latin and language != "en":
        return russian(word)
    if latin and not cyrillic and language != "ru":
        return english(word)
    return word


def terms(text: str, language: str = "auto") -> list[str]:
    """The text's words, normalised, in order (stop words out, repeats kept)."""
    return [t for w in _WORD.findall(text.lower()) if (t := term(w, language))]
