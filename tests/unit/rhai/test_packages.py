"""Standard packages: strings, arrays, maps, math, conversions, JSON, print/debug."""

import pytest

from neira_factory.rhai import Engine, Package, RhaiError

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


# Empty delimiter follows Rust's str::split/splitn/rsplit/rsplitn on "": an empty
# match before every char and at the end; segments < 1 means one segment.
SPLIT_EMPTY_CASES = [
    ('"abc".split("")', ["", "a", "b", "c", ""]), ('"".split("")', ["", ""]),
    ('"abc".split("")[1].type_of()', "string"),
    ('"abc".split("", 0)', ["abc"]), ('"abc".split("", 1)', ["abc"]), ('"abc".split("", 2)', ["", "abc"]),
    ('"abc".split("", 3)', ["", "a", "bc"]), ('"abc".split("", 4)', ["", "a", "b", "c"]),
    ('"abc".split("", 99)', ["", "a", "b", "c", ""]), ('"".split("", 2)', ["", ""]),
    ('"abc".split_rev("")', ["", "c", "b", "a", ""]), ('"".split_rev("")', ["", ""]),
    ('"abc".split_rev("", -1)', ["abc"]), ('"abc".split_rev("", 2)', ["", "abc"]),
    ('"abc".split_rev("", 3)', ["", "c", "ab"]), ('"abc".split_rev("", 4)', ["", "c", "b", "a"]),
    ('"abc".split_rev("", 5)', ["", "c", "b", "a", ""]),
    ('"a,b,c".split(",", 2)', ["a", "b,c"]), ('"a,b,c".split_rev(",", 2)', ["c", "a,b"]),
    ('"a,b,c".split_rev(",")', ["c", "b", "a"]), ('"a,b,c".split(",", 0)', ["a,b,c"]),
]


@pytest.mark.parametrize("script,expected", SPLIT_EMPTY_CASES)
def test_split_empty_delimiter(engine, script, expected):
    check_cases(engine, [(script, expected)])


# Rhai's value semantics: a value read out of an array/map (by a function, an operator,
# a for loop or a callback argument) is a copy, nested arrays and maps included; changing
# it never changes the original.
VALUE_SEMANTICS_CASES = [
    ("let a = [[1]]; let b = a + []; b[0].push(2); a", [[1]]),
    ("let a = [[1]]; let b = [] + a; b[0].push(2); [a, b]", [[[1]], [[1, 2]]]),
    ("let a = [[1]]; let b = a + a; b[0].push(2); b[1].push(3); [a, b]", [[[1]], [[1, 2], [1, 3]]]),
    ("let a = #{x: [1]}; let b = a + #{}; b.x.push(2); a", {"x": [1]}),
    ("let a = #{}; let b = a + #{x: [1]}; b.x.push(2); b", {"x": [1, 2]}),
    ("let a = [[1]]; let b = a.first(); b.push(2); [a, b]", [[[1]], [1, 2]]),
    ("let a = [[1]]; a.first().push(2); a", [[1]]),
    ("let a = [[0], [1]]; let b = a.last(); b.push(2); a", [[0], [1]]),
    ("let a = [[1]]; let b = a.get(0); b.push(2); a", [[1]]),
    ("let a = [[1]]; let b = a.get(-1); b.push(2); a", [[1]]),
    ("let a = [[1], [2]]; let b = a.filter(|x| true); b[0].push(2); a", [[1], [2]]),
    ("let a = [[1], [2]]; let b = a.extract(0); b[0].push(2); a", [[1], [2]]),
    ("let a = [[1], [2]]; let b = a.extract(0, 1); b[0].push(2); a", [[1], [2]]),
    ("let a = [[1], [2]]; let b = a.extract(0..1); b[0].push(2); a", [[1], [2]]),
    ("let a = [[1]]; let b = a.find(|x| true); b.push(2); a", [[1]]),
    ("let a = [[1]]; let b = a.find_map(|x| x); b.push(2); a", [[1]]),
    ("let a = [[1]]; let b = a.map(|x| x); b[0].push(2); a", [[1]]),
    ("let a = [[1]]; let b = a.reduce(|acc, x| x); b.push(2); a", [[1]]),
    ("let a = [[1]]; let b = a.reduce_rev(|acc, x| x, 0); b.push(2); a", [[1]]),
    ("let a = [[1]]; let b = a.zip([0], |x, y| x); b[0].push(2); a", [[1]]),
    ("let m = #{a: [1]}; let v = m.values(); v[0].push(2); m", {"a": [1]}),
    ("let m = #{a: [1]}; let v = m.get(\"a\"); v.push(2); m", {"a": [1]}),
    ("let m = #{a: [1]}; let v = m.filter(|k, v| true); v.a.push(2); m", {"a": [1]}),
    ("let a = [[1]]; for x in a { x.push(2); } a", [[1]]),
    ("let a = [#{n: 1}]; for x in a { x.n = 2; } a", [{"n": 1}]),
    ("let a = [[1], [2]]; for (x, i) in a { x.push(i); } a", [[1], [2]]),
    # callback arguments are copies; ``this`` is the element itself
    ("let a = [[1]]; a.map(|x| { x.push(5); x }); a", [[1]]),
    ("let a = [[1]]; a.filter(|x| { x.push(5); true }); a", [[1]]),
    ("let a = [[1]]; let r = a.reduce(|acc, x| { acc.push(x); acc }, []); r[0].push(2); [a, r]",
     [[[1]], [[1, 2]]]),
    ("let a = [[1]]; a.for_each(|| this.push(5)); a", [[1, 5]]),
    ("let a = [[1]]; a.map(|| { this.push(5); 0 }); a", [[1, 5]]),
    # indexing still reaches into the original
    ("let a = [[1]]; a[0].push(2); a", [[1, 2]]),
    ("let a = [[1]]; let b = a; b[0].push(2); a", [[1]]),
]


@pytest.mark.parametrize("script,expected", VALUE_SEMANTICS_CASES)
def test_value_semantics(engine, script, expected):
    check_cases(engine, [(script, expected)])


def test_a_registered_package_is_callable_by_what_its_engine_compiles():
    """Engine.register_global_module (Rhai's): the package's functions come before the standard
    ones (a getter, a string mutator and an override of ``len``); other engines do not see them."""
    extra = Package("extra")
    extra.native("double", int)(lambda x: 2 * x)
    extra.native("len", str, getter=True)(lambda s: 100 + len(s))
    extra.native("shout", str, strmut=True)(lambda s: (s.upper() + "!", None))
    engine = Engine().register_global_module(extra)
    assert engine.eval('let s = "hi"; s.shout(); [double(21), s, s.len, s.len(), [1].len, eval("double(2)")]') \
        == [42, "HI!", 103, 103, 1, 4]
    assert Engine().eval_ast(engine.compile("double(5)")) == 10  # compiled for, and run with, its engine's
    with pytest.raises(RhaiError) as info:
        Engine().eval("double(2)")
    assert info.value.kind == "ErrorFunctionNotFound"
