"""Language options (Rhai's ``set_allow_*`` and ``set_strict_variables``) checked when compiling."""

import pytest

from neira_factory.rhai import Engine, RhaiError, Scope
from neira_factory.rhai.options import LanguageOptions


def refused(engine, script, **kwargs):
    with pytest.raises(RhaiError) as info:
        engine.compile(script, **kwargs)
    return info.value.kind == "ErrorParsing"


@pytest.mark.parametrize("option, refused_script, allowed_script", [
    ("allow_if_expression", "let v = if a { 1 } else { 2 };", "if a { b(1) } else if c { b(2) } else { b(3) }"),
    ("allow_statement_expression", "let v = { let z = 1; z };", "{ let z = 1; print(z); } if a { 1 }"),
    ("allow_switch_expression", "let v = switch a { 1 => 2, _ => 3 };", "switch a { 1 => b(2), _ => { b(3) } }"),
    ("allow_loop_expressions", "let v = loop { break 1; };", "let i = 0; while i < 3 { i += 1; if i > 1 { break; } }"),
    ("allow_anonymous_fn", "let f = |x| x + 1;", "fn f(x) { x + 1 } let g = Fn(\"f\");"),
    ("allow_looping", "do { x += 1 } while x < 3;", "fn f(n) { if n > 0 { f(n - 1) } }"),
    ("allow_looping", "for i in 0..3 { }", "let x = [1, 2].map(|v| v * 2);"),
    ("allow_shadowing", "let x = 1; if x > 0 { let x = 2; }", "let x = 1; x = 2; { let y = 1; } let y = 2;"),
    ("allow_shadowing", "fn f(a) { let a = 1; a }", "fn f(a) { let b = a; b } let a = 2;"),
])
def test_each_allow_option_refuses_only_its_feature(option, refused_script, allowed_script):
    default = Engine()
    off = Engine(options=LanguageOptions(**{option: False}))
    default.compile(refused_script)
    assert refused(off, refused_script)
    off.compile(allowed_script)


def test_the_options_reach_eval_texts():
    engine = Engine(options=LanguageOptions(allow_looping=False))
    with pytest.raises(RhaiError) as info:
        engine.eval('eval("loop { break; }")')
    assert info.value.kind in ("ErrorParsing", "ErrorInFunctionCall")
    assert engine.eval('eval("40 + 2")') == 42


def test_shadowing_a_scope_variable_is_refused():
    engine = Engine(options=LanguageOptions(allow_shadowing=False))
    scope = Scope().push("x", 1)
    with pytest.raises(RhaiError):
        engine.run("let x = 2;", scope=scope)
    engine.run("let y = x + 1;", scope=scope)
    assert scope.get_value("y") == 2


STRICT = Engine(options=LanguageOptions(strict_variables=True))


@pytest.mark.parametrize("script", [
    "let x = y;", "fn f(a) { a + b }", "let x = 1; fn f() { x }", "let f = |a| a + z;",
    "fn f() { |y| { || x + y } }", "{ let a = 1; } a", "for i in 0..2 {} i", "print(m::v);",
    "try { throw 1 } catch (e) {} e",
])
def test_strict_variables_refuses_what_nothing_declares(script):
    assert refused(STRICT, script)


@pytest.mark.parametrize("script", [
    "let x = 1; let f = |y| { || x + y };", "fn f(a) { a } let g = f;", "for (v, i) in [1] { print(v + i) }",
    "try { throw 1 } catch (e) { print(e) }", 'import "m" as m; fn f() { m::x } print(m::y);',
    "let s = `${1 + 2}`; s", "switch 1 { 1 => { let z = 1; z }, _ => 0 }",
])
def test_strict_variables_accepts_what_is_declared(script):
    STRICT.compile(script)


def test_strict_variables_sees_the_scope_and_functions_see_its_constants():
    scope = Scope().push("x", 6).push_constant("k", 7)
    assert STRICT.eval("fn f(z) { k * z } f(x)", scope=scope) == 42
    assert refused(STRICT, "fn f(z) { x * z }", scope=scope)
    assert Engine().eval("fn f() { k } f()", scope=Scope().push_constant("k", 5)) == 5
    with pytest.raises(RhaiError):  # a script's own top-level constant is global::k in a function
        Engine().eval("const k = 5; fn f() { k } f()")
