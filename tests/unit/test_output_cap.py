"""A node's output is measured as the JSON text it would become, shared references counted each time, and
refused past its cap (`bad_output`) before anything serialises or scans it whole; every JMESPath the
adapter backend, `json_map` and training evaluate is bounded."""
from __future__ import annotations

import json
import time

import pytest

from neira_factory.backends import Backends, ExecContext, ExecutionError
from neira_factory.backends.adapter import AdapterBackend
from neira_factory.backends.registry import MIB
from neira_factory.backends.script import ScriptBackend
from neira_factory.config import MAX_OUTPUT_BYTES_CEILING, Settings
from neira_factory.domain import json_values
from neira_factory.domain.json_values import MAX_DEPTH, serialized_size
from neira_factory.domain.templates import NodeTemplate
from neira_factory.training.objectives import OBJECTIVES, Result, compile_field, score

BIG = "я" * (4 * MIB)  # one 4 Mi-character string
SHARED = [BIG] * 200  # 800 Mi characters as JSON, in the memory of one string
TEN = "[" + ",".join(["@"] * 10) + "]"
BOMB = "@" + f"|{TEN}[]" * 8


class Returns:
    """A backend that returns what it was given."""

    name, interruptible = "script", True

    def __init__(self, result):
        self.result = result

    def run(self, template, data, ctx):
        return self.result


def node(**fields) -> NodeTemplate:
    """A script node (what `Returns` runs as) unless `fields` say otherwise."""
    return NodeTemplate.model_validate({"id": "analysis.t.v1", "version": "0.1.0", "analysis_type": "t",
                                        "backend": "script", "script": {"source": "fn run(input) { input }"},
                                        **fields})


def ctx(deadline: float | None = None) -> ExecContext:
    return ExecContext(side_effects=False, resolve=lambda node_id: None, execute=None, deadline=deadline)


def nested(depth: int):
    value: object = "leaf"
    for _ in range(depth):
        value = [1, {"k": value}]
    return value


# ---- serialized_size --------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [{"text": "xobdnas"}, [1, -22, 333, None, True, False], {"a": {"b": [[], {}]}},
                                   "plain", 10**30, [{"name": "Ann", "tags": ["a", "b"]}] * 50, []])
def test_the_size_is_about_the_json_text(value):
    text = json.dumps(value, separators=(",", ":"))
    assert len(text) <= serialized_size(value, 10**9) <= 1.5 * len(text) + 2


class Text(str):
    """Not a plain string: `problem` names it."""


@pytest.mark.parametrize("value", [{"text": "xobdnas", "n": -12345, "big": 10**30, "x": 1.5, "ok": True, "no": None},
                                   {}, "plain", "naïve"])
def test_a_flat_object_is_measured_in_one_pass_as_the_full_walk_measures_it(value):
    assert json_values.flat_size(value) == serialized_size(value, 10**9)
    assert json_values.problem(value, "output") is None


@pytest.mark.parametrize("value", [{"a": {"b": 1}}, [1], 1.5, {"x": float("nan")}, {"t": "a\ud800"}, "a\ud800",
                                   {1: "a"}, {"k": Text("a")}, {"t": "naïve"}, {"naïve": 1}])
def test_any_other_shape_or_anything_not_plain_is_left_to_the_full_walks(value):
    assert json_values.flat_size(value) is None


@pytest.mark.parametrize("output", [{"x": float("inf")}, {"t": "a\ud800"}, {"k": Text("a")}, {1: "a"}, "a\ud800"])
def test_a_flat_output_that_is_not_plain_json_is_bad_output(output):
    with pytest.raises(ExecutionError) as caught:
        Backends(Returns(output)).execute(node(), {}, ctx())
    assert caught.value.kind == "bad_output" and "not plain JSON" in caught.value.reason


def test_a_flat_output_past_the_cap_is_bad_output():
    # the object 1 + 2, its key 4 + 3, its value 95 + 2: 107 characters, as the full walk counts them
    assert serialized_size({"text": "x" * 95}, 10**9) == 107
    assert Backends(Returns({"text": "x" * 95}), max_output_bytes=107).execute(node(), {}, ctx()) == {"text": "x" * 95}
    with pytest.raises(ExecutionError) as caught:
        Backends(Returns({"text": "x" * 96}), max_output_bytes=107).execute(node(), {}, ctx())
    assert caught.value.kind == "bad_output" and caught.value.extra["limit_bytes"] == 107


