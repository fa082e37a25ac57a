"""Backends.execute: what leaves a backend is plain JSON or an ExecutionError, whatever the backend does."""
from __future__ import annotations

import math

import pytest

from neira_factory.backends import Backends, ExecContext, ExecutionError
from neira_factory.domain.json_values import MAX_DEPTH
from neira_factory.domain.templates import NodeTemplate


class Returns:
    """A backend that returns (or raises) whatever it was given."""

    name, interruptible = "script", True

    def __init__(self, result):
        self.result = result

    def run(self, template, data, ctx):
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def nested(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


TEMPLATE = NodeTemplate.model_validate({"id": "analysis.t.v1", "version": "0.1.0", "analysis_type": "t",
                                        "backend": "script", "script": {"source": "fn run(input) { input }"}})
CTX = ExecContext(side_effects=False, resolve=lambda node_id: None, execute=None)


def execute(result):
    return Backends(Returns(result)).execute(TEMPLATE, {}, CTX)


@pytest.mark.parametrize("output", [{"a": [1, 2.5, None, True, "é"]}, nested(MAX_DEPTH - 1), (1, 2)])
def test_plain_json_passes(output):
    assert execute(output) == output


@pytest.mark.parametrize(("output", "where"), [
    ({"x": [math.nan]}, "output.x.0: a non-finite number"),
    ({"t": "a\ud800"}, "output.t: a string with a lone surrogate"),
    (nested(MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels"),
    ({1: "x"}, "a key that is not a plain string"),
    ({"s": {1, 2}}, "output.s: a set"),
])
def test_output_that_is_not_plain_json_is_bad_output(output, where):
    with pytest.raises(ExecutionError) as caught:
        execute(output)
    assert caught.value.kind == "bad_output" and where in caught.value.reason, caught.value.reason
    assert caught.value.extra["node"] == TEMPLATE.id


def test_a_stray_exception_is_an_exception_error_naming_the_node():
    with pytest.raises(ExecutionError) as caught:
        execute(KeyError("boom"))
    assert caught.value.kind == "exception" and "KeyError" in caught.value.reason
    assert caught.value.extra["node"] == TEMPLATE.id


def test_execution_errors_pass_unchanged():
    error = ExecutionError("too slow", kind="timeout", node=TEMPLATE.id)
    with pytest.raises(ExecutionError) as caught:
        execute(error)
    assert caught.value is error
