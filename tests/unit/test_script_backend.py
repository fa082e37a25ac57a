"""ScriptBackend: Rhai nodes run under the node's limits; every failure is an ExecutionError of the right kind."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from neira_factory.backends.base import ExecContext, ExecutionError
from neira_factory.backends.script import CompileCache, ScriptBackend, engine_for, size_limits
from neira_factory.domain.shapes import parse_fabrication
from neira_factory.domain.templates import NodeTemplate
from neira_factory.services.dryrun import _matches

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "script" / "analysis.word_count.v1.yaml"
MARGIN_S = 0.25  # scheduling slack on a busy test machine
UNBOUNDED_OPS = 10_000_000_000


def template(source: str, **fields) -> NodeTemplate:
    return NodeTemplate(id="analysis.script_test.v1", version="0.1.0", analysis_type="script_test",
                        script={"source": source}, **fields)


def context(deadline: float | None = None) -> ExecContext:
    return ExecContext(side_effects=False, resolve=lambda node_id: None, execute=None, deadline=deadline)


@pytest.fixture
def backend() -> ScriptBackend:
    return ScriptBackend(CompileCache())


def failure(backend: ScriptBackend, t: NodeTemplate, data=None, ctx: ExecContext | None = None) -> ExecutionError:
    with pytest.raises(ExecutionError) as caught:
        backend.run(t, {} if data is None else data, ctx or context())
    assert caught.value.extra["node"] == t.id
    return caught.value


# -- running -------------------------------------------------------------------------------------

def test_input_becomes_a_map_and_the_result_json(backend):
    t = template('fn run(input) { #{n: input.items.len(), first: input.items[0].name, ok: input.flag, none: () } }')
    assert backend.run(t, {"items": [{"name": "a"}, {"name": "b"}], "flag": True}, context()) == {
        "n": 2, "first": "a", "ok": True, "none": None}


def test_params_are_constants(backend):
    t = template('const top = factor * 10;\nfn run(input) { #{scaled: input.x * global::factor, top: global::top, '
                 'label: global::label} }', params={"factor": {"value": 3}, "label": {"value": "hi"}})
    assert backend.run(t, {"x": 2}, context()) == {"scaled": 6, "top": 30, "label": "hi"}


def test_a_param_cannot_be_assigned(backend):
    t = template('factor = 2;\nfn run(input) { 1 }', params={"factor": {"value": 3}})
    err = failure(backend, t)
    assert err.kind == "exception" and err.extra["error"] == "ErrorAssignmentToConstant"


def test_operations_are_reported_in_usage(backend):
    ctx = context()
    backend.run(template("fn run(input) { let s = 0; for i in 0..100 { s += i; } s }"), {}, ctx)
    assert ctx.usage["operations"] > 100


def test_operations_are_reported_when_a_limit_stops_the_script(backend):
    ctx = context()
    with pytest.raises(ExecutionError):
        backend.run(template("fn run(input) { loop {} }", limits={"max_operations": 500}), {}, ctx)
    assert ctx.usage["operations"] > 500


def test_print_and_debug_go_to_the_log(backend):
    ctx = context()
    backend.run(template('fn run(input) { print("hello " + input.name); debug("x"); 1 }'), {"name": "Ada"}, ctx)
    assert ctx.log == ["hello Ada", '"x"']


def test_the_log_is_kept_when_the_script_fails(backend):
    ctx = context()
    with pytest.raises(ExecutionError):
        backend.run(template('fn run(input) { print("before"); throw "after"; }'), {}, ctx)
    assert ctx.log == ["before"]


# -- errors ----------------------------------------------------------------------------------------

def test_endless_loop_times_out_at_the_node_timeout(backend):
    t = template("fn run(input) { loop {} }", limits={"timeout_ms": 50, "max_operations": UNBOUNDED_OPS})
    started = time.monotonic()
    err = failure(backend, t)
    assert time.monotonic() - started < 0.05 + MARGIN_S
    assert err.kind == "timeout" and err.status == 504
    assert err.extra["error"] == "ErrorTerminated" and err.extra["limit_ms"] == 50


def test_the_deadline_shortens_the_timeout(backend):
    t = template("fn run(input) { loop {} }", limits={"timeout_ms": 60_000, "max_operations": UNBOUNDED_OPS})
    started = time.monotonic()
    err = failure(backend, t, ctx=context(deadline=time.monotonic() + 0.05))
    assert time.monotonic() - started < 0.05 + MARGIN_S
    assert err.kind == "timeout" and err.extra["limit_ms"] <= 50


def test_a_past_deadline_times_out_at_once(backend):
    ctx = context(deadline=time.monotonic() - 1)
    started = time.monotonic()
    err = failure(backend, template("fn run(input) { 1 }"), ctx=ctx)
    assert time.monotonic() - started < 0.05
    assert err.kind == "timeout"
    assert "operations" not in ctx.usage


def test_too_many_operations_is_a_limit(backend):
    err = failure(backend, template("fn run(input) { let i = 0; while true { i += 1; } }",
                                    limits={"max_operations": 1000}))
    assert err.kind == "limit" and err.extra["error"] == "ErrorTooManyOperations"
    assert "max_operations 1000" in err.reason


def test_string_doubling_is_a_limit(backend):
    err = failure(backend, template('fn run(input) { let s = "ab"; loop { s += s; } }',
                                    limits={"memory_mb": 1, "max_operations": UNBOUNDED_OPS}))
    assert err.kind == "limit" and err.extra["error"] == "ErrorDataTooLarge"
    assert "string" in err.reason


def test_array_growth_is_a_limit(backend):
    err = failure(backend, template("fn run(input) { let a = []; loop { a.push(1); } }",
                                    limits={"memory_mb": 1, "max_operations": UNBOUNDED_OPS}))
    assert err.kind == "limit" and err.extra["error"] == "ErrorDataTooLarge"


def test_deep_recursion_is_a_limit(backend):
    err = failure(backend, template("fn down(n) { down(n + 1) }\nfn run(input) { down(0) }"))
    assert err.kind == "limit" and err.extra["error"] == "ErrorStackOverflow"


def test_throw_is_an_exception_naming_the_value_and_position(backend):
    err = failure(backend, template('fn run(input) {\n    throw "boom";\n}'))
    assert err.kind == "exception" and err.status == 502
    assert "boom" in err.reason and "line 2" in err.reason
    assert err.extra["thrown"] == "boom" and err.extra["line"] == 2


def test_a_thrown_map_is_kept_as_json(backend):
    err = failure(backend, template('fn run(input) { throw #{code: 7, why: "no"}; }'))
    assert err.kind == "exception" and err.extra["thrown"] == {"code": 7, "why": "no"}


@pytest.mark.parametrize(("source", "rhai_kind"), [
    ("fn run(input) {\n  1 / 0\n}", "ErrorArithmetic"),
    ("fn run(input) { nope(1) }", "ErrorFunctionNotFound"),
    ("fn run(input) { 9223372036854775807 + 1 }", "ErrorArithmetic"),
    ("fn helper(x) {\n  x.missing.deeper\n}\nfn run(input) { helper(1) }", "ErrorDotExpr"),
])
def test_runtime_errors_are_exceptions_with_a_position(backend, source, rhai_kind):
    err = failure(backend, template(source))
    assert err.kind == "exception" and err.extra["error"] == rhai_kind
    assert err.extra["line"] >= 1 and "line" in err.reason


def test_a_syntax_error_is_an_exception(backend):
    err = failure(backend, template("fn run(input) {\n  let x = ;\n}"))
    assert err.kind == "exception" and err.extra["error"] == "ErrorParsing"
    assert err.extra["line"] == 2 and "syntax error" in err.reason


def test_no_run_function_is_an_exception(backend):
    err = failure(backend, template("fn main(input) { 1 }"))
    assert err.kind == "exception" and "fn run(input)" in err.reason


@pytest.mark.parametrize(("source", "what"), [
    ('fn run(input) { Fn("run") }', "function pointer"),
    ("fn run(input) { #{x: [1, 1.0 / 0.0]} }", "non-finite"),
    ("fn run(input) { 1..3 }", "a range"),
    ("fn run(input) { timestamp() }", "a timestamp"),
])
def test_a_result_that_is_not_json_is_bad_output(backend, source, what):
    err = failure(backend, template(source))
    assert err.kind == "bad_output" and what in err.reason


def test_input_a_script_cannot_hold_is_bad_input(backend):
    err = failure(backend, template("fn run(input) { input }"), data={"n": 2**70})
    assert err.kind == "bad_input" and err.status == 422


def test_a_hostile_script_only_ever_raises_execution_errors(backend):
    for source in ["fn run(input) { run(input) }", "fn run(input) { let a = [1]; loop { a += a; } }",
                   "fn run(input) { eval(\"let x = \") }", "fn run(input) { parse_json(\"{\") }",
                   "fn run(input) { " + "(" * 500 + "1" + ")" * 500 + " }"]:
        with pytest.raises(ExecutionError):
            backend.run(template(source, limits={"memory_mb": 1}), {}, context())


# -- limits and cache --------------------------------------------------------------------------------

def test_size_limits_follow_memory_mb():
    assert size_limits(64) == {"max_string_size": 16 * 2**20, "max_array_size": 2**20, "max_map_size": 2**20}
    engine = engine_for(template("fn run(input) { 1 }", limits={"memory_mb": 1, "max_operations": 77,
                                                              "timeout_ms": 900}).limits, timeout_ms=30)
    assert engine.limits.max_string_size == 2**18 and engine.limits.max_array_size == 2**14
    assert engine.limits.max_operations == 77 and engine.limits.timeout_ms == 30
    assert engine.limits.max_call_levels == 64


def test_the_compiled_script_is_cached_per_source_and_limits():
    cache = CompileCache()
    t = template("fn run(input) { input.x + 1 }")
    first = cache.get(t.script.source, t.limits)
    assert cache.get(t.script.source, t.limits) is first
    assert cache.get(t.script.source, t.limits.model_copy(update={"timeout_ms": 5})) is not first
    assert cache.get("fn run(input) { input.x + 2 }", t.limits) is not first
    assert (cache.hits, cache.misses) == (1, 3)


def test_runs_with_different_deadlines_share_the_compiled_code():
    cache = CompileCache()
    backend = ScriptBackend(cache)
    t = template("fn run(input) { input.x * 2 }")
    for left in (0.9, 0.5, 0.2):
        assert backend.run(t, {"x": 21}, context(deadline=time.monotonic() + left)) == 42
    ast = cache.get(t.script.source, t.limits)
    assert len(ast._compiled) == 1, "one compiled module for every timeout"


def test_the_cache_evicts_the_least_recently_used():
    cache = CompileCache(size=2)
    limits = template("fn run(input) { 1 }").limits
    a = cache.get("fn run(input) { 1 }", limits)
    cache.get("fn run(input) { 2 }", limits)
    cache.get("fn run(input) { 1 }", limits)
    cache.get("fn run(input) { 3 }", limits)
    assert cache.get("fn run(input) { 1 }", limits) is a
    assert len(cache._items) == 2


# -- check() ---------------------------------------------------------------------------------------

def codes(risks) -> list[tuple[str, str]]:
    return [(r.code, r.severity) for r in risks]


def test_check_reports_a_syntax_error_with_its_position(backend):
    risks = backend.check(template("fn run(input) {\n  let x = ;\n}"))
    assert codes(risks) == [("syntax_error", "blocking")]
    assert risks[0].field == "script.source" and risks[0].message.startswith("line 2, column ")


def test_check_reports_a_missing_run(backend):
    risks = backend.check(template("fn run(a, b) { a + b }"))
    assert codes(risks) == [("no_run_function", "blocking")]
    assert "2 parameter" in risks[0].message


def test_check_reports_an_empty_script(backend):
    risks = backend.check(template("   \n"))
    assert codes(risks) == [("no_script", "blocking")] and risks[0].field == "script.source"


def test_check_warns_about_unknown_functions(backend):
    risks = backend.check(template(
        "fn helper(x) { x }\n"
        "fn run(input) {\n"
        "  let f = |y| y + 1;\n"
        "  let m = #{go: Fn(\"helper\")};\n"
        "  helper(1) + f(2) + m.go(3) + input.text.len() + nothere(1) + sub_string(\"a\") + input.text.nomethod()\n"
        "    + Fn(\"ghost\").call()\n"
        "}"))
    assert codes(risks) == [("unknown_function", "warning")] * 4
    messages = [r.message for r in risks]
    assert "nothere()" in messages[0] and messages[0].startswith("line 5, ")
    assert "sub_string" in messages[1] and "exists with 2, 3" in messages[1]
    assert ".nomethod()" in messages[2]
    assert "ghost" in messages[3]


def test_check_reports_a_param_a_script_cannot_hold(backend):
    risks = backend.check(template("fn run(input) { 1 }", params={"big": {"value": 2**70}}))
    assert codes(risks) == [("bad_param", "blocking")] and risks[0].field == "params.big"


def test_check_of_a_good_script_finds_nothing(backend):
    assert backend.check(template("fn run(input) { let words = input.text.split(); words.len() }")) == []


def test_no_side_effects(backend):
    assert backend.side_effects(template("fn run(input) { 1 }")) is False
    assert backend.interruptible is True and backend.name == "script"


def test_the_word_count_example_gives_its_expected_outputs(backend):
    t = parse_fabrication(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))).template
    assert t.backend == "script" and backend.check(t) == []
    assert t.examples
    for example in t.examples:
        output = backend.run(t, example.input, context())
        assert _matches(example.expected, output), (example.expected, output)
