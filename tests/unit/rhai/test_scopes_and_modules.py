"""The caller's scope (`eval`, `name!(args)`, `call!(f, args)`) and modules (`import`, `export`, `private`,
`m::name`, resolvers, cycles, depth and size bounds)."""

import pytest

from neira_factory.rhai import (Engine, Module, RhaiError, Scope, SourceModuleResolver,
                                StaticModuleResolver)
from neira_factory.rhai.modules import MAX_MODULE_CHARS
from neira_factory.rhai.runtime.modules import MAX_MODULE_DEPTH

from .conftest import Err, check_cases

UTIL = """
const BASE = 10;
fn add(x) { x + base() }
fn base() { global::BASE }
private fn hidden() { 1 }
export const LIMIT = 5;
let total = 1;
total = add(total);
export total as sum;
let total = 0;
export total as zero;
"""


def modules(**extra):
    return Engine().set_module_resolver(SourceModuleResolver({"util": UTIL, **extra}))


def test_eval_runs_in_the_callers_scope(engine):
    check_cases(engine, [
        ('let a = 1; eval("a += 41"); a', 42),
        ('let a = 1; eval("let a = 5; let b = 2"); a * b', 10),
        ('let a = 1; eval("{ let a = 7; }"); a', 1),
        ('fn f(x) { eval("let y = x * 2"); y + x } f(4)', 12),
        ('fn twice(x) { x * 2 } let s = "twice(n)"; let n = 4; eval(s)', 8),
        ('const C = 1; eval("C = 2")', Err("ErrorAssignmentToConstant")),
        ('let f = |x| { eval("let z = x + 1"); z }; f.call(1)', 2),
        ('eval("let q = 3"); q', 3),
    ])


def test_eval_declarations_end_with_their_block(engine):
    check_cases(engine, [
        ('let x = 999; eval("let x = x - 1000"); let y = if x < 0 { eval("let x = 42"); x } else { 0 }; x + y', 41),
        ('let foo = 42; { { { eval("let foo = 123"); } } } foo', 42),
        ('let x = 1; { eval("x = 5"); } x', 5),
        ('let x = 1; for i in 0..3 { eval("let x = i"); x += 10; } x', 1),
        ('let x = 1; let r = { eval("let x = 7"); x }; r * 10 + x', 71),
        ('let x = 1; let f = || { eval("let x = 3"); x }; f.call() * 10 + x', 31),
        ('const XYZ = 123; fn foo() { global::XYZ } { eval("const XYZ = 42;"); } foo()', 123),
        ('const XYZ = 123; fn foo() { global::XYZ } eval("const XYZ = 42;"); foo()', 42),
    ])


def test_eval_defines_variables_in_a_scope_kept_across_runs(engine):
    scope = Scope()
    engine.run('eval("let kept = 41")', scope=scope)
    assert engine.eval("kept + 1", scope=scope) == 42


def test_bang_calls_run_in_the_callers_scope(engine):
    check_cases(engine, [
        ("fn f() { x + y } let x = 1; let y = 2; f!()", 3),
        ("fn f(n) { x += n; let z = 1; x } let x = 40; f!(2) + x", 84),
        ("fn f() { let x = 9; } let x = 1; f!(); x", 1),
        ('fn f(n) { x *= n; } let x = 3; let p = Fn("f"); call!(p, 5); x', 15),
        ("fn f(n) { x *= n; } let x = 3; let p = Fn(\"f\").curry(2); call!(p); x", 6),
        ("fn f() { x } let x = 1; f()", Err("ErrorInFunctionCall")),
        ("fn f() { undefined_here } f!()", Err("ErrorInFunctionCall")),
        ("fn g() { let x = 5; f!() } fn f() { x + 1 } g()", 6),
        ("let x = 1; let c = || { fn_in!(); x }; fn fn_in() { x = 7; } c.call()", 7),
    ])
    with pytest.raises(RhaiError) as info:
        engine.compile("fn f() {} let y = 1; y.f!();")
    assert info.value.kind == "ErrorParsing"


