"""Python API: eval/run/compile/call_fn/eval_expression, scopes, constants, errors."""

import sys
import threading

import pytest

from neira_factory.rhai import Engine, RhaiError, Scope
from neira_factory.rhai.runtime.values import Char, to_python


def test_eval_converts_values(engine):
    assert engine.eval("[1, 'c', #{a: ()}, 2.5]") == [1, "c", {"a": None}, 2.5]


def test_results_nested_deeper_than_the_recursion_limit_are_converted():
    """to_python works without recursion: a script can build arrays and maps nested
    deeper than Python's recursion limit (the conversion used to raise RecursionError)."""
    deep = []
    for i in range(sys.getrecursionlimit() * 3):
        deep = [deep, Char("c"), {"k": bytearray(b"x"), "i": i}]
    out, depth = to_python(deep), 0
    while out:
        assert type(out[1]) is str and out[2] == {"k": b"x", "i": out[2]["i"]}
        out, depth = out[0], depth + 1
    assert depth == sys.getrecursionlimit() * 3


def test_compile_and_call_fn(engine):
    ast = engine.compile("const BASE = 10; fn add(x, y) { global::BASE + x + y } fn hi() { `hi` }")
    assert engine.call_fn(ast, "add", 1, 2) == 13
    assert engine.call_fn(ast, "hi") == "hi"
    with pytest.raises(RhaiError) as info:
        engine.call_fn(ast, "missing")
    assert info.value.kind == "ErrorFunctionNotFound"


def test_call_fn_args_are_converted_in(engine):
    ast = engine.compile("fn total(a) { a.reduce(|s, x| s + x, 0) }")
    assert engine.call_fn(ast, "total", [1, 2, 3]) == 6


def test_constants_are_visible_and_read_only(engine):
    assert engine.eval("NAME + '!'", constants={"NAME": "x"}) == "x!"
    with pytest.raises(RhaiError) as info:
        engine.eval("NAME = 1", constants={"NAME": "x"})
    assert info.value.kind == "ErrorAssignmentToConstant"
    ast = engine.compile("fn f() { global::LIMIT * 2 }")
    assert engine.call_fn(ast, "f", constants={"LIMIT": 21}) == 42


def test_scope_variables_persist(engine):
    scope = Scope({"x": 1})
    engine.run("x += 1; let y = x * 10;", scope=scope)
    assert scope.get_value("x") == 2 and scope.get_value("y") == 20
    assert engine.eval("x + y", scope=scope) == 22


def test_scope_dict(engine):
    assert engine.eval("a * b", scope={"a": 6, "b": 7}) == 42


def test_eval_expression_rejects_statements(engine):
    assert engine.eval_expression("1 + 2 * 3") == 7
    for bad in ("let x = 1", "while true {}", "x = 1"):
        with pytest.raises(RhaiError) as info:
            engine.eval_expression(bad)
        assert info.value.kind == "ErrorParsing"


def test_throw_carries_value_and_position(engine):
    with pytest.raises(RhaiError) as info:
        engine.run("let x = 1;\nif x > 0 {\n    throw #{code: 7};\n}")
    err = info.value
    assert err.kind == "ErrorRuntime" and err.value == {"code": 7}
    assert err.line == 3 and err.column > 0


def test_try_catch(engine):
    assert engine.eval("try { throw 5; } catch (e) { e * 2 }") == 10
    assert engine.eval("try { 1 / 0 } catch (e) { type_of(e) }") == "map"
    assert engine.eval("fn f() { throw \"x\" } try { f() } catch (e) { e }") == "x"
    with pytest.raises(RhaiError) as info:
        engine.run("try { 1 / 0; } catch { throw; }")
    assert info.value.kind == "ErrorArithmetic"


def test_parse_error_position(engine):
    with pytest.raises(RhaiError) as info:
        engine.compile("let x = 1;\nlet = 2;")
    assert info.value.kind == "ErrorParsing" and info.value.line == 2


def test_error_in_function_call_wraps_inner(engine):
    with pytest.raises(RhaiError) as info:
        engine.eval("fn f(x) { x / 0 } f(1)")
    assert info.value.kind == "ErrorInFunctionCall"
    assert info.value.inner_error.kind == "ErrorArithmetic"


def test_shared_engine_across_threads():
    engine = Engine(max_operations=100_000)
    ast = engine.compile("fn fib(n) { if n < 2 { n } else { fib(n-1) + fib(n-2) } } fib(N)")
    results, errors = {}, []

    def work(n):
        try:
            log = []
            results[n] = engine.eval_ast(ast, constants={"N": n}, log=log)
        except RhaiError as e:  # pragma: no cover - failure is reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(5, 15)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    fib = [0, 1]
    while len(fib) < 20:
        fib.append(fib[-1] + fib[-2])
    assert results == {n: fib[n] for n in range(5, 15)}
