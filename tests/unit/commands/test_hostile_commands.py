"""What a hostile or careless sentence tried against the commands of issue 19, pinned: a listing that asks for
two things at once refuses instead of answering one; a description with an exception («кроме цифр») refuses like
one with a negation; the factory's own modules (selector_weights, rollout_defaults) are never proposed for a
user's node, neither from a description nor by a model."""
from __future__ import annotations

import dataclasses

import pytest

from neira_factory import library
from neira_factory.commands import NotUnderstood, describe, parse
from neira_factory.commands.describe import NoImplementation
from neira_factory.commands.llm import Rejected, intent_schema, read_answer, system_prompt
from neira_factory.commands.planner import plan
from neira_factory.commands.plans import World
from neira_factory.library import factory_modules

from .conftest import VOCAB

WORLD = World(nodes={}, organs={}, capabilities={}, examples={})
# the service's vocabulary: every implementation of the library, the factory's modules among them
EVERY_IMPL = dataclasses.replace(VOCAB, impls=tuple(library.names()))


@pytest.mark.parametrize("text,words", [
    ("list stable nodes and organs", ["nodes", "organs"]),  # the nodes were listed, the organs dropped
    ("покажи стабильные органы и узлы", ["органы", "узлы"]),
    ("what nodes and organs are stable", ["nodes", "organs"]),
    ("list wasm nodes and organs", ["nodes", "organs"]),
    ("list nodes of the voice organ and organs", ["nodes", "organs"]),
])
def test_a_listing_of_nodes_and_organs_at_once_refuses(text, words, vocab):
    with pytest.raises(NotUnderstood) as caught:
        parse(text, vocab)
    assert caught.value.not_understood == words


def test_the_nodes_of_an_organ_are_still_one_listing(vocab):
    for text in ("покажи узлы голосового органа", "list the stable nodes of the voice organ"):
        intent = parse(text, vocab)
        assert (intent.action, intent.target, dict(intent.filters)["organ"]) == ("status", "nodes", "voice")


@pytest.mark.parametrize("text,word", [
    ("создай узел, который переворачивает текст задом наперёд, кроме цифр", "кроме"),  # planned reverse, digits too
    ("создай узел, который переворачивает текст задом наперёд, за исключением цифр", "исключением"),
    ("make a node that reverses a string except digits", "except"),  # refused only by the unknown word's weight
    ("make a node that reverses a string, excluding digits", "excluding"),
    ("make a node that reverses a string unless it is empty", "unless"),
])
def test_a_description_with_an_exception_refuses_like_a_negation(text, word, vocab):
    with pytest.raises(NotUnderstood) as caught:
        parse(text, vocab)
    assert caught.value.not_understood == [word]


@pytest.mark.parametrize("text,module", [
    ("make a node that returns the selector weights", "selector_weights"),
    ("создай узел, который выдаёт веса селектора фабрики", "selector_weights"),
    ("make a node that returns the rollout defaults", "rollout_defaults"),
    ("создай узел, который отдаёт политику выката по умолчанию", "rollout_defaults"),
])
def test_a_description_of_a_factory_module_is_refused_not_made_a_users_node(text, module, vocab):
    intent = parse(text, vocab)
    assert describe.rank(intent.description or "")[0][0] == module  # the ranking knows what it describes
    assert describe.best(intent.description or "") is None
    with pytest.raises(NoImplementation) as caught:
        plan(intent, WORLD)  # it planned analysis.<module>.v1, with no self_edit gate on it
    assert module in str(caught.value) and "self_edit" in str(caught.value)


def test_a_model_may_not_put_a_factory_module_in_a_pipeline():
    assert factory_modules.NAMES == {"selector_weights", "rollout_defaults"}
    steps = intent_schema(EVERY_IMPL)["properties"]["steps"]["items"]["enum"]
    assert "echo" in steps and not factory_modules.NAMES & set(steps)
    assert "selector_weights" not in system_prompt(EVERY_IMPL)
    answer = {"action": "pipeline", "target": "organ", "name": None, "version": None, "options": [],
              "steps": ["selector_weights", "echo"], "state": None}
    with pytest.raises(Rejected) as caught:
        read_answer(answer, EVERY_IMPL, "tune the selector", "en")
    assert caught.value.outcome == "unknown_name"
