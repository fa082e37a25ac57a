"""json_map."""

from __future__ import annotations

import pytest

from neira_factory.library import ImplError

DATA = {"user": {"name": "Аня", "tags": ["a", "b"]}, "items": [{"n": 1}, {"n": 2}]}


def test_maps_fields_with_jmespath(call):
    params = {"map": {"name": "user.name", "count": "length(items)", "ns": "items[].n", "missing": "user.age"}}
    assert call("json_map", DATA, params) == {"name": "Аня", "count": 2, "ns": [1, 2], "missing": None}


def test_output_is_independent_of_the_map_order(call):
    assert call("json_map", DATA, {"map": {"b": "user.tags[0]", "a": "user.tags[1]"}}) == {"a": "b", "b": "a"}


@pytest.mark.parametrize(
    ("mapping", "needle"),
    [
        ({"x": "a["}, "bad JMESPath"),
        ({"x": ""}, "non-empty"),
        ({"x": 3}, "non-empty"),
        ({"x": "nosuchfn(a)"}, "Unknown function"),
        ({"x": "abs(a, b)"}, "argument"),
    ],
)
def test_bad_expressions_are_bad_params(call, mapping, needle):
    with pytest.raises(ImplError) as caught:
        call("json_map", DATA, {"map": mapping})
    assert caught.value.code == "bad_params"
    assert caught.value.field == "params.map.x"
    assert needle in caught.value.reason


@pytest.mark.parametrize("params", [{}, {"map": {}}, {"map": ["a"]}])
def test_missing_map_is_bad_params(call, params):
    with pytest.raises(ImplError) as caught:
        call("json_map", DATA, params)
    assert caught.value.code == "bad_params"


def test_type_error_on_this_input_is_bad_input(call):
    with pytest.raises(ImplError) as caught:
        call("json_map", DATA, {"map": {"x": "abs(user.name)"}})
    assert caught.value.code == "bad_input"


def test_non_object_input_is_bad_input(call):
    with pytest.raises(ImplError) as caught:
        call("json_map", [1, 2], {"map": {"x": "[0]"}})
    assert caught.value.code == "bad_input"
