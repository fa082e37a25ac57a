"""Standard packages: strings, arrays, maps, math, conversions, JSON, print/debug."""

import pytest

from .conftest import Err, check_cases

CASES = [
    ('"hello".len()', 5), ('"hello".contains("ell")', True), ('"hello".index_of(\'l\')', 2),
    ('"hello".sub_string(1, 3)', "ell"), ('"a,b,c".split(",")', ["a", "b", "c"]),
    ('let s = "aXbX"; s.replace("X", "-"); s', "a-b-"), ('"Hi".to_upper() + "Hi".to_lower()', "HIhi"),
    ('let s = "  x "; s.trim(); s', "x"), ('let s = "ab"; s.pad(4, \'.\'); s', "ab.."),
    ('"abc".starts_with("ab") && "abc".ends_with("bc")', True), ('"abc".chars()', ["a", "b", "c"]),
    ('let s = "abc"; s.pop()', "c"), ('let s = "abc"; s.truncate(1); s', "a"),
    ("let a = [1, 2]; a.push(3); a.insert(0, 0); a", [0, 1, 2, 3]), ("let a = [1, 2, 3]; a.pop()", 3),
    ("let a = [1, 2, 3]; a.remove(1); a", [1, 3]), ("let a = [3, 1, 2]; a.sort(); a", [1, 2, 3]),
    ("let a = [3, 1, 2]; a.sort(|x, y| y - x); a", [3, 2, 1]), ("let a = [1, 2]; a.reverse(); a", [2, 1]),
    ("[1, 2, 3].contains(2)", True), ("[1, 2, 3].index_of(3)", 2), ("[1, 2, 3].len()", 3),
    ("[1, 2, 3, 4].filter(|x| x % 2 == 0)", [2, 4]), ("[1, 2, 3].reduce(|a, b| a + b, 10)", 16),
    ("[1, 2, 3].some(|x| x > 2)", True), ("[1, 2, 3].all(|x| x > 2)", False),
    ("[1, 2, 3].find(|x| x > 1)", 2), ("[1, 2, 3, 4].extract(1, 2)", [2, 3]),
    ("[1, 2, 3, 4].extract(-3)", [2, 3, 4]), ("[1, 2, 3, 4].extract(1..=2)", [2, 3]),
    ('"hello".sub_string(-2)', "lo"), ('"hello".sub_string(1..3)', "el"), ('"hello".sub_string(3, -1)', ""),
    ('let s = "hello"; s.crop(1, 3); s', "ell"), ('let s = "hello"; s.crop(2..); s', "llo"),
    ("let a = [1, 2, 3, 4, 5]; let r = a.retain(|x| x % 2 == 1); [a, r]", [[1, 3, 5], [2, 4]]),
    ("let a = [1, 2, 3, 4, 5]; let r = a.drain(|x| x > 3); [a, r]", [[1, 2, 3], [4, 5]]),
    ('["a", "b"].join("-")', "a-b"), ("let a = [1]; a.pad(3, 0); a", [1, 0, 0]),
    ("let a = [1, 2, 3]; a.clear(); a.is_empty()", True),
    ("let m = #{b: 2, a: 1}; m.keys()", ["a", "b"]), ("#{b: 2, a: 1}.values()", [1, 2]),
    ("let m = #{a: 1}; m.remove(\"a\"); m.len()", 0), ("#{a: 1}.contains(\"a\")", True),
    ("let m = #{a: 1}; m.mixin(#{b: 2}); m", {"a": 1, "b": 2}),
    ("abs(-5) + max(1, 2) + min(1, 2)", 8), ("floor(2.7)", 2.0), ("sqrt(16.0)", 4.0),
    ("round(2.5)", 3.0), ("sin(0.0)", 0.0), ("PI() > 3.14", True), ("abs(-2.5)", 2.5),
    ('parse_int("42") + parse_int("ff", 16)', 297), ('parse_float("2.5")', 2.5),
    ('parse_int("x")', Err("ErrorArithmetic")), ("to_string(42) + to_debug(\"s\")", '42"s"'),
    ("42.to_float()", 42.0), ("2.9.to_int()", 2), ("255.to_hex()", "ff"), ("(1.5).to_string()", "1.5"),
    ('parse_json("{\\"a\\": [1, 2.5, true, null]}")', {"a": [1, 2.5, True, None]}),
    ('#{b: [1, "x"], a: ()}.to_json()', '{"a":null,"b":[1,"x"]}'),
    ("`${[1, \"a\", 'c']}`", '[1, "a", \'c\']'), ("`${#{a: 1}}`", '#{"a": 1}'), ("`${1.0}`", "1.0"),
    ("let t = timestamp(); t.elapsed >= 0.0", True),
]


@pytest.mark.parametrize("script,expected", CASES)
def test_packages(engine, script, expected):
    check_cases(engine, [(script, expected)])


def test_print_and_debug_are_captured(engine, capsys):
    log = []
    engine.run('print("hi"); debug("hi"); print(42)', log=log)
    assert log == ["hi", '"hi"', "42"]
    assert engine.log == log
    assert capsys.readouterr().out == ""
