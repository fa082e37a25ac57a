"""«создай узел памяти для фактов»: a create command that names memory makes a memory node (verbs/memory.py)."""
from __future__ import annotations

import pytest

from neira_factory.commands import NotUnderstood, parse
from neira_factory.commands.planner import plan
from neira_factory.commands.plans import World
from neira_factory.domain.templates import NodeTemplate

EMPTY = World(nodes={}, organs={}, capabilities={"factory_memory": "experimental"}, examples={})


@pytest.mark.parametrize("text,route", [
    ("создай узел памяти для фактов", "memory.facts"),
    ("create a memory node for facts", "memory.facts"),
    ("создай память для правил", "memory.rules"),
    ("сделай узел памяти для понятий", "memory.concepts"),
    ("create memory for my notes", "memory.notes"),
    ("Создай, пожалуйста, узел памяти для событий", "memory.events"),
    ("создай узел памяти для сказок", "memory.skazka"),  # an unknown topic: its lemma, transliterated
])
def test_a_create_command_naming_memory_plans_a_memory_node_for_its_topic(text, route, vocab):
    intent = parse(text, vocab)
    assert (intent.action, intent.target, intent.name) == ("create", "node", route)
    step, = plan(intent, EMPTY).steps
    template = NodeTemplate.model_validate(step.body["template"])
    assert (step.op, step.target, step.gates) == ("create_node", f"{route}.v1", ("factory_memory",))
    assert template.backend == "memory" and template.kind == "memory"
    assert template.memory.store == route.split(".")[1]


def test_the_next_version_is_chosen_when_the_route_exists_and_a_named_one_is_kept(vocab):
    world = World(nodes={"memory.facts.v1": ("facts", "stable"), "memory.facts.v2": ("facts", "draft")},
                  organs={}, capabilities={}, examples={})
    assert plan(parse("создай узел памяти для фактов", vocab), world).steps[0].target == "memory.facts.v3"
    assert plan(parse("создай узел памяти для фактов v7", vocab), world).steps[0].target == "memory.facts.v7"


def test_an_example_document_of_that_id_is_used(vocab):
    document = {"id": "memory.facts.v1", "version": "0.1.0", "memory_type": "knowledge", "backend": "memory",
                "memory": {"store": "facts", "capacity": 500}}
    world = World(nodes={}, organs={}, capabilities={}, examples={"memory.facts.v1": document})
    assert plan(parse("create a memory node for facts", vocab), world).steps[0].body["template"] is document


@pytest.mark.parametrize("text,left", [("создай узел памяти", []), ("создай память для фактов и правил",
                                                                     ["фактов", "правил"])])
def test_a_memory_without_one_topic_is_not_understood_and_says_what_to_write(text, left, vocab):
    with pytest.raises(NotUnderstood) as caught:
        parse(text, vocab)
    assert caught.value.not_understood == left
    assert "для фактов" in caught.value.reason


def test_unlocking_memory_is_still_about_its_gate(vocab):
    intent = parse("разблокируй память", vocab.__class__(capabilities=("factory_memory",)))
    assert (intent.action, intent.name) == ("capability", "factory_memory")
