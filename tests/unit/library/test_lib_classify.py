"""keyword_classify."""

from __future__ import annotations

import pytest

from neira_factory.library import ImplError

KEYWORDS = {
    "delivery": ["заказ*", "доставк*", "не пришел", "delivery", "order*", "where is my"],
    "refund": ["возврат*", "верните деньги", "refund*", "money back"],
}


def classify(call, text, **params):
    return call("keyword_classify", {"text": text}, {"keywords": KEYWORDS, **params})


def test_russian_text_with_prefixes_phrases_and_yo(call):
    out = classify(call, "Мой ЗАКАЗ не пришёл, где доставка?")
    assert out["label"] == "delivery"
    assert out["hits"] == {"delivery": 3, "refund": 0}
    assert out["confidence"] == pytest.approx(3 / 4)


def test_english_text(call):
    out = classify(call, "I want a REFUND, give my money back!")
    assert out["label"] == "refund"
    assert out["hits"]["refund"] == 2
    assert out["scores"] == {"delivery": 0.0, "refund": pytest.approx(2 / 3)}


def test_confidence_grows_with_evidence_and_falls_with_competition(call):
    one = classify(call, "refund")["confidence"]
    two = classify(call, "refund, refund")["confidence"]
    contested = classify(call, "refund my order")["confidence"]
    assert 0 < contested < one < two < 1


def test_no_hit_gives_the_default_label_and_zero(call):
    out = classify(call, "Привет, как дела?")
    assert out == {
        "label": "uncertain",
        "confidence": 0.0,
        "scores": {"delivery": 0.0, "refund": 0.0},
        "hits": {"delivery": 0, "refund": 0},
    }


def test_threshold_decides_between_label_and_default(call):
    text = "refund my order"
    assert classify(call, text)["label"] == "uncertain"
    assert classify(call, text, threshold=0.3)["label"] == "delivery"
    assert classify(call, text, threshold=0.3, default_label="human")["label"] == "delivery"
    assert classify(call, "weather", threshold=0.0, default_label="human")["label"] == "human"


def test_prior_zero_is_the_plain_share(call):
    assert classify(call, "refund", prior=0)["confidence"] == 1.0
    assert classify(call, "refund my order", prior=0)["confidence"] == 0.5


def test_words_match_whole_not_inside_other_words(call):
    out = call("keyword_classify", {"text": "disorder reorder"}, {"keywords": {"o": ["order"]}})
    assert out["hits"] == {"o": 0}


def test_phrase_needs_consecutive_words(call):
    assert classify(call, "заказ не пришел")["hits"]["delivery"] == 2
    assert classify(call, "не он пришел")["hits"]["delivery"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"keywords": {}},
        {"keywords": ["a"]},
        {"keywords": {"a": "word"}},
        {"keywords": {"a": [1]}},
        {"keywords": {"a": ["!!!"]}},
        {"keywords": {"a": ["x"]}, "threshold": 2},
        {"keywords": {"a": ["x"]}, "prior": -1},
        {"keywords": {"a": ["x"]}, "default_label": ""},
    ],
)
def test_bad_params(call, params):
    with pytest.raises(ImplError) as caught:
        call("keyword_classify", {"text": "x"}, params)
    assert caught.value.code == "bad_params"


def test_bad_input(call):
    with pytest.raises(ImplError) as caught:
        call("keyword_classify", {"text": ["x"]}, {"keywords": KEYWORDS})
    assert caught.value.code == "bad_input"
