"""Misunderstanding never guesses into an action: NotUnderstood says what was
understood, what was not, and what was probably meant, in the command's language."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neira_factory.commands import ACTIONS, TARGETS, NotUnderstood, parse

# (text, lang, understood ⊇, not_understood, suggestions ⊇)
CASES = [
    # nonsense and empty
    ("asdf qwerty", "en", {}, ["asdf", "qwerty"], ["create voice organ v1"]),
    ("", "ru", {}, [], ["создай голосовой орган v1"]),
    ("   ", "ru", {}, [], ["создай голосовой орган v1"]),
    ("🙂", "ru", {}, ["🙂"], ["создай голосовой орган v1"]),
    ("?!…", "ru", {}, ["?!…"], ["создай голосовой орган v1"]),
    ("фыва олдж", "ru", {}, ["фыва", "олдж"], ["создай голосовой орган v1"]),
    # no verb
    ("голосовой орган v1", "ru", {}, ["голосовой", "орган", "v1"], []),
    ("voice organ v1", "en", {}, ["voice", "organ", "v1"], []),
    ("удали голосовой орган", "ru", {}, ["удали", "голосовой", "орган"], []),
    ("delete the voice organ", "en", {}, ["delete", "voice", "organ"], []),
    # an unknown name (beyond one edit)
    ("создай марсианский орган", "ru", {"action": "create", "target": "organ"}, ["марсианский"], ["voice", "vision"]),
    ("create martian organ", "en", {"action": "create", "target": "organ"}, ["martian"], ["voice", "vision"]),
    ("create vyzion organ", "en", {"action": "create", "target": "organ"}, ["vyzion"], ["vision"]),
    ("create vsiiom organ", "en", {"action": "create", "target": "organ"}, ["vsiiom"], []),
    ("одобри analysis.foo.v1", "ru", {"action": "approve"}, ["analysis.foo.v1"], []),
    ("approve analysis.echo.v7", "en", {"action": "approve"}, ["analysis.echo.v7"], ["analysis.echo.v1"]),
    ("enable asdf", "en", {"action": "capability", "state": "stable"}, ["asdf"], ["factory_script"]),
    ("разблокируй фабрику марсиан", "ru", {"action": "capability", "state": "experimental"},
     ["фабрику", "марсиан"], ["factory_script"]),
    ("обнови зрение до v2 (марсианский)", "ru", {"action": "update", "name": "vision", "version": 2},
     ["марсианский"], ["grayscale"]),
    ("собери normalize→fonemes→adapter", "ru", {"action": "pipeline", "steps": ["text_normalize", "speak_adapter"]},
     ["fonemes"], ["text_to_phonemes"]),
    ("train the voice organ", "en", {"action": "train"}, ["voice", "organ"], []),
    # ambiguous: two known names for one slot
    ("создай голосовой орган зрения", "ru", {"action": "create", "target": "organ"}, ["голосовой", "зрения"],
     ["voice", "vision"]),
    ("approve voice vision", "en", {"action": "approve"}, ["voice", "vision"], ["voice", "vision"]),
    ("unlock factory", "en", {"action": "capability", "state": "experimental"}, ["factory"],
     ["factory_adapter", "factory_script", "factory_wasm"]),
    ("заблокируй фабрику", "ru", {"action": "capability", "state": "locked"}, ["фабрику"],
     ["factory_adapter", "factory_script", "factory_wasm"]),
    ("approve speak_adapter", "en", {"action": "approve", "target": "node"}, ["speak_adapter"],
     ["action.speak_adapter.v1", "analysis.speak_adapter.v1"]),
    ("одобри голосовой орган v1 v2", "ru", {"action": "approve"}, ["v1", "v2"], []),
    ("создай и одобри голосовой орган", "ru", {}, ["создай", "одобри"], []),
    ("create and approve the voice organ", "en", {}, ["create", "approve"], []),
    # leftover words that change the meaning
    ("не создавай голосовой орган", "ru", {"action": "create", "name": "voice"}, ["не"], []),
    ("don't create voice organ", "en", {"action": "create", "name": "voice"}, ["don", "t"], []),
    ("create the voice organ v1 not", "en", {"action": "create", "version": 1}, ["not"], []),
    ("create voice organ v1 and delete everything", "en", {"action": "create", "name": "voice"},
     ["delete", "everything"], []),
    ("никогда не откатывай зрение", "ru", {"action": "rollback", "name": "vision"}, ["никогда", "не"], []),
    ("создай голосовой орган 7", "ru", {"action": "create", "name": "voice"}, ["7"], []),
    # a version the registry does not have
    ("одобри зрение v7", "ru", {"action": "approve", "name": "vision"}, ["v7"], ["vision v1", "vision v2"]),
    ("train the classifier v3", "en", {"action": "train", "target": "node"}, ["classifier", "v3"],
     ["analysis.keyword_classify.v1"]),
    # missing pieces
    ("одобри", "ru", {"action": "approve"}, [], ["voice", "vision"]),
    ("unlock", "en", {"action": "capability"}, [], ["factory_script"]),
    ("собери конвейер", "ru", {"action": "pipeline"}, [], ["normalize"]),
    ("включи узел analysis.echo.v1", "ru", {"action": "capability"}, ["узел", "analysis.echo.v1"], []),
    ("отключи узел голосовой", "ru", {"action": "disable", "target": "node"}, ["голосовой"], []),
]


@pytest.mark.parametrize("text,lang,understood,words,suggestions", CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_not_understood(vocab, text, lang, understood, words, suggestions):
    with pytest.raises(NotUnderstood) as info:
        parse(text, vocab)
    err = info.value
    assert err.lang == lang
    for key, value in understood.items():
        assert err.understood.get(key) == value, (key, err.understood)
    if words:
        assert err.not_understood == words
    for s in suggestions:
        assert s in err.suggestions, err.suggestions
    # the reason is written in the command's language
    if lang == "ru":
        assert err.reason.startswith(("Не понял", "Неоднозначно", "Пустая команда"))
    else:
        assert err.reason.startswith(("Did not understand", "Ambiguous", "Empty command"))
        assert "Не понял" not in err.reason and "Возможно" not in err.reason
    assert err.code == "not_understood"
    assert err.to_dict()["reason"] == err.reason
    assert str(err) == err.reason


def test_reason_lists_understood_words_and_suggestions_in_russian(vocab):
    with pytest.raises(NotUnderstood) as info:
        parse("создай марсианский орган", vocab)
    reason = info.value.reason
    assert "«марсианский»" in reason
    assert "Понял: действие — создать, цель — орган" in reason
    assert "Возможно, вы имели в виду: voice, vision" in reason


def test_reason_in_english(vocab):
    with pytest.raises(NotUnderstood) as info:
        parse("create martian organ", vocab)
    reason = info.value.reason
    assert "'martian'" in reason
    assert "Understood: action create, target organ" in reason
    assert "Did you mean: voice, vision" in reason


def test_to_dict_is_the_wire_error(vocab):
    with pytest.raises(NotUnderstood) as info:
        parse("создай голосовой орган зрения", vocab)
    body = info.value.to_dict()
    assert body["code"] == "not_understood"
    assert set(body) == {"code", "reason", "lang", "understood", "not_understood", "suggestions"}
    assert body["suggestions"] == ["voice", "vision"]


def test_two_edits_are_not_a_typo(vocab):
    # "vision" → "vyzion": two substitutions; "voice" → "vocie" is one transposition
    with pytest.raises(NotUnderstood):
        parse("create vyzion organ", vocab)
    assert parse("create vocie organ", vocab).name == "voice"


def test_a_real_word_is_never_read_as_a_typo(vocab):
    # "колос" (an ear of wheat) is one edit from "голос" but is a word of its own
    with pytest.raises(NotUnderstood) as info:
        parse("создай орган колос", vocab)
    assert info.value.not_understood == ["колос"]


def test_short_words_are_not_typo_matched(vocab):
    # "brain" is one edit from "train", but verbs need six letters to be typo-matched
    with pytest.raises(NotUnderstood):
        parse("brain keyword_classify", vocab)


WORDS = ["создай", "обнови", "собери", "одобри", "откати", "выключи", "включи", "покажи", "обучи", "create",
         "unlock", "голосовой", "орган", "зрения", "voice", "vision", "v2", "до", "to", "(", ")", "→", "->", ",",
         "analysis.echo.v1", "factory_script", "фабрику", "normalize", "фонемы", "не", "asdf", "2", "версии",
         "затем", "then", "узел", "node", "способностей", "статус", "с", "with", "grayscale", "«", "»", "🙂",
         "марсианский"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)))
def test_any_text_gives_an_intent_or_not_understood(vocab, text):
    try:
        intent = parse(text, vocab)
    except NotUnderstood as err:
        assert err.lang in ("ru", "en") and err.reason
        return
    # a negation or an unknown word never slips through into an action
    assert not {"не", "марсианский"} & set(text.split()), (text, intent)
    assert intent.action in ACTIONS and intent.lang in ("ru", "en")
    assert intent.target in TARGETS + (None,)