def test_modules_export_variables_and_public_functions():
    engine = modules()
    assert engine.eval('import "util" as u; u::add(1) + u::LIMIT + u::sum + u::zero') == 11 + 5 + 11
    assert engine.eval('fn f() { u::add(0) } import "util" as u; f()') == 10
    assert engine.eval('fn f() { import "util" as m; m::LIMIT } f()') == 5
    assert engine.eval('{ import "util" as u; } 1') == 1
    check_cases(engine, [
        ('import "util" as u; u::hidden()', Err("ErrorFunctionNotFound")),
        ('import "util" as u; u::nope', Err("ErrorVariableNotFound")),
        ('import "none" as n;', Err("ErrorModuleNotFound")),
        ('u::LIMIT', Err("ErrorModuleNotFound")),
        ("import 42 as n;", Err("ErrorMismatchDataType")),
    ])


def test_module_functions_run_in_their_module():
    engine = Engine()
    env = engine.module_from_ast(engine.compile("const SECRET = 42; fn foo(x) { global::SECRET + x } "
                                                "fn bar(x) { foo(x) } fn run(f) { call(f) }"))
    engine.set_module_resolver(StaticModuleResolver({"env": env}))
    check_cases(engine, [
        ('const SECRET = 0; fn foo(x) { x - 1 } import "env" as m; m::bar(1)', 43),
        ('fn mine() { 7 } import "env" as m; m::run(Fn("mine"))', 7),
        ('import "env" as m; bar(1)', Err("ErrorFunctionNotFound")),
    ])


def test_module_values_are_copies():
    engine = modules(arr="export const A = [1, 2];")
    assert engine.eval('import "arr" as a; let x = a::A; x.push(3); a::A.push(4); a::A') == [1, 2]


def test_export_is_only_allowed_at_the_top_level(engine):
    for script in ("let x = 1; { export x; }", "fn f(x) { export x; }"):
        with pytest.raises(RhaiError) as info:
            engine.compile(script)
        assert info.value.kind == "ErrorParsing"
    assert engine.eval("let x = 1; export x as y; x") == 1  # a no-op outside a module


def test_without_a_resolver_imports_fail(engine):
    with pytest.raises(RhaiError) as info:
        engine.run('import "anything" as m;')
    assert info.value.kind == "ErrorModuleNotFound"


def test_static_resolver_and_module_from_ast():
    engine = Engine()
    built = engine.module_from_ast(engine.compile(UTIL))
    assert built.vars == {"LIMIT": 5, "sum": 11, "zero": 0} and built.contains_fn("add", 1)
    assert not built.contains_fn("hidden", 0)
    host = Module().set_var("answer", 42).set_sub_module("inner", Module().set_var("deep", "yes"))
    assert host.get_var("answer") == 42 and host.get_var("missing") is None
    engine.set_module_resolver(StaticModuleResolver({"util": built}).insert("host", host))
    assert engine.eval('import "host" as h; h::answer + len(h::inner::deep)') == 45
    assert engine.eval('import "util" as u; u::add(5)') == 15


def test_imports_are_bounded():
    chain = {f"m{i}": f'import "m{i + 1}" as n; export const v = n::v;' for i in range(MAX_MODULE_DEPTH + 2)}
    engine = modules(a='import "b" as b;', b='import "a" as a;', big="//" + "x" * MAX_MODULE_CHARS,
                     bad="let = ;", throws='throw "no";', **chain)
    check_cases(engine, [
        ('import "a" as a;', Err("ErrorTooManyModules")),
        ('import "m0" as m;', Err("ErrorTooManyModules")),
        ('import "big" as m;', Err("ErrorInModule")),
        ('import "bad" as m;', Err("ErrorInModule")),
        ('import "throws" as m;', Err("ErrorInModule")),
    ])
    with pytest.raises(RhaiError) as info:
        Engine(max_operations=1000).set_module_resolver(
            SourceModuleResolver({"spin": "loop {}"})).run('import "spin" as s;')
    assert info.value.kind == "ErrorTooManyOperations"
