"""The LLM interpreter's contract (commands/llm.py): the schema is the Intent's fields a model may set, with the
actions of the verbs table and the Vocabulary's names; an answer the rules could have given reads back to the
same Intent; anything else (a wrong type, an unknown name, a field or target the action does not take) is
rejected, never planned."""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from neira_factory.commands import VERBS, Intent, parse
from neira_factory.commands.llm import SHAPES, Rejected, intent_schema, read_answer, system_prompt
from neira_factory.commands.verbs import BY_ACTION
from neira_factory.commands.verbs.update import OPTIONS

from .conftest import CAPABILITIES, IMPLS, NODES, ORGANS, VOCAB

SCHEMA = intent_schema(VOCAB)
FIELDS = {f.name: f for f in dataclasses.fields(Intent)}


def answer(intent: Intent) -> dict[str, Any]:
    """What a model that understood as the rules did answers: the schema's fields of the Intent."""
    data = intent.to_dict()
    return {name: data[name] for name in SCHEMA["properties"]}


def test_the_schema_is_the_intents_fields_a_model_may_set():
    properties = SCHEMA["properties"]
    assert set(properties) <= set(FIELDS) and not {"lang", "text"} & set(properties)  # those come from the command
    left = [f for name, f in FIELDS.items() if name not in properties and name not in ("lang", "text")]
    assert all(f.default is not dataclasses.MISSING for f in left)  # a model's Intent keeps their defaults
    assert {"action", "target", "name", "version", "options", "steps", "state"} <= set(properties)
    assert set(SHAPES) == set(BY_ACTION)  # every verb can be proposed: a new verb needs its shape here
    assert properties["action"]["enum"] == [*BY_ACTION, None]
    assert set(properties["name"]["enum"]) == {*ORGANS, *NODES, *CAPABILITIES, "hearing", None}
    assert properties["steps"]["items"]["enum"] == sorted(IMPLS)
    assert properties["options"]["items"]["enum"] == list(OPTIONS)
    assert properties["version"] == {"type": ["integer", "null"], "minimum": 1}
    # OpenAI's strict mode: every property required, none other allowed
    assert SCHEMA["required"] == list(properties) and SCHEMA["additionalProperties"] is False
    Draft202012Validator.check_schema(SCHEMA)


def test_the_system_prompt_lists_the_actions_and_every_name():
    prompt = system_prompt(VOCAB)
    assert all(f"- {action}:" in prompt for action in BY_ACTION)
    assert all(name in prompt for name in (*ORGANS, *NODES, *CAPABILITIES, *IMPLS, *OPTIONS))


SAID = [verb.example[k] for verb in VERBS for k in (0, 1)] + [
    "create node analysis.echo.v1", "show organs", "show nodes", "статус органа voice", "откати vision v2",
    "обучи analysis.keyword_classify.v1", "upgrade vision to v2 (grayscale)",
]


@pytest.mark.parametrize("text", SAID)
def test_what_the_rules_understand_a_model_can_say_and_it_reads_back_the_same(text):
    intent = parse(text, VOCAB)
    said = answer(intent)
    assert not list(Draft202012Validator(SCHEMA).iter_errors(said))
    # fields a model does not set keep their defaults (the words the rules ignored, …)
    unset = {name: f.default for name, f in FIELDS.items() if name not in said and name not in ("lang", "text")}
    assert read_answer(said, VOCAB, text, intent.lang) == dataclasses.replace(intent, **unset)


def _approve(**changes: Any) -> dict[str, Any]:
    return {**answer(parse("approve analysis.echo.v1", VOCAB)), **changes}


def _capability(**changes: Any) -> dict[str, Any]:
    return {**answer(parse("unlock factory_script", VOCAB)), **changes}


REJECTED = [
    ("not-an-object", ["approve"], "invalid"),
    ("a-field-missing", {k: v for k, v in _approve().items() if k != "state"}, "invalid"),
    ("an-extra-field", _approve(confirm=True), "invalid"),
    ("action-null", _approve(action=None), "no_intent"),
    ("unknown-action", _approve(action="delete"), "invalid"),
    ("version-true", _approve(target="organ", name="voice", version=True), "invalid"),
    ("version-zero", _approve(target="organ", name="voice", version=0), "invalid"),
    ("version-a-string", _approve(target="organ", name="voice", version="1"), "invalid"),
    ("a-node-at-another-version", _approve(version=2), "invalid"),
    ("unknown-node", _approve(name="analysis.nothing.v1"), "unknown_name"),
    ("an-organ-name-for-a-node", _approve(name="voice"), "unknown_name"),
    ("a-capability-to-approve", _approve(target="capability", name="factory_script"), "invalid"),
    ("no-name", _approve(name=None), "invalid"),
    ("options-on-approve", _approve(options=["grayscale"]), "invalid"),
    ("a-gate-state-on-approve", _approve(state="locked"), "invalid"),
    ("capability-without-state", _capability(state=None), "invalid"),
    ("unknown-state", _capability(state="open"), "invalid"),
    ("capability-with-a-version", _capability(version=2), "invalid"),
    ("a-node-for-a-capability", _capability(name="analysis.echo.v1"), "unknown_name"),
    ("pipeline-without-steps", _approve(action="pipeline", target="organ", name=None), "invalid"),
    ("unknown-step", _approve(action="pipeline", target="organ", name=None, steps=["teleport"]), "unknown_name"),
    ("unknown-option", _approve(action="update", target="organ", name="vision", options=["sepia"]), "unknown_name"),
    ("a-listing-with-a-name", _approve(action="status", target="organs", name="voice"), "invalid"),
    ("steps-not-strings", _approve(action="pipeline", target="organ", name=None, steps=[1, 2]), "invalid"),
]


@pytest.mark.parametrize(("said", "outcome"), [pytest.param(s, o, id=i) for i, s, o in REJECTED])
def test_an_answer_the_rules_would_not_give_is_rejected(said, outcome):
    with pytest.raises(Rejected) as caught:
        read_answer(said, VOCAB, "text", "en")
    assert caught.value.outcome == outcome


def test_a_pipeline_without_a_name_is_named_after_its_steps_as_the_rules_name_it():
    rules = parse("build normalize -> phonemes", VOCAB)
    said = {**answer(rules), "name": None}
    assert read_answer(said, VOCAB, rules.text, "en").name == rules.name == "normalize-phonemes"
