"""Hypothesis on the Rhai interpreter with grammar-shaped programs.

tests/unit/rhai/test_sandbox.py already throws token soup and printable text at `Engine.eval`; most of
that dies in the lexer or the parser. Here the programs are generated from Rhai's grammar (expressions
with every operator, literals at their edges, every registered function called with its arity, as a
function and as a method, closures, function pointers, `switch`, loops, `try`/`catch`, `throw`, script
functions that recurse, string interpolation, indexing and `?.`), so that they parse and the compiler
and the runtime get exercised. For each program, on an engine with all the limits set:

* `compile` gives an AST or a RhaiError; `eval_ast` and `eval` give a value or a RhaiError, nothing else;
* the run ends within its `timeout_ms` plus a margin (the limits stop endless loops, deep recursion and
  data bombs), and the result is a plain value (None, bool, int, float, str, list, dict).
"""
from __future__ import annotations

import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neira_factory.rhai import Engine, RhaiError
from neira_factory.rhai.packages.registry import FUNCS
from neira_factory.rhai.runtime.values import FnPtr, RhaiRange, Timestamp

TIMEOUT_MS = 300
MARGIN_S = 2.0  # the timeout is checked every 2048 operations; a slow CI machine gets slack too
ENGINE = Engine(max_operations=50_000, max_call_levels=32, max_expr_depths=(64, 32), max_string_size=10_000,
                max_array_size=1_000, max_map_size=200, max_variables=200, timeout_ms=TIMEOUT_MS)

NAMES = st.sampled_from(["x", "y", "z", "s", "a", "m", "f", "i", "this", "_x", "global::x", "PI", "E"])
INTS = st.sampled_from(["0", "1", "-1", "42", "9223372036854775807", "-9223372036854775808", "0x7fffffffffffffff",
                        "0b101", "0o17", "1_000"]) | st.integers(-1000, 1000).map(str)
FLOATS = st.sampled_from(["0.0", "1.5", "-2.25", "1e308", "1e-308", "3.0e10"])
STRINGS = st.sampled_from(['""', '"abc"', '"Привет"', '"a\\nb"', '"\\u{1F600}"', '`x=${x}`', '`${1 + 2}`',
                           '#"raw "q""#', "'c'", "'\\n'"])
LITERALS = INTS | FLOATS | STRINGS | st.sampled_from(["true", "false", "()"])
BINARY = st.sampled_from(["+", "-", "*", "/", "%", "**", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "&", "|",
                          "^", "<<", ">>", "??", "in", "!in", "..", "..="])
CALLABLE = sorted({name for name, _ in FUNCS if name.isidentifier() and name not in ("eval",)})
ARITY = {name: sorted({n for f, n in FUNCS if f == name}) for name in CALLABLE}


def expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        def call(name: str) -> st.SearchStrategy[str]:
            return st.sampled_from(ARITY[name]).flatmap(lambda n: st.lists(inner, min_size=n, max_size=n).map(
                lambda args: f"{name}({', '.join(args)})"))

        def method(name: str) -> st.SearchStrategy[str]:
            return st.sampled_from([n for n in ARITY[name] if n >= 1] or [1]).flatmap(
                lambda n: st.lists(inner, min_size=n, max_size=n).map(
                    lambda args: f"({args[0]}).{name}({', '.join(args[1:])})"))

        return st.one_of(
            st.tuples(inner, BINARY, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(["-", "!", "+"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.sampled_from(CALLABLE).flatmap(call),
            st.sampled_from(CALLABLE).flatmap(method),
            st.lists(inner, max_size=4).map(lambda xs: f"[{', '.join(xs)}]"),
            st.lists(st.tuples(st.sampled_from(["a", "b", '"c d"', "len"]), inner), max_size=3).map(
                lambda kv: "#{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]})[{t[1]}]"),
            st.tuples(inner, st.sampled_from(["len", "a", "start", "is_empty"])).map(lambda t: f"({t[0]})?.{t[1]}"),
            st.tuples(inner, inner, inner).map(lambda t: f"if {t[0]} {{ {t[1]} }} else {{ {t[2]} }}"),
            st.tuples(st.sampled_from(["|x|", "|x, y|", "||"]), inner).map(lambda t: f"({t[0]} {t[1]})"),
            st.tuples(st.sampled_from(["|x|", "||"]), inner, inner).map(lambda t: f"({t[0]} {t[1]}).call({t[2]})"),
            st.tuples(inner, inner, inner).map(
                lambda t: f"switch {t[0]} {{ 1 => {t[1]}, 2 | 3 => {t[2]}, 0..10 if {t[2]} => 0, _ => () }}"),
            st.tuples(inner, inner).map(lambda t: f"{{ let x = {t[0]}; {t[1]} }}"),
            st.tuples(inner, inner).map(lambda t: f"try {{ {t[0]} }} catch (err) {{ {t[1]} }}"),
            st.sampled_from(["Fn(\"f\")", "Fn(\"f\").call(1)", "Fn(\"f\").curry(2).call()", "type_of(x)",
                             "is_def_fn(\"f\", 1)", "this", "global::x"]),
        )

    return st.recursive(LITERALS | NAMES, extend, max_leaves=12)


EXPR = expressions()
STATEMENTS = st.one_of(
    st.tuples(st.sampled_from(["let", "const"]), NAMES, EXPR).map(lambda t: f"{t[0]} {t[1]} = {t[2]};"),
    st.tuples(NAMES, st.sampled_from(["=", "+=", "-=", "*=", "/=", "%=", "**=", "<<=", "|="]), EXPR).map(
        lambda t: f"{t[0]} {t[1]} {t[2]};"),
    EXPR.map(lambda e: f"{e};"),
    st.tuples(EXPR, EXPR).map(lambda t: f"while {t[0]} {{ {t[1]}; }}"),
    st.tuples(EXPR, EXPR).map(lambda t: f"for (i, n) in {t[0]} {{ {t[1]}; if n > 3 {{ break; }} }}"),
    st.tuples(EXPR, EXPR).map(lambda t: f"do {{ {t[0]}; }} until {t[1]};"),
    EXPR.map(lambda e: f"loop {{ {e}; }}"),  # endless unless it throws: the limits must stop it
    EXPR.map(lambda e: f"throw {e};"),
    EXPR.map(lambda e: f"return {e};"),
    st.tuples(EXPR, EXPR).map(lambda t: f"fn f(x) {{ if x > 0 {{ f(x - 1) + {t[0]} }} else {{ {t[1]} }} }}"),
    EXPR.map(lambda e: f"fn g() {{ g() + {e} }}"),  # recursion without end: max_call_levels
    st.sampled_from(["let s = \"ab\"; loop { s += s; }", "let a = [1]; loop { a += a; }",
                     "let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; }", "fn h(n) { h(n) } h(0)",
                     "let a = []; a.pad(1000000000, 0);", "\"x\".pad(100000000, \"y\")",
                     "let f = |x| x.call(x); f.call(f)", "eval(\"loop {}\")", "eval(\"eval(\\\"1 +\\\")\")"]),
)
PROGRAMS = st.lists(STATEMENTS, min_size=1, max_size=6).map(" ".join)
PLAIN = (type(None), bool, int, float, str, list, dict, FnPtr, RhaiRange, Timestamp)  # the last: Rhai values as they are


def _run(source: str) -> None:
    try:
        ast = ENGINE.compile(source)
    except RhaiError:
        return
    for attempt in (lambda: ENGINE.eval_ast(ast, scope={"x": 1, "y": "two"}, constants={"PARAM": 3}),
                    lambda: ENGINE.eval(source)):
        started = time.monotonic()
        try:
            value = attempt()
        except RhaiError:
            value = None
        elapsed = time.monotonic() - started
        assert elapsed < TIMEOUT_MS / 1000 + MARGIN_S, f"ran {elapsed:.2f}s: {source!r}"
        assert isinstance(value, PLAIN), f"{type(value)} out of {source!r}"


FUZZ = settings(max_examples=int(os.environ.get("NEIRA_FUZZ_EXAMPLES", "250")), deadline=None,
                suppress_health_check=list(HealthCheck))


@FUZZ
@given(EXPR)
def test_grammar_shaped_expressions_end_in_a_value_or_a_rhai_error(source):
    _run(source)
    try:
        ENGINE.eval_expression(source, scope={"x": 1})
    except RhaiError:
        pass


@FUZZ
@given(PROGRAMS)
def test_grammar_shaped_programs_end_in_a_value_or_a_rhai_error_within_their_limits(source):
    _run(source)


# test_sandbox.py's text fuzz draws from string.printable; this one from all of Unicode (NUL, lone
# surrogates, line and paragraph separators, bidi controls, astral characters) mixed with Rhai's own
# delimiters, which is what the lexer has to survive.
UNICODE_SOUP = st.lists(st.text(max_size=6) | st.sampled_from(['"', "'", "`", "${", "}", "#\"", "\"#", "//", "/*",
                                                               "*/", "\\u{", "\\x", "\ud800", "\u2028", "\x00"]),
                        max_size=12).map("".join)


@FUZZ
@given(UNICODE_SOUP)
def test_arbitrary_unicode_text_ends_in_a_value_or_a_rhai_error(source):
    _run(source)
