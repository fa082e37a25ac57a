"""The table of verbs (commands/verbs/__init__.py) pinned: each verb is read from a command in Russian and
one in English, planned, and every kind of step its plans hold has a handler in services/commands.py."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from neira_factory.commands import ACTION_WORDS, VERBS, NotUnderstood, parse
from neira_factory.commands.lexicon import Context, analyse
from neira_factory.commands.morphology import tokenize
from neira_factory.commands.planner import plan
from neira_factory.commands.plans import World
from neira_factory.services.commands import STEP_HANDLERS

from .conftest import CAPABILITIES

EXAMPLES = {}
for path in sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.yaml")):
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    EXAMPLES[document["id"]] = document
# every example node registered, one organ (vision v1): each verb's example has something to act on
WORLD = World(nodes={i: (d.get("analysis_type") or d.get("action_type"), "stable") for i, d in EXAMPLES.items()
                     if not i.startswith("organ.")},
              organs={"organ.vision.v1": EXAMPLES["organ.vision.v1"]},
              capabilities={c: "locked" for c in CAPABILITIES}, examples=EXAMPLES)


def test_each_verb_word_belongs_to_one_verb_and_each_action_to_one_verb():
    words = [word for verb in VERBS for word in verb.words]
    assert sorted(words) == sorted(ACTION_WORDS)
    assert len({verb.action for verb in VERBS}) == len(VERBS)


@pytest.mark.parametrize("verb", VERBS, ids=lambda verb: verb.action)
def test_each_verb_word_is_said_with_that_word(verb, vocab):
    for word, said in verb.words.items():
        for text in said:
            items = analyse(tokenize(text), Context(vocab))
            assert len(items) == 1 and word in items[0].vals("verb"), (word, text)


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("verb", VERBS, ids=lambda verb: verb.action)
def test_each_verb_is_read_and_planned_in_both_languages(verb, lang, vocab):
    intent = parse(verb.example[("ru", "en").index(lang)], vocab)
    assert (intent.action, intent.lang) == (verb.action, lang)
    planned = plan(intent, WORLD)
    assert planned.steps and {step.op for step in planned.steps} <= set(verb.steps)
    assert planned.read_only or all(STEP_HANDLERS[step.op].make for step in planned.steps)


@pytest.mark.parametrize("verb", VERBS, ids=lambda verb: verb.action)
def test_each_kind_of_step_of_a_verb_has_a_handler(verb):
    assert set(verb.steps) <= set(STEP_HANDLERS)


def test_each_step_handler_serves_a_verb():
    assert set(STEP_HANDLERS) == {op for verb in VERBS for op in verb.steps}


@pytest.mark.parametrize("verb", VERBS, ids=lambda verb: verb.action)
def test_each_verb_is_named_in_russian_when_not_understood(verb):
    assert verb.action not in NotUnderstood("ru", {"action": verb.action}, [], []).reason
