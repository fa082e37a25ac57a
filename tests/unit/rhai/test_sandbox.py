"""Sandbox properties: scripts cannot reach Python objects, files, the
environment or the clock (except the monotonic ``timestamp()``), and arbitrary
input (any Unicode text) ends in a value or a RhaiError (fuzzed with hypothesis)."""

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neira_factory.rhai import Engine, RhaiError

ESCAPES = [
    '__import__("os")', 'open("/etc/passwd")', "eval(\"__import__('os')\")", "exec(\"1\")",
    '"".__class__', "x.__class__.__bases__", 'getattr("", "upper")', "globals()", "locals()",
    "c.engine", "S.values", "_cp", "_k0", "type(1)", "print.__globals__", 'Fn("__import__").call("os")',
    'Fn("_sget").call()', "this.__dict__", 'import "os" as os;', "system(\"ls\")",
]


@pytest.mark.parametrize("script", ESCAPES)
def test_no_escape_to_python(script):
    with pytest.raises(RhaiError):
        Engine(max_operations=10_000).run(script)


def test_strings_are_never_code():
    engine = Engine()
    payload = '\\"); __import__(\\"os\\").system(\\"echo pwned\\"); (\\"'
    assert engine.eval(f'let s = "{payload}"; s.len() > 0')
    assert engine.eval('let m = #{"__class__": 1, "a b": 2}; m["a b"] + m.__class__') == 3
    assert engine.eval('fn __init__() { 1 } __init__()') == 1


TOKENS = [
    "let", "x", "y", "=", "+", "-", "*", "/", "%", "**", "(", ")", "{", "}", "[", "]", ";", ",", ".",
    "if", "else", "while", "loop", "for", "in", "break", "continue", "return", "fn", "f", "|", "||",
    "1", "0", "2.5", '"s"', "'c'", "true", "()", "#{", ":", "==", "<", "&&", "??", "..", "switch",
    "=>", "_", "throw", "try", "catch", "this", "len", "push", "x.push(1)", "f(x)", "`a${x}`",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_fuzz_token_soup(tokens):
    _only_value_or_rhai_error(" ".join(tokens))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.printable, max_size=60))
def test_fuzz_text(text):
    _only_value_or_rhai_error(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_fuzz_unicode_text(text):
    _only_value_or_rhai_error(text)


GLUE = [  # fragments that once let a Python exception out of the lexer, glued without spaces
    "#", "##", '"', "#{", "1", "0x", "0b", "1e", "1.", ".", "_", "x", "²", "٣", "௧", "é", "\u3000", "\x1c",
    "\\x", "\\u", "\\U", "D800", "٣٣", "+", "9" * 40, "`", "${", "}", " ",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(GLUE), max_size=12))
def test_fuzz_glued_fragments(parts):
    _only_value_or_rhai_error("".join(parts))


def _only_value_or_rhai_error(source):
    engine = Engine(max_operations=5_000, max_string_size=10_000, max_array_size=10_000,
                    max_map_size=1_000, timeout_ms=2_000)
    try:
        engine.eval(source)
    except RhaiError:
        pass
