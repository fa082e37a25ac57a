"""Limits (max_operations, call levels, expression depth, data sizes, variables,
timeout) and hostile scripts: every one must end in a RhaiError, quickly."""

import time

import pytest

from neira_factory.rhai import Engine, RhaiError


def kind_of(engine, script):
    with pytest.raises(RhaiError) as info:
        engine.run(script)
    return info.value.kind


def test_operation_limit_stops_endless_loops():
    engine = Engine(max_operations=10_000)
    for script in ("loop {}", "while true {}", "do {} while true", "let x = 0; loop { x += 1; }",
                   "for x in 0..1_000_000_000 {}", "fn f() { loop {} } f()",
                   "let f = || { loop {} }; f.call()", "[1, 2].map(|x| { loop {} })"):
        assert kind_of(engine, script) == "ErrorTooManyOperations", script


def test_operation_limit_allows_small_scripts():
    engine = Engine(max_operations=500)
    engine.run("let x = 0; while x < 20 { x += 1; }")


def test_timeout_terminates():
    engine = Engine(timeout_ms=100)
    t0 = time.monotonic()
    assert kind_of(engine, "loop {}") == "ErrorTerminated"
    assert time.monotonic() - t0 < 2


def test_runaway_recursion():
    assert kind_of(Engine(), "fn f(n) { f(n + 1) } f(0)") == "ErrorStackOverflow"
    assert kind_of(Engine(max_call_levels=8), "fn f(n) { if n == 0 { 0 } else { f(n - 1) } } f(9)") \
        == "ErrorStackOverflow"
    Engine(max_call_levels=8).run("fn f(n) { if n == 0 { 0 } else { f(n - 1) } } f(6)")
    assert kind_of(Engine(max_call_levels=0), "fn f(n) { f(n + 1) } f(0)") == "ErrorStackOverflow"
    assert kind_of(Engine(), "let f = |g| g.call(g); f.call(f)") == "ErrorStackOverflow"


def test_deep_nesting_is_refused_at_parse_time():
    engine = Engine()
    for script in ("(" * 500 + "1" + ")" * 500, "[" * 500 + "]" * 500, "{" * 500 + "}" * 500,
                   "-" * 2000 + "1", "1" + " + 1" * 200, "if true {" * 300 + "}" * 300):
        with pytest.raises(RhaiError) as info:
            engine.compile(script)
        assert info.value.kind == "ErrorParsing" and info.value.inner == "ExprTooDeep", script[:20]


def test_unlimited_depth_never_leaks_recursion_error():
    engine = Engine(max_expr_depths=0)
    with pytest.raises(RhaiError):
        engine.eval("(" * 5000 + "1" + ")" * 5000)


def test_data_size_limits():
    engine = Engine(max_string_size=100, max_array_size=100, max_map_size=10, max_operations=100_000)
    assert kind_of(engine, 'let s = "ab"; loop { s += s; }') == "ErrorDataTooLarge"
    assert kind_of(engine, "let a = [1]; loop { a += a; }") == "ErrorDataTooLarge"
    assert kind_of(engine, "let a = []; loop { a.push(1); }") == "ErrorDataTooLarge"
    assert kind_of(engine, 'let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; }') == "ErrorDataTooLarge"
    assert kind_of(engine, '"x".pad(1000, "y")') == "ErrorDataTooLarge"
    with pytest.raises(RhaiError) as info:
        engine.compile("[" + "1," * 200 + "]")
    assert info.value.inner == "LiteralTooLarge"


def test_doubling_is_stopped_by_size_limits():
    engine = Engine(max_operations=200, max_string_size=1 << 20, max_array_size=1 << 16)
    assert kind_of(engine, 'let s = "ab"; loop { s += s; }') == "ErrorDataTooLarge"
    assert kind_of(engine, "let a = [1, 2]; loop { a += a; }") == "ErrorDataTooLarge"


def test_large_sized_arrays_stay_fast():
    engine = Engine(max_array_size=200_000, max_operations=10_000_000)
    t0 = time.monotonic()
    assert engine.eval("let a = []; for i in 0..50_000 { a.push(i); } a.len()") == 50_000
    assert time.monotonic() - t0 < 5


def test_max_variables():
    engine = Engine(max_variables=3)
    engine.run("let a = 1; let b = 2; let c = 3;")
    assert kind_of(engine, "let a = 1; let b = 2; let c = 3; let d = 4;") == "ErrorTooManyVariables"


def test_limit_errors_cannot_be_caught():
    engine = Engine(max_operations=1000)
    assert kind_of(engine, "try { loop {} } catch { 1 }") == "ErrorTooManyOperations"


def test_huge_literals():
    engine = Engine()
    with pytest.raises(RhaiError):
        engine.compile("99999999999999999999999999")
    assert kind_of(engine, "2 ** 999999999999") == "ErrorArithmetic"
    assert engine.eval("1e400") == float("inf")
