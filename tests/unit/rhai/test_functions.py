"""Functions chapter: script functions, overloading, `this`, closures, function pointers."""

import pytest

from .conftest import Err, check_cases

CASES = [
    ("fn add(a, b) { a + b } add(2, 3)", 5),
    ("fn f(x) { x } fn f(x, y) { x + y } f(1) + f(2, 3)", 6),
    ("fn fact(n) { if n <= 1 { 1 } else { n * fact(n - 1) } } fact(10)", 3628800),
    ("fn early(x) { if x > 0 { return \"pos\"; } \"neg\" } early(1) + early(-1)", "posneg"),
    ("fn inc() { this += 1; } let x = 41; x.inc(); x", 42),
    ("fn get() { this.v } let m = #{v: 7}; m.get()", 7),
    ("fn push2(a) { a.push(2); a } let a = [1]; let b = push2(a); [a, b]", [[1], [1, 2]]),
    ("fn f() { this } f()", Err("ErrorInFunctionCall")),
    ("fn f() { x } let x = 1; f()", Err("ErrorInFunctionCall")),
    ("fn f(a) { a } f(1, 2)", Err("ErrorFunctionNotFound")),
    ("fn f(a, a) { a }", Err("ErrorParsing")), ("fn f() {} fn f() {}", Err("ErrorParsing")),
    ("{ fn f() {} }", Err("ErrorParsing")),
    ("let y = 10; let f = |x| x + y; f.call(5)", 15),
    ("let y = 10; let f = |x| x + y; y = 20; f.call(5)", 25),
    ("let n = 0; let inc = || n += 1; inc.call(); inc.call(); n", 2),
    ("let f = |a, b| a * b; f.call(6, 7)", 42), ("let f = |a, b| a * b; f(6, 7)", 42),
    ("fn sub(a, b) { a - b } let f = Fn(\"sub\"); f.call(10, 3)", 7),
    ("fn sub(a, b) { a - b } let f = Fn(\"sub\").curry(10); f.call(3)", 7),
    ("fn sub(a, b) { a - b } let f = sub; call(f, 5, 1)", 4),
    ("let f = Fn(\"len\"); f.call(\"abc\")", 3),
    ("let obj = #{v: 1, bump: |n| this.v += n}; obj.bump(5); obj.v", 6),
    ("let f = Fn(\"nope\"); f.call()", Err("ErrorFunctionNotFound")),
    ("is_def_fn(\"zz\", 0)", False), ("fn zz() {} is_def_fn(\"zz\", 0)", True),
    ("const K = 3; fn f() { global::K * 2 } f()", 6),
    ("let fs = []; for i in 0..3 { fs.push(|x| x + i); } fs[0].call(10)", 12),
    ("[1, 2, 3].map(|x| x * 2)", [2, 4, 6]), ("[1, 2, 3].map(|| this + 1)", [2, 3, 4]),
    ("[1, 2, 3].filter(|x, i| i > 0)", [2, 3]), ("[1, 2, 3].reduce(|s, x| s + x, 0)", 6),
    ("let a = [1, 2]; a.for_each(|| this *= 10); a", [10, 20]),
    ("fn dbl(x) { x * 2 } [1, 2].map(\"dbl\")", [2, 4]),
]


@pytest.mark.parametrize("script,expected", CASES)
def test_functions(engine, script, expected):
    check_cases(engine, [(script, expected)])
