"""The search normaliser (library/text_search.py): Russian words meet in their lemmas, English ones in their
Snowball stems, stop words are left out, `language` says which words are analysed, ё is е."""
from __future__ import annotations

import pytest

from neira_factory.library.text_search import LANGUAGES, MAX_WORD, term, terms


def meet(query: str, text: str, language: str) -> set[str]:
    return set(terms(query, language)) & set(terms(text, language))


@pytest.mark.parametrize("language", ["ru", "auto"])
def test_russian_inflections_meet_in_their_lemmas(language):
    assert terms("законы тяготения", language) == ["закон", "тяготение"]
    assert meet("законы тяготения", "Закон всемирного тяготения Ньютона", language) == {"закон", "тяготение"}
    assert meet("о столицах европейских государств", "Столица государства", language) == {"столица", "государство"}
    assert meet("бегущие собаки", "собака бежала", language) == {"собака", "бежать"}


@pytest.mark.parametrize("language", ["en", "auto"])
def test_english_words_meet_in_their_stems(language):
    assert terms("laws of gravitation", language) == ["law", "gravit"]
    assert terms("the law of gravitation", language) == ["law", "gravit"]
    assert meet("running dogs", "A dog runs", language) == {"run", "dog"}
    assert meet("connected computers", "connecting a computer", language) == {"connect", "comput"}


def test_stop_words_are_left_out():
    assert terms("Он сказал, что это не так, и я с ним согласен", "ru") == ["сказать", "согласный"]
    assert terms("it is not what you think of them", "en") == ["think"]
    assert terms("Его книги лежат на её столе", "ru") == ["книга", "лежать", "стол"]
    assert terms("и в на с по", "ru") == [] and terms("the of and to", "en") == []


def test_repeats_and_order_are_kept():
    assert terms("Кошка видит кошку", "ru") == ["кошка", "видеть", "кошка"]
    assert terms("Dogs chase dogs", "en") == ["dog", "chase", "dog"]


def test_language_says_which_script_is_analysed():
    text = "Running dogs бегущие собаки"
    assert terms(text, "auto") == ["run", "dog", "бежать", "собака"]
    assert terms(text, "ru") == ["running", "dogs", "бежать", "собака"]  # Latin words only lower-cased
    assert terms(text, "en") == ["run", "dog", "бегущие", "собаки"]  # Cyrillic words only lower-cased
    assert terms("the и", "ru") == ["the"] and terms("the и", "en") == ["и"]  # stop words of the analysed language
    assert set(LANGUAGES) == {"ru", "en", "auto"}


def test_yo_is_folded_to_ye_before_analysis():
    assert terms("ёлки", "ru") == terms("елки", "ru") == ["елка"]
    assert terms("Королёв", "ru") == terms("Королев", "ru")  # one analysis for both spellings
    assert terms("ещё", "auto") == terms("еще", "auto") == ["еще"]
    assert terms("ёлки", "en") == ["елки"]  # not analysed, still folded
    assert all("ё" not in t for t in terms("Всё своё ёмкое ещё берёзовое", "ru"))


def test_words_neither_russian_nor_english_and_very_long_words_stay_as_they_are():
    assert terms("COVID-19 в 2020", "auto") == ["covid", "19", "2020"]
    assert term("abcабв", "auto") == "abcабв"  # mixed scripts: not analysed
    long_word = "ё" + "x" * MAX_WORD
    assert terms(long_word, "auto") == ["е" + "x" * MAX_WORD]
    assert terms("", "auto") == [] and terms("!!! ... ---", "ru") == []


def test_accents_of_words_without_cyrillic_letters_are_folded():
    assert terms("Crème brûlée in São Paulo, naïve café", "auto") == terms("creme brulee in Sao Paulo, naive cafe",
                                                                          "auto")
    assert terms("über", "ru") == ["uber"]  # not analysed, still folded
    assert terms("йогурт йод", "ru") == ["йогурт", "йод"]  # й keeps its breve: a letter of its own
