"""Hostile scripts against operation counting (issue 20): compiled code counts the operations of a
straight run of code once, at its end; an error raised in the middle of it (a division by zero, an
overflow, an index out of bounds) and caught by a `try` must not make that work free."""

from __future__ import annotations

import pytest

from neira_factory.rhai import Engine, RhaiError

WORK = "let x = 0; " + "x += 1; " * 300  # 300 operations and more, in one straight run


@pytest.mark.parametrize("fails", ["let y = 1 / 0;", "let y = 9223372036854775807 + x;", "let y = [][5];",
                                   'let y = "a" - 1;'])
@pytest.mark.parametrize("shape", [
    "fn f() {{ {work} {fails} }} let n = 0; while n < 1000 {{ try {{ f() }} catch {{}} n += 1; }}",
    "let f = || {{ {work} {fails} }}; let n = 0; while n < 1000 {{ try {{ f.call() }} catch {{}} n += 1; }}",
    "let n = 0; while n < 1000 {{ try {{ {work} {fails} }} catch {{}} n += 1; }}",
    "let a = [1]; let n = 0; while n < 1000 {{ try {{ a.map(|v| {{ {work} {fails} }}) }} catch {{}} n += 1; }}",
])
def test_work_before_a_caught_error_is_counted(shape, fails):
    engine = Engine(max_operations=100_000)  # 1,000 runs of 300 operations: far past the limit
    with pytest.raises(RhaiError) as info:
        engine.run(shape.format(work=WORK, fails=fails))
    assert info.value.kind == "ErrorTooManyOperations"


def test_eval_refuses_a_text_longer_than_a_script_may_be():
    # one string literal of 4 million escapes is one token: lexing it took seconds past the deadline
    engine = Engine(max_operations=10**9, timeout_ms=200, max_string_size=1 << 24)
    with pytest.raises(RhaiError) as info:
        engine.run(r'let s = "\""; s.pad(4000001, "\\"); s += "\""; eval(s).len')
    assert info.value.kind == "ErrorParsing" and "characters" in info.value.message
    assert Engine().eval(r'let s = "\""; s.pad(20001, "\\"); s += "\""; eval(s).len') == 10_000  # a long one is fine
