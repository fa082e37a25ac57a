"""Nodes from a description: every implementation's bilingual description, the ranking (commands/describe.py),
its threshold and margin, refusals naming the closest, and the create path that reads and plans a described node
(commands/verbs/described.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from neira_factory import library
from neira_factory.commands import NotUnderstood, describe, parse
from neira_factory.commands.planner import plan
from neira_factory.commands.plans import World
from neira_factory.domain.errors import Conflict
from neira_factory.domain.templates import FabricationRequest
from neira_factory.library.core import ImplContext, ImplError

EXAMPLES = {"analysis.reverse.v1": {"id": "analysis.reverse.v1", "analysis_type": "reverse"}}
WORLD = World(nodes={"analysis.reverse.v2": ("reverse", "draft")}, organs={}, capabilities={}, examples=EXAMPLES)
CYRILLIC, LATIN = re.compile(r"[а-яё]", re.I), re.compile(r"[a-z]", re.I)


# -- the descriptions kept beside the implementations ------------------------------------------------------

@pytest.mark.parametrize("name", library.names())
def test_every_implementation_says_what_it_does_in_both_languages(name):
    about = library.get(name).about
    assert about is not None, f"{name} has no About"
    assert CYRILLIC.search(about.ru) and not LATIN.fullmatch(about.ru) and len(about.ru) >= 30
    assert LATIN.search(about.en) and not CYRILLIC.search(about.en) and len(about.en) >= 30
    assert any(CYRILLIC.search(w) for w in about.words) and any(not CYRILLIC.search(w) for w in about.words)
    assert set(about.needs) <= set(library.get(name).params)
    assert describe.rank(about.en)[0][0] == name and describe.rank(about.ru)[0][0] == name


@pytest.mark.parametrize("name", library.names())
def test_an_implementation_runs_its_example_on_its_defaults_unless_it_names_the_params_it_needs(name):
    impl = library.get(name)
    if not impl.about.needs:
        assert isinstance(impl.func(impl.about.example, {}, ImplContext(side_effects=False)), dict)
        return
    with pytest.raises(ImplError) as failed:
        impl.func(impl.about.example, {}, ImplContext(side_effects=False))
    assert failed.value.code == "bad_params" and failed.value.field == f"params.{impl.about.needs[0]}"


def test_the_library_docs_list_every_description_as_declared():
    docs = (Path(__file__).resolve().parents[3] / "docs/library.md").read_text(encoding="utf-8")
    table = docs.split("### Descriptions", 1)[1].split("\n## ", 1)[0]
    for name in library.names():
        about = library.get(name).about
        assert f"| `{name}` | {about.en} | {about.ru} |" in table, name


# -- ranking -------------------------------------------------------------------------------------------------

def test_rank_scores_every_implementation_in_order_within_zero_and_one():
    ranked = describe.rank("переворачивает текст задом наперёд", "ru")
    assert sorted(name for name, _ in ranked) == library.names()
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert ranked[0] == ("reverse", 1.0) and all(0 <= s <= 1 for _, s in ranked)


def test_inflected_russian_and_english_forms_meet_their_implementation():
    assert describe.best("распознаёт текст на сканах")[0] == "ocr"
    assert describe.best("распознавание текста")[0] == "ocr"
    assert describe.best("recognizes the text of scanned pages")[0] == "ocr"
    assert describe.best("обесцвечивает фотографии")[0] == "image_grayscale"


def test_a_word_no_implementation_knows_weighs_against_every_one():
    known = dict(describe.rank("распознаёт текст на фото"))["ocr"]
    unknown = dict(describe.rank("распознаёт лица на фото"))["ocr"]  # «лица»: nothing in the library
    assert known >= describe.THRESHOLD > unknown


def test_fits_needs_the_threshold_and_the_margin_over_the_next():
    t, m = describe.THRESHOLD, describe.MARGIN
    assert describe.fits([("a", t), ("b", t - m)])
    assert not describe.fits([("a", t - 0.001), ("b", 0.0)])
    assert not describe.fits([("a", 0.9), ("b", 0.9 - m / 2)])  # two alike are not a choice
    assert not describe.fits([])


def test_a_description_of_only_generic_words_fits_nothing():
    assert describe.terms("a node that takes the input and returns some output") == frozenset()
    assert describe.best("a node that takes the input and returns some output") is None


# -- refusals ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,lang,closest", [
    ("определяет тональность отзыва", "ru", None),
    ("detects the sentiment of a review", "en", None),
    ("распознаёт лица на фото", "ru", "ocr"),
    ("speech recognition", "en", "ocr"),
    ("translation", "en", None),
])
def test_what_the_library_cannot_do_is_refused_naming_the_closest_with_scores(text, lang, closest):
    assert describe.best(text, lang) is None
    with pytest.raises(describe.NoImplementation) as refused:
        describe.choose(text, lang)
    error = refused.value
    assert (error.status, error.code, error.extra["description"]) == (422, "no_implementation", text)
    assert error.reason.startswith("Нет такой реализации" if lang == "ru" else "There is no such implementation")
    named = error.extra["closest"]
    assert [c["score"] for c in named] == sorted((c["score"] for c in named), reverse=True)
    assert all(0 < c["score"] < describe.THRESHOLD or c is not named[0] for c in named)
    if closest:
        assert named[0]["impl"] == closest and f"{closest} (" in error.reason
    else:
        assert named == [] or named[0]["score"] < describe.THRESHOLD


def test_a_fitting_implementation_that_needs_params_is_refused_naming_them():
    with pytest.raises(describe.NoImplementation) as refused:
        describe.choose("извлекает из текста адреса электронной почты", "ru")
    first = refused.value.extra["closest"][0]
    assert first["impl"] == "regex_extract" and first["needs"] == ["pattern"]
    assert first["score"] >= describe.THRESHOLD and "pattern" in refused.value.reason
    assert describe.best("извлекает из текста адреса электронной почты") is None


# -- the create path: «создай узел, который …» -----------------------------------------------------------

@pytest.mark.parametrize("text,description", [
    ("создай узел, который переворачивает текст задом наперёд", "переворачивает текст задом наперёд"),
    ("мне нужен узел, чтобы озвучивать текст", "озвучивать текст"),
    ("сделай узел для определения тональности отзыва", "определения тональности отзыва"),
    ("make a node that reverses a string", "reverses a string"),
    ("I need a node which shows the pronunciation of words", "shows the pronunciation of words"),
    ("Please create a node that checks the spelling and then lists the errors",
     "checks the spelling and then lists the errors"),
])
def test_the_words_after_the_marker_are_a_free_description_even_with_verbs_in_it(text, description, vocab):
    intent = parse(text, vocab)
    assert (intent.action, intent.target, intent.name, intent.description) == ("create", "node", None, description)
    assert intent.to_dict()["description"] == description and intent.text == text


def test_a_version_may_come_before_the_description_and_numbers_in_it_are_not_versions(vocab):
    assert parse("создай узел v3, который уменьшает картинки", vocab).version == 3
    assert parse("make a node that shrinks images to 512 pixels", vocab).version is None


@pytest.mark.parametrize("text", ["создай узел, который не переворачивает текст",
                                  "make a node that does not reverse text", "создай узел, который"])
def test_a_negated_or_empty_description_is_not_understood(text, vocab):
    with pytest.raises(NotUnderstood):
        parse(text, vocab)


@pytest.mark.parametrize("text", ["create a memory node for facts", "создай узел памяти для фактов",
                                  "create node text_normalize", "создай узел analysis.echo.v2"])
def test_other_node_commands_are_read_as_before(text, vocab):
    assert parse(text, vocab).description is None


def test_the_plan_is_a_draft_of_the_best_implementation_with_its_defaults_and_the_runners_up(vocab):
    text = "создай узел, который переворачивает текст задом наперёд"
    planned = plan(parse(text, vocab), WORLD)
    step, = planned.steps
    assert (step.op, step.target, step.action, step.gates) == ("create_node", "analysis.reverse.v3", "nodes.create",
                                                               ("factory_adapter",))
    request = FabricationRequest.model_validate(step.body)
    template = request.template
    assert template.draft_content == text and template.adapter.impl == "reverse" and template.params == {}
    assert [e.input for e in template.examples] == [library.get("reverse").about.example]
    choice = planned.to_dict()["choice"]
    assert choice["impl"] == "reverse" and choice["score"] >= describe.THRESHOLD
    assert len(choice["runners_up"]) == describe.CLOSEST and all(r["score"] < choice["score"]
                                                                 for r in choice["runners_up"])
    assert "reverse" in planned.summary and f"{choice['score']:.2f}" in planned.summary


def test_params_are_the_implementations_defaults_and_an_acting_one_is_an_action_node(vocab):
    step, = plan(parse("make a node that speaks text aloud", vocab), WORLD).steps
    template = FabricationRequest.model_validate(step.body).template
    assert step.target == "action.speak_adapter.v1" and template.kind == "action"
    assert template.param_values() == {"speed": 175, "pitch": 50}
    assert template.io.input == library.get("speak_adapter").input_schema


def test_a_named_version_that_exists_conflicts_and_a_refused_description_plans_nothing(vocab):
    with pytest.raises(Conflict):
        plan(parse("создай узел v2, который переворачивает текст", vocab), WORLD)
    with pytest.raises(describe.NoImplementation) as refused:
        plan(parse("make a node that detects the sentiment of a review", vocab), WORLD)
    assert refused.value.extra["description"] == "detects the sentiment of a review"
