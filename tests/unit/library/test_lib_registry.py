"""The registry, the shared validation in ``core`` and link checks in ``schema``."""

from __future__ import annotations

import pytest

from neira_factory.library import ImplContext, ImplError, LibraryImpl, get, io_schema, link_problems, names
from neira_factory.library.core import merge_params

EXPECTED = {
    "echo",
    "reverse",
    "text_normalize",
    "regex_extract",
    "keyword_classify",
    "json_map",
    "text_to_phonemes",
    "speak_adapter",
    "image_downscale",
    "image_binarize",
    "image_grayscale",
    "ocr",
    "selector_weights",
    "rollout_defaults",
}


def test_names_lists_every_impl_sorted():
    assert names() == sorted(EXPECTED)


def test_get_returns_a_described_impl():
    impl = get("text_normalize")
    assert isinstance(impl, LibraryImpl)
    assert impl.name == "text_normalize"
    assert impl.description
    assert impl.input_schema["type"] == "object"


@pytest.mark.parametrize("name", ["nope", "", None, 42])
def test_unknown_name_is_an_impl_error_listing_the_known(name):
    with pytest.raises(ImplError) as caught:
        get(name)
    assert caught.value.code == "unknown_impl"
    assert "text_normalize" in caught.value.reason


def test_only_speak_adapter_has_side_effects():
    assert {name for name in names() if get(name).side_effects} == {"speak_adapter"}


def test_declared_params_have_a_value():
    for name in names():
        for key, spec in get(name).params.items():
            assert "value" in spec, (name, key)


def test_io_schema_gives_both_sides():
    schema = io_schema("text_to_phonemes")
    assert schema["input"] is get("text_to_phonemes").input_schema
    assert schema["output"]["required"] == ["phonemes", "lang", "text"]


@pytest.mark.parametrize(
    ("producer", "consumer"),
    [("text_normalize", "text_to_phonemes"), ("text_to_phonemes", "speak_adapter"), ("reverse", "text_normalize")],
)
def test_voice_chain_links_are_compatible(producer, consumer):
    assert link_problems(io_schema(producer)["output"], io_schema(consumer)["input"]) == []


def test_incompatible_link_is_explained():
    found = link_problems(io_schema("keyword_classify")["output"], io_schema("speak_adapter")["input"])
    assert found == ["none of text, normalized is produced"]
    assert link_problems(io_schema("regex_extract")["output"], io_schema("reverse")["input"]) == [
        "input field 'text' is not produced"
    ]


def test_link_type_mismatch_is_reported():
    produced = {"type": "object", "properties": {"text": {"type": "array"}}}
    assert link_problems(produced, io_schema("reverse")["input"]) == [
        "field 'text': produced as array, expected string"
    ]


def test_free_json_output_is_checked_only_at_run_time():
    assert link_problems(io_schema("json_map")["output"], io_schema("reverse")["input"]) == []


@pytest.mark.parametrize(
    ("input", "field"),
    [(["not", "an", "object"], "input"), ({}, "input.text"), ({"text": 5}, "input.text")],
)
def test_input_is_checked_against_the_schema(call, input, field):
    with pytest.raises(ImplError) as caught:
        call("reverse", input)
    assert caught.value.code == "bad_input"
    assert caught.value.field == field
    assert caught.value.to_dict()["field"] == field


def test_params_default_when_missing_and_unknown_ones_are_ignored():
    declared = get("keyword_classify").params
    merged = merge_params(declared, {"threshold": 0.7, "something_else": 1})
    assert merged["threshold"] == 0.7
    assert merged["default_label"] == "uncertain"
    assert merged["something_else"] == 1


@pytest.mark.parametrize("bad", [{"threshold": 1.5}, {"threshold": "high"}, {"threshold": True}, "not an object"])
def test_bad_params_are_impl_errors(bad):
    with pytest.raises(ImplError) as caught:
        merge_params(get("keyword_classify").params, bad)
    assert caught.value.code == "bad_params"


def test_choices_are_enforced():
    declared = {"mode": {"value": "a", "choices": ["a", "b"]}}
    assert merge_params(declared, {"mode": "b"}) == {"mode": "b"}
    with pytest.raises(ImplError, match="one of"):
        merge_params(declared, {"mode": "c"})


def test_default_context_writes_to_var_output():
    assert str(ImplContext().resolved_output_dir()) == "var/output"
    assert ImplContext().side_effects is True
