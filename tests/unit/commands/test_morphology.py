"""The parser's building blocks: tokenizer, one-edit distance, lemma cache, step words."""
from __future__ import annotations

import pytest

from neira_factory.commands import SYNONYMS, Vocabulary, morphology, parse, step_impl
from neira_factory.library import text_search
from neira_factory.commands.morphology import forms, lemmas, tokenize, within_one_edit


@pytest.mark.parametrize("a,b", [
    ("voice", "voise"),  # substitution
    ("vision", "visoin"),  # transposition of adjacent letters
    ("vision", "vison"),  # deletion
    ("voice", "voicee"),  # insertion
    ("factory_script", "factory_scrpit"),
    ("voice", "voice"),
])
def test_within_one_edit(a, b):
    assert within_one_edit(a, b) and within_one_edit(b, a)


@pytest.mark.parametrize("a,b", [("vision", "vyzion"), ("voice", "vocei"), ("phonemes", "fonemes"),
                                 ("voice", "vo"), ("abc", "cba")])
def test_two_edits_are_not_one(a, b):
    assert not within_one_edit(a, b)


def test_tokenizer_keeps_names_and_splits_arrows():
    toks = tokenize("Собери «speak-pipeline» normalize->phonemes=>adapter→ocr, analysis.echo.v1 (grayscale).")
    assert [(t.text, t.kind) for t in toks] == [
        ("собери", "word"), ("speak-pipeline", "word"), ("normalize", "word"), ("→", "arrow"),
        ("phonemes", "word"), ("→", "arrow"), ("adapter", "word"), ("→", "arrow"), ("ocr", "word"),
        (",", "comma"), ("analysis.echo.v1", "word"), ("(", "open"), ("grayscale", "word"), (")", "close"),
    ]


def test_tokenizer_drops_emoji_and_particles():
    assert [t.text for t in tokenize("создай-ка 🙂 орган")] == ["создай", "орган"]
    assert tokenize("") == [] and tokenize("🙂") == []


def test_russian_lemmas_and_english_stems():
    assert "голосовой" in lemmas("голосового")
    assert "зрение" in lemmas("зрением")
    assert "орган" in lemmas("органы")
    assert "способность" in lemmas("способностей")
    assert "узел" in lemmas("узла")
    assert "черно-белый" in forms("чёрно-белое")
    assert {"organ"} <= forms("organs") and {"capability"} <= forms("capabilities")
    assert lemmas("voice") == ()


def test_morph_analyzer_is_built_once_and_lemmas_are_cached(vocab, monkeypatch):
    text = "обнови орган зрения до версии 2 (оттенки серого)"
    first = parse(text, vocab)
    analyzer = morphology.morph()
    assert morphology.morph() is analyzer

    class Exploding:
        def parse(self, word):
            raise AssertionError(f"not cached: {word}")

        word_is_known = parse

    # every word of a command seen before comes from the caches, not from pymorphy3
    monkeypatch.setattr(text_search, "_MORPH", Exploding())  # the analyser the parser shares with memory search
    assert parse(text, vocab) == first


@pytest.mark.parametrize("word,impl", [
    ("normalize", "text_normalize"), ("нормализация", "text_normalize"), ("нормализуй", "text_normalize"),
    ("phonemes", "text_to_phonemes"), ("фонемы", "text_to_phonemes"), ("фонем", "text_to_phonemes"),
    ("adapter", "speak_adapter"), ("адаптер", "speak_adapter"), ("speak", "speak_adapter"),
    ("grayscale", "image_grayscale"), ("серый", "image_grayscale"), ("оттенки серого", "image_grayscale"),
    ("gray", "image_grayscale"), ("ocr", "ocr"), ("распознавание", "ocr"), ("распознавание текста", "ocr"),
    ("текст", None),  # the text a step works on («разворот текста»), not a step
    ("downscale", "image_downscale"), ("уменьши", "image_downscale"), ("binarize", "image_binarize"),
    ("чёрно-белое", "image_binarize"), ("text_to_phonemes", "text_to_phonemes"),
    ("analysis.text_normalize.v1", "text_normalize"), ("normalise", "text_normalize"), ("phonmes", "text_to_phonemes"),
])
def test_step_impl(vocab, word, impl):
    assert step_impl(word, vocab) == impl


@pytest.mark.parametrize("word", ["voice", "марсианский", "", "normalize phonemes", "fonemes"])
def test_step_impl_none(vocab, word):
    assert step_impl(word, vocab) is None


def test_step_impl_respects_the_library():
    only_text = Vocabulary(impls=("text_normalize",))
    assert step_impl("normalize", only_text) == "text_normalize"
    assert step_impl("adapter", only_text) is None


def test_synonym_table_covers_both_languages():
    assert {"голос", "голосовой", "voice", "speech"} <= set(SYNONYMS["voice"])
    assert {"зрение", "vision", "визуальный"} <= set(SYNONYMS["vision"])
    assert {"слух", "hearing"} <= set(SYNONYMS["hearing"])
    assert {"нормализация", "normalize"} <= set(SYNONYMS["text_normalize"])
    assert {"фонема", "phonemes"} <= set(SYNONYMS["text_to_phonemes"])
    assert {"адаптер", "adapter", "speak"} <= set(SYNONYMS["speak_adapter"])
    assert {"серый", "grayscale", "оттенки серого", "gray"} <= set(SYNONYMS["grayscale"])
    assert {"ocr", "распознавание", "распознавание текста"} <= set(SYNONYMS["ocr"])
    assert not {"text", "текст"} & set(SYNONYMS["ocr"])
    with pytest.raises(TypeError):
        SYNONYMS["voice"] = ()  # type: ignore[index]
