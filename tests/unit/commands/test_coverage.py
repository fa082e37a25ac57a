"""What people say (issue 19, item 1): status questions with filters, versions named relative to the others,
gates named by what they govern, pipelines named before a colon, polite words listed as ignored, and the words
that change the meaning still refused; planned against a snapshot of the registry."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neira_factory.commands import NotUnderstood, parse
from neira_factory.commands.describe import NoImplementation
from neira_factory.commands.planner import plan
from neira_factory.commands.plans import World
from neira_factory.domain.errors import NotFound

VOICE = {"id": "organ.voice.v1", "nodes": ["analysis.text_normalize.v1", "analysis.echo.v1"]}
WORLD = World(
    nodes={"analysis.echo.v1": ("echo", "stable"), "analysis.echo.v2": ("echo", "canary"),
           "analysis.echo.v3": ("echo", "draft"), "analysis.text_normalize.v1": ("text_normalize", "stable"),
           "analysis.keyword_classify.v1": ("keyword_classify", "stable"),
           "analysis.keyword_classify.v2": ("keyword_classify", "experimental")},
    organs={f"organ.vision.v{v}": {"id": f"organ.vision.v{v}", "nodes": []} for v in (1, 2)} | {
        "organ.voice.v1": VOICE, "organ.voice.v2": {**VOICE, "id": "organ.voice.v2", "nodes": ["analysis.echo.v2"]}},
    capabilities={"factory_script": "locked", "factory_wasm": "locked", "self_edit": "locked",
                  "organs_builder": "experimental"},
    examples={}, organ_states={"organ.vision.v1": "stable", "organ.vision.v2": "canary", "organ.voice.v1": "stable",
                               "organ.voice.v2": "rolled_back"})


@pytest.mark.parametrize("text,target,summary", [
    ("откати последнюю версию узла analysis.echo", "analysis.echo.v3", "откатить analysis.echo.v3 (новейшая)"),
    ("roll back the newest version of vision", "organ.vision.v2", "roll back organ.vision.v2 (the newest)"),
    ("одобри предыдущую версию зрения", "organ.vision.v1", "одобрить organ.vision.v1 (предыдущая)"),
    ("approve the one before the latest version of analysis.echo", "analysis.echo.v2",
     "approve analysis.echo.v2 (the previous)"),
    ("отключи последнюю стабильную версию голоса", "organ.voice.v1", "отключить organ.voice.v1 (новейшая stable)"),
    ("disable the canary version of the echo node", "analysis.echo.v2", "disable analysis.echo.v2 (the newest canary)"),
])
def test_a_relative_version_is_the_one_the_registry_has(text, target, summary, vocab):
    planned = plan(parse(text, vocab), WORLD)
    step, = planned.steps
    assert (step.op, step.target) == ("transition", target)
    assert planned.summary == summary


def test_relative_versions_in_status_and_training_and_none_to_pick(vocab):
    assert plan(parse("покажи последнюю версию голосового органа", vocab), WORLD).steps[0].target == "organ.voice.v2"
    assert plan(parse("train the newest classifier", vocab), WORLD).steps[0].target == "analysis.keyword_classify.v2"
    assert plan(parse("обучи стабильную версию классификатора", vocab), WORLD).steps[0].target == \
        "analysis.keyword_classify.v1"
    with pytest.raises(NotFound):  # vision has no quarantined version
        plan(parse("approve the quarantined version of vision", vocab), WORLD)
    with pytest.raises(NotFound):  # and one version has none before it
        plan(parse("одобри предыдущую версию узла нормализации", vocab), WORLD)


@pytest.mark.parametrize("text,step,body", [
    ("какие узлы на канарейке?", "nodes", {"state": "canary"}),
    ("which nodes are in quarantine", "nodes", {"state": "quarantined"}),
    ("покажи скриптовые узлы", "nodes", {"backend": "script"}),
    ("list wasm nodes", "nodes", {"backend": "wasm"}),
    ("какие органы стабильны", "organs", {"state": "stable"}),
    ("list analysis nodes on canary", "nodes", {"kind": "analysis", "state": "canary"}),
    ("покажи узлы голосового органа", "nodes", {"organ": "organ.voice.v2", "members": ["analysis.echo.v2"]}),
    ("list organs", "organs", {}),
])
def test_a_status_question_lists_what_matches(text, step, body, vocab):
    planned = plan(parse(text, vocab), WORLD)
    assert planned.read_only
    assert [(s.op, s.body) for s in planned.steps] == [(step, body)]


def test_a_listing_summary_names_its_filters(vocab):
    assert plan(parse("покажи отключённые узлы", vocab), WORLD).summary == "список узлов: state=disabled"
    assert plan(parse("покажи органы", vocab), WORLD).summary == "список органов"
    assert plan(parse("show rolled back organs", vocab), WORLD).summary == "the organs: state=rolled_back"
    with pytest.raises(NotFound):
        plan(parse("list the nodes of the hearing organ", vocab), WORLD)


@pytest.mark.parametrize("text,gate,state", [
    ("заблокируй скриптовые узлы", "factory_script", "locked"),
    ("lock wasm nodes", "factory_wasm", "locked"),
    ("разреши самоизменение", "self_edit", "experimental"),
    ("lock organs", "organs_builder", "locked"),
    ("disable script nodes", "factory_script", "disabled"),
    ("включи орган эха", "organ_echo", "stable"),
])
def test_a_gate_named_by_what_it_governs(text, gate, state, vocab):
    intent = parse(text, vocab)
    assert (intent.action, intent.name, intent.state) == ("capability", gate, state)


def test_a_name_before_a_colon_is_the_pipelines_name_even_when_it_is_a_step(vocab):
    intent = parse("собери пайплайн speak: normalize -> phonemes -> adapter", vocab)
    assert (intent.name, intent.steps) == ("speak", ("text_normalize", "text_to_phonemes", "speak_adapter"))
    assert parse("build pipeline voice2: echo then reverse", vocab).name == "voice2"  # not a typo of voice


@pytest.mark.parametrize("text,ignored", [
    ("пожалуйста, создай голосовой орган", ("пожалуйста",)),
    ("could you please approve the vision organ", ("could", "you", "please", "the")),
    ("не могли бы вы откатить голос", ("не могли бы вы",)),
    ("создай голосовой орган v1", ()),
])
def test_words_that_change_nothing_are_listed_as_ignored(text, ignored, vocab):
    assert parse(text, vocab).ignored == ignored


@pytest.mark.parametrize("text,words", [
    ("не создавай голосовой орган", ["не"]),  # a negation
    ("don't lock wasm nodes", ["don", "t"]),
    ("approve voice and vision", ["voice", "vision"]),  # two names for one slot
    ("одобри последнюю версию analysis.echo.v1", ["analysis.echo.v1"]),  # a version and a relative one
    ("откати к предыдущей версии голосовой орган", ["предыдущей"]),  # the version to come back, not to go
    ("верни стабильную версию зрения", ["стабильную"]),
    ("создай стабильный голосовой орган", ["стабильный"]),  # a state where none is read
    ("list canary and stable nodes", ["canary", "stable"]),  # two states for one filter
    ("одобри все версии зрения", ["все"]),  # all, for a command about one version
])
def test_words_that_change_the_meaning_still_refuse(text, words, vocab):
    with pytest.raises(NotUnderstood) as caught:
        parse(text, vocab)
    assert caught.value.not_understood == words


def test_an_organ_from_parts_the_library_does_not_have_says_there_is_no_such_implementation(vocab):
    with pytest.raises(NoImplementation) as caught:
        parse("build an organ from speech recognition and translation", vocab)
    assert caught.value.code == "no_implementation" and "no such implementation" in str(caught.value)
    with pytest.raises(NoImplementation):
        parse("собери орган из нормализации и перевода", vocab)


WORDS = ["покажи", "откати", "одобри", "заблокируй", "обучи", "собери", "какие", "list", "roll", "back", "approve",
         "lock", "узлы", "органы", "nodes", "organs", "зрения", "vision", "analysis.echo", "классификатор",
         "последнюю", "предыдущую", "стабильную", "версию", "на", "канарейке", "в", "карантине", "скриптовые", "wasm",
         "latest", "previous", "stable", "canary", "the", "please", "пожалуйста", "speak", ":", "->", "normalize",
         "не", "never", "все", "all", "к", "to", "верни", "v2"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join))
def test_the_new_words_never_let_a_negation_or_all_act(vocab, text):
    try:
        intent = parse(text, vocab)
    except (NotUnderstood, NoImplementation):
        return
    words = text.split()
    assert not {"не", "never"} & set(words), (text, intent)
    if intent.action != "status":
        assert not {"все", "all"} & set(words), (text, intent)
    if intent.action == "rollback" and intent.pick:
        assert intent.pick == "newest" and "верни" not in words, (text, intent)