def test_shared_references_count_each_time_and_the_walk_stops_at_the_cap():
    started = time.perf_counter()
    size = serialized_size(SHARED, 16 * MIB)
    assert time.perf_counter() - started < 0.01
    assert 16 * MIB < size < 16 * MIB + 2 * len(BIG)  # stopped a string past the cap, not 200 strings past it
    assert serialized_size([BIG, BIG], 10**10) == 2 * serialized_size(BIG, 10**10) + 4  # brackets, comma (+1)


def test_known_sizes_are_reused_and_recorded():
    part = [1, 2, 3]
    known: dict = {}
    whole = serialized_size([part, part], 100, known)
    assert known[id(part)][0] == serialized_size(part, 100) and known[id(part)][1] is part
    assert serialized_size([[part, part]], 100, known) == whole + 3


def test_a_cycle_is_measured_past_the_cap_not_forever():
    loop: list = []
    loop.append(loop)
    assert serialized_size(loop, 1000) > 1000


def test_a_shared_long_string_is_scanned_once_for_surrogates():
    started = time.perf_counter()
    assert json_values.problem(SHARED, "output") is None
    assert time.perf_counter() - started < 0.5  # 200 scans of 4 Mi characters take seconds
    assert json_values.problem([BIG, BIG + "\ud800"], "output")[0] == "output.1"


# ---- Backends.execute ------------------------------------------------------------------------------

def test_an_output_past_the_cap_is_bad_output_before_it_is_scanned(monkeypatch):
    monkeypatch.setattr(json_values, "problem", lambda *a, **k: pytest.fail("scanned an oversized output"))
    started = time.perf_counter()
    with pytest.raises(ExecutionError) as caught:
        Backends(Returns(SHARED)).execute(node(), {}, ctx())
    assert time.perf_counter() - started < 0.05
    assert caught.value.kind == "bad_output" and caught.value.extra["limit_bytes"] == 16 * MIB
    assert "NEIRA_MAX_OUTPUT_BYTES" in caught.value.reason and caught.value.extra["node"] == "analysis.t.v1"


@pytest.mark.parametrize(("setting", "memory_mb", "cap"), [(16 * MIB, 64, 16 * MIB), (16 * MIB, 2, 2 * MIB),
                                                           (1 * MIB, 64, 1 * MIB)])
def test_the_cap_is_the_setting_or_the_nodes_memory_whichever_is_lower(setting, memory_mb, cap):
    backends = Backends(Returns(None), max_output_bytes=setting)
    template = node(limits={"memory_mb": memory_mb})
    backends._by_name["script"].result = {"s": "x" * (cap - 100)}
    assert backends.execute(template, {}, ctx()) == {"s": "x" * (cap - 100)}
    backends._by_name["script"].result = {"s": "x" * cap}
    with pytest.raises(ExecutionError) as caught:
        backends.execute(template, {}, ctx())
    assert caught.value.kind == "bad_output" and caught.value.extra["limit_bytes"] == cap


