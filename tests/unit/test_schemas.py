"""schema_fits / signature / signatures_compatible: static io compatibility."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neira_factory.domain.schemas import (
    parse_signature,
    schema_fits,
    signature,
    signatures_compatible,
)

TEXT = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}


def obj(required=(), **props):
    return {"type": "object", "properties": props, "required": list(required)}


def test_identical_schemas_fit():
    assert schema_fits(TEXT, TEXT) == []


@pytest.mark.parametrize("produced", [{}, TEXT, {"type": "integer"}, True])
def test_empty_expected_accepts_anything(produced):
    assert schema_fits(produced, {}) == []
    assert schema_fits(produced, True) == []


def test_anything_does_not_fit_a_type():
    assert schema_fits({}, {"type": "string"}) == ["top level: produces any type, needs string"]


def test_false_produces_nothing_and_accepts_nothing():
    assert schema_fits(False, {"type": "string"}) == []
    assert schema_fits({"type": "string"}, False) == ["top level: not accepted"]


def test_integer_is_a_number_but_not_the_other_way():
    assert schema_fits({"type": "integer"}, {"type": "number"}) == []
    assert schema_fits({"type": "number"}, {"type": "integer"}) == ["top level: produces number, needs integer"]


def test_type_lists():
    assert schema_fits({"type": "string"}, {"type": ["string", "null"]}) == []
    assert schema_fits({"type": ["string", "null"]}, {"type": "string"}) == ["top level: produces null, needs string"]


def test_field_type_mismatch_names_the_field():
    produced = obj(["text"], text={"type": "integer"})
    assert schema_fits(produced, TEXT) == ["field 'text': produces integer, needs string"]


def test_missing_required_field():
    assert schema_fits(obj(["normalized"], normalized={"type": "string"}), TEXT) == ["missing required field 'text'"]


def test_open_object_may_carry_any_required_field():
    assert schema_fits({"type": "object"}, TEXT) == []


def test_declared_optional_field_counts_as_produced():
    assert schema_fits(obj(text={"type": "string"}), TEXT) == []


def test_a_required_field_of_produced_counts_as_declared():
    produced = {"type": "object", "required": ["text"]}
    assert schema_fits(produced, TEXT) == []
    assert schema_fits(produced, obj(["lang"])) == ["missing required field 'lang'"]


def test_closed_object_without_properties_lacks_required_fields():
    closed = {"type": "object", "additionalProperties": False}
    assert schema_fits(closed, TEXT) == ["missing required field 'text'"]


def test_nested_objects_are_checked_recursively():
    expected = obj(["meta"], meta=obj(["lang"], lang={"type": "string"}))
    assert schema_fits(obj(["meta"], meta=obj(["lang"], lang={"type": "string"})), expected) == []
    assert schema_fits(obj(["meta"], meta=obj(["code"], code={"type": "string"})), expected) == [
        "missing required field 'meta.lang'"
    ]
    assert schema_fits(obj(["meta"], meta=obj(["lang"], lang={"type": "boolean"})), expected) == [
        "field 'meta.lang': produces boolean, needs string"
    ]


def test_every_problem_is_reported():
    produced = obj(["a"], a={"type": "integer"})
    expected = obj(["a", "b"], a={"type": "string"}, b={"type": "string"})
    assert schema_fits(produced, expected) == ["missing required field 'b'", "field 'a': produces integer, needs string"]


def test_additional_properties_false_rejects_extra_declared_fields():
    expected = {**TEXT, "additionalProperties": False}
    produced = obj(["text", "lang"], text={"type": "string"}, lang={"type": "string"})
    assert schema_fits(produced, expected) == ["field 'lang': not accepted"]


def test_additional_properties_schemas_are_compared():
    expected = {"type": "object", "additionalProperties": {"type": "string"}}
    assert schema_fits(obj(lang={"type": "string"}), expected) == []
    assert schema_fits(obj(n={"type": "integer"}), expected) == ["field 'n': produces integer, needs string"]
    produced = {"type": "object", "additionalProperties": {"type": "integer"}}
    assert schema_fits(produced, obj(text={"type": "string"})) == ["field 'text': produces integer, needs string"]


def test_array_items():
    strings = {"type": "array", "items": {"type": "string"}}
    assert schema_fits(strings, strings) == []
    assert schema_fits({"type": "array", "items": {"type": "integer"}}, strings) == [
        "field '[]': produces integer, needs string"
    ]
    assert schema_fits({"type": "array"}, strings) == ["field '[]': produces any type, needs string"]
    tokens = obj(["tokens"], tokens={"type": "array", "items": {"type": "integer"}})
    assert schema_fits(tokens, obj(["tokens"], tokens=strings)) == ["field 'tokens[]': produces integer, needs string"]


def test_enum_and_const():
    langs = {"enum": ["ru", "en"]}
    assert schema_fits({"const": "ru"}, langs) == []
    assert schema_fits({"enum": ["en", "ru"]}, langs) == []
    assert schema_fits({"enum": ["ru", "de"]}, langs) == ["top level: produces 'de', needs one of ['ru', 'en']"]
    assert schema_fits({"type": "string"}, langs) == ["top level: produces any value, needs one of ['ru', 'en']"]
    assert schema_fits({"const": 1}, {"enum": [1.0]}) == []
    assert schema_fits({"const": True}, {"enum": [1, True]}) == []
    assert schema_fits({"const": True}, {"type": "integer"}) == ["top level: produces boolean, needs integer"]


def test_const_implies_its_type():
    assert schema_fits({"const": "ru"}, {"type": "string"}) == []


def test_signature_keys():
    assert signature(TEXT) == frozenset({"type:object", "prop:text", "req:text"})
    assert signature({}) == frozenset()
    assert signature({"type": ["string", "null"]}) == frozenset({"type:string", "type:null"})


def compatible(produced, expected) -> bool:
    return signatures_compatible(parse_signature(signature(produced)), parse_signature(signature(expected)))


def test_signatures_compatible_spots_clashes():
    assert not compatible({"type": "string"}, TEXT)
    assert not compatible(obj(["a"], a={}), TEXT)
    assert not compatible({}, {"type": "string"})
    assert not compatible({"type": "number"}, {"type": "integer"})
    assert compatible({"type": "integer"}, {"type": "number"})
    assert compatible({"type": "object"}, TEXT)
    assert compatible({"type": "object", "required": ["text"]}, TEXT)
    assert compatible(False, TEXT)


# Small random schemas: signatures_compatible must never reject a pair that fits.
_leaf = st.sampled_from([{}, {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": ["string", "null"]},
                         {"const": "a"}, {"enum": ["a", "b"]}, {"type": "array", "items": {"type": "string"}}])
_names = st.sampled_from(["a", "b", "c"])
_objects = st.builds(
    lambda props, req, extra, typed: {
        **({"type": "object"} if typed else {}),
        **({"properties": props} if props else {}),
        **({"required": sorted(req)} if req else {}),
        **({} if extra is None else {"additionalProperties": extra}),
    },
    st.dictionaries(_names, _leaf, max_size=3),
    st.sets(_names, max_size=2),
    st.sampled_from([None, False, {"type": "string"}]),
    st.booleans(),
)
_schemas = st.one_of(_leaf, _objects)


@settings(max_examples=400)
@given(_schemas, _schemas)
def test_signatures_compatible_is_necessary_for_a_fit(produced, expected):
    if schema_fits(produced, expected) == []:
        assert compatible(produced, expected)


@given(_schemas)
def test_every_schema_fits_itself_and_the_empty_schema(schema):
    assert schema_fits(schema, schema) == []
    assert schema_fits(schema, {}) == []
