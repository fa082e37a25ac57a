"""echo, reverse, text_normalize."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from neira_factory.library import ImplError
from neira_factory.library.text import MAX_TEXT_CHARS


def test_echo_returns_an_equal_copy(call):
    data = {"a": [1, {"b": "ц"}], "n": None}
    out = call("echo", data)
    assert out == data
    out["a"].append(2)
    assert data["a"] == [1, {"b": "ц"}]


def test_reverse_handles_unicode(call):
    assert call("reverse", {"text": "Привет, мир 🙂"}) == {"text": "🙂 рим ,тевирП"}


def test_reverse_rejects_text_over_the_cap(call):
    with pytest.raises(ImplError) as caught:
        call("reverse", {"text": "x" * (MAX_TEXT_CHARS + 1)})
    assert caught.value.code == "bad_input"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" Привет ", "привет"),
        (" Привет, Нейра 42 ", "привет, нейра сорок два"),
        ("Hello  Neira 42", "hello neira forty-two"),
        ("Tab\tand\nnew  line", "tab and new line"),
        ("ЁЛКА 2", "ёлка два"),
        ("Цена 3.5 рубля", "цена три целых пять десятых рубля"),
        ("pi is 3.14.", "pi is three point one four."),
        ("Agent 007", "agent zero zero seven"),
        ("version 1.2.3", "version one.two.three"),
        ("mp3 player", "mp three player"),
        ("call 0800", "call zero eight zero zero"),
        ("card 1234567890123456", "card one two three four five six seven eight nine zero one two three four five six"),
    ],
)
def test_normalize(call, text, expected):
    assert call("text_normalize", {"text": text}) == {"normalized": expected}


def test_normalize_language_from_lang_field(call):
    assert call("text_normalize", {"text": "Room 5", "lang": "ru"}) == {"normalized": "room пять"}
    assert call("text_normalize", {"text": "Комната 5", "lang": "EN"}) == {"normalized": "комната five"}


def test_normalize_mixed_script_goes_with_the_majority(call):
    assert call("text_normalize", {"text": "Нейра скажи OK 2"}) == {"normalized": "нейра скажи ok два"}


@pytest.mark.parametrize("lang", ["klingon-with-a-very-long-tag", "zz", "-v", ""])
def test_normalize_rejects_unknown_languages(call, lang):
    with pytest.raises(ImplError) as caught:
        call("text_normalize", {"text": "1", "lang": lang})
    assert caught.value.code == "bad_input"
    assert caught.value.field == "input.lang"


def test_normalize_rejects_missing_text(call):
    with pytest.raises(ImplError) as caught:
        call("text_normalize", {"normalized": "x"})
    assert caught.value.code == "bad_input"


def test_normalize_is_thread_safe(call):
    texts = [f"Пример {n}" if n % 2 else f"Example {n}" for n in range(200)]
    expected = [call("text_normalize", {"text": text}) for text in texts]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(lambda text: call("text_normalize", {"text": text}), texts)) == expected