@pytest.mark.parametrize("output", [nested(MAX_DEPTH // 2 - 1), {"a": [1, 2.5, None, True, "é"]}, "x" * 1000])
def test_deep_but_small_and_ordinary_outputs_pass(output):
    assert Backends(Returns(output)).execute(node(), {}, ctx()) == output


def test_the_rhai_pad_output_is_bad_output_within_its_budget():
    # memory_mb 4096: the script's own size limits let it build this; the output cap (16 MiB) stops it
    source = 'fn run(input) { let s = "я"; s.pad(4000000, "ю"); let a = []; a.pad(200, s); a }'
    template = node(script={"source": source}, limits={"memory_mb": 4096, "timeout_ms": 2000})
    started = time.monotonic()
    with pytest.raises(ExecutionError) as caught:
        Backends(ScriptBackend()).execute(template, {}, ctx(time.monotonic() + 2))
    assert time.monotonic() - started < 1.0
    assert caught.value.kind == "bad_output" and caught.value.extra["limit_bytes"] == 16 * MIB


def test_a_thrown_value_past_the_cap_is_left_out_of_the_error():
    source = 'fn run(input) { let s = "я"; s.pad(4000000, "ю"); let a = []; a.pad(200, s); throw a; }'
    template = node(script={"source": source}, limits={"memory_mb": 4096, "timeout_ms": 2000})
    started = time.monotonic()
    with pytest.raises(ExecutionError) as caught:
        Backends(ScriptBackend()).execute(template, {}, ctx(time.monotonic() + 2))
    assert time.monotonic() - started < 1.0
    assert "thrown" not in caught.value.extra and caught.value.extra["dropped"] == ["thrown"]
    assert len(json.dumps(caught.value.body())) < 10_000


def test_a_small_thrown_value_stays():
    template = node(script={"source": 'fn run(input) { throw #{why: "no"}; }'})
    with pytest.raises(ExecutionError) as caught:
        Backends(ScriptBackend()).execute(template, {}, ctx(time.monotonic() + 2))
    assert caught.value.extra["thrown"] == {"why": "no"} and "dropped" not in caught.value.extra


def test_the_setting_has_a_default_and_a_ceiling(monkeypatch):
    assert Settings().max_output_bytes == 16 * MIB == Backends().max_output_bytes
    monkeypatch.setenv("NEIRA_MAX_OUTPUT_BYTES", "1048576")
    assert Settings.from_env().max_output_bytes == MIB
    monkeypatch.setenv("NEIRA_MAX_OUTPUT_BYTES", str(MAX_OUTPUT_BYTES_CEILING + 1))
    with pytest.raises(ValueError, match="NEIRA_MAX_OUTPUT_BYTES"):
        Settings.from_env()


# ---- JMESPath in the adapter backend, json_map and training ------------------------------------------

def adapter_run(deadline: float | None = None, params: dict | None = None, **adapter) -> object:
    template = node(backend="adapter", script=None, adapter={"impl": "echo", **adapter}, params=params or {},
                    limits={"timeout_ms": 500})
    return Backends(AdapterBackend()).execute(template, {"a": list(range(10))}, ctx(deadline))


@pytest.mark.parametrize(("adapter", "field"), [
    ({"map": {"x": BOMB}}, "adapter.map.x"),
    ({"routes": [{"when": "length(to_string(@" + "|[@,@]" * 30 + ")) > `0`", "to": "reverse"}]},
     "adapter.routes.0.when"),
    ({"impl": "json_map", "params": {"map": {"value": {"out": BOMB}}}}, "params.map.out"),  # params: the node's
])
def test_jmespath_bombs_in_an_adapter_node_are_a_limit(adapter, field):
    started = time.monotonic()
    with pytest.raises(ExecutionError) as caught:
        adapter_run(time.monotonic() + 0.5, **adapter)
    assert time.monotonic() - started < 0.5
    assert caught.value.kind == "limit" and caught.value.extra["field"] == field, caught.value.reason
    assert caught.value.extra["node"] == "analysis.t.v1"


@pytest.mark.parametrize("deadline", [-0.001, None])
def test_adapter_searches_stop_at_the_context_deadline_else_the_nodes_timeout(deadline):
    slow = "a" + f"|[*].{TEN}|[]" * 8  # stopped by the clock, not by a size
    started = time.monotonic()
    with pytest.raises(ExecutionError) as caught:
        adapter_run(None if deadline is None else time.monotonic() + deadline, map={"x": slow})
    assert caught.value.kind in ("timeout", "limit")
    assert time.monotonic() - started < 0.5 + 0.5  # the node's timeout_ms, when the context has no deadline
    if deadline is not None:
        assert caught.value.kind == "timeout"


def test_an_ordinary_adapter_map_and_route_still_work():
    assert adapter_run(map={"text": "to_string(a[0])"}, routes=[{"when": "text == '0'", "to": "reverse"}]) == \
        {"text": "0"}


def test_a_training_field_that_breaks_a_bound_makes_the_example_uncomparable():
    results = [Result(0, {}, {"label": "a"}, {"label": "a"})]
    s = score(OBJECTIVES["accuracy"], compile_field("@" + f"|{TEN}[]" * 8 + "|label"), results)
    assert s.metric is None and "characters as JSON" in s.error
