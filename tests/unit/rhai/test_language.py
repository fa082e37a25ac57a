"""Language chapters of the Rhai Book: values, variables, operators, control flow."""

import warnings

import pytest

from .conftest import Err

VALUES = [
    ("42", 42), ("0x2a", 42), ("0o52", 42), ("0b101010", 42), ("1_000_000", 1000000),
    ("-9223372036854775808", -9223372036854775808), ("3.5", 3.5), ("1e3", 1000.0), ("1.5e-3", 0.0015),
    ("true", True), ("false", False), ("()", None), ("'x'", "x"), ("'\\n'", "\n"), ("'\\u2764'", "\u2764"),
    ('"a\\tb"', "a\tb"), ('"\\x41"', "A"), ("`multi\nline`", "multi\nline"), ('#"raw \\n"#', "raw \\n"),
    ("let x = 40; `x = ${x + 2}`", "x = 42"), ("`a ${`b ${1}`} c`", "a b 1 c"),
    ("[1, 2, 3,]", [1, 2, 3]), ("#{a: 1, \"b c\": [true]}", {"a": 1, "b c": [True]}),
    ("type_of(1)", "i64"), ("type_of(1.0)", "f64"), ("type_of('c')", "char"), ("type_of(\"s\")", "string"),
    ("type_of([])", "array"), ("type_of(#{})", "map"), ("type_of(())", "()"), ("type_of(1..2)", "range"),
    ("type_of(1..=2)", "range="), ("type_of(Fn(\"f\"))", "Fn"), ("type_of(true)", "bool"),
    ("// comment\n1 /* block /* nested */ */ + /** doc */ 2", 3), ("/// doc\nlet x = 5; x", 5),
]

VARIABLES = [
    ("let x = 1; let x = x + 1; x", 2),
    ("let x; x", None),
    ("const X = 5; X * 2", 10),
    ("let x = 1; { let x = 2; } x", 1),
    ("let x = 1; { x = 2; } x", 2),
    ("let a = [1, 2]; let b = a; b.push(3); a", [1, 2]),
    ("let m = #{a: [1]}; let n = m; n.a.push(2); m.a", [1]),
    ("const X = 1; X = 2;", Err("ErrorParsing")),
    ("y", Err("ErrorVariableNotFound")),
    ("let x = { let y = 2; y * 3 }; x", 6),
]

OPERATORS = [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("7 / 2", 3), ("-7 / 2", -3), ("7 % 3", 1), ("-7 % 3", -1),
    ("2 ** 10", 1024), ("2 ** 3 ** 2", 512), ("7.0 / 2", 3.5), ("1 << 4", 16), ("256 >> 4", 16),
    ("6 & 3", 2), ("6 | 3", 7), ("6 ^ 3", 5), ("!true", False), ("-(3)", -3),
    ("1 < 2 && 2 < 3", True), ("false || true", True), ("1 == 1.0", True), ("1 == \"1\"", False),
    ("\"a\" + \"b\"", "ab"), ("\"n=\" + 5", "n=5"), ("'a' + 'b'", "ab"), ("\"abcabc\" - \"b\"", "acac"),
    ("() ?? 5", 5), ("3 ?? 5", 3), ("2 in [1, 2]", True), ("\"b\" in \"abc\"", True), ("\"k\" in #{k: 1}", True),
    ("5 in 1..5", False), ("5 in 1..=5", True), ("4 !in [1, 2]", True),
    ("let x = 5; x += 2; x -= 1; x *= 3; x /= 2; x %= 5; x", 4), ("let x = 2; x **= 3; x", 8),
    ("let x = 1; x <<= 3; x |= 1; x &= 13; x ^= 1; x", 8), ("let x = (); x ??= 7; x", 7),
    ("let a = [1]; a += 2; a += [3, 4]; a", [1, 2, 3, 4]), ("[1] + [2]", [1, 2]),
    ("#{a: 1} + #{b: 2}", {"a": 1, "b": 2}), ("let s = \"a\"; s += 'b'; s", "ab"),
    ("false && (1 / 0 == 0)", False), ("true || (1 / 0 == 0)", True),
    ("9223372036854775807 + 1", Err("ErrorArithmetic")), ("1 / 0", Err("ErrorArithmetic")),
    ("-9223372036854775807 - 2", Err("ErrorArithmetic")), ("2 ** -1", Err("ErrorArithmetic")),
    ("1 + true", Err("ErrorFunctionNotFound")), ("1 && true", Err("ErrorMismatchDataType")),
]

CONTROL = [
    ("if 1 > 2 { 1 } else if 2 > 1 { 2 } else { 3 }", 2), ("let x = if false { 1 }; x", None),
    ("switch 3 { 1 => \"a\", 2 | 3 => \"b\", _ => \"c\" }", "b"),
    ("switch 15 { 0..10 => 1, 10..=20 => 2, _ => 3 }", 2),
    ("let x = 5; switch x { 5 if x > 10 => 1, 5 => 2, _ => 3 }", 2),
    ("switch \"hi\" { \"hi\" => { let y = 1; y + 1 } }", 2), ("switch 9 { 1 => 1 }", None),
    ("let i = 0; while i < 10 { i += 1; } i", 10),
    ("let i = 0; loop { i += 1; if i == 5 { break; } } i", 5),
    ("let i = 0; do { i += 1; } while i < 3; i", 3), ("let i = 0; do { i += 1; } until i >= 3; i", 3),
    ("let s = 0; for x in 1..=10 { s += x; } s", 55), ("let s = 0; for x in [1, 2, 3] { s += x; } s", 6),
    ("let s = \"\"; for c in \"abc\" { s = c + s; } s", "cba"),
    ("let s = 0; for (x, i) in [10, 20] { s += x * i; } s", 20),
    ("let s = 0; for x in 0..10 { if x % 2 == 0 { continue; } s += x; } s", 25),
    ("let r = loop { break 42; }; r", 42), ("for x in 0..10 { if x == 3 { break x * 2; } }", 6),
    ("let i = 0; do { i += 1; if i < 5 { continue; } break; } while true; i", 5),
    ("for x in range(0, 10, 3) { if x > 5 { return x; } }", 6),
    ("if 1 { 2 }", Err("ErrorMismatchDataType")),
    ("for x in 5 {}", Err("ErrorFor")),
    ("break;", Err("ErrorParsing")),
]

INDEXING = [
    ("let a = [1, 2, 3]; a[0] + a[-1]", 4), ("let a = [[1, 2], [3]]; a[0][1] = 9; a", [[1, 9], [3]]),
    ("let m = #{a: #{b: 1}}; m.a.b = 2; m.a[\"b\"] += 3; m", {"a": {"b": 5}}),
    ("let m = #{}; m.x", None), ("let s = \"hello\"; s[1]", "e"), ("let s = \"hello\"; s[1] = 'a'; s", "hallo"),
    ("let s = \"hello\"; s[1..3]", "el"), ("let x = 0b1010; x[1]", True), ("let x = 0; x[3] = true; x", 8),
    ("let a = [1]; a[5]", Err("ErrorArrayBounds")), ("let s = \"ab\"; s[9]", Err("ErrorStringBounds")),
    ("let x = true; x[0]", Err("ErrorIndexingType")), ("let a = [#{v: \"ab\"}]; a[0].v[0] = 'x'; a[0].v", "xb"),
    ("let x = (); x?.foo", None), ("let x = (); x?[1]", None), ("let a = [1, 2]; a.len", 2),
    ("let n = 5; n.foo", Err("ErrorDotExpr")),
]


LEXING = [  # numbers and identifiers are ASCII (no unicode-xid-ident), whitespace is Unicode White_Space
    ("let __a1 = 2; __a1", 2), ("_1a", Err("ErrorParsing")), ("1e1_0", 1e10), ("0xFF_FF", 65535),
    ("1\u3000+\u00a02", 3), ("1\x1c+ 2", Err("ErrorParsing")), ("1.", 1.0), ("-0x1", -1),
    ("0x0x1", Err("ErrorParsing")), ("0b0b1", Err("ErrorParsing")), ("0o8", Err("ErrorParsing")),
    ("²", Err("ErrorParsing")), ("1²", Err("ErrorParsing")), ("1e²", Err("ErrorParsing")),
    ("٣", Err("ErrorParsing")), ("1٣", Err("ErrorParsing")), ("௧", Err("ErrorParsing")),
    ("0x٣", Err("ErrorParsing")), ("1.٣", Err("ErrorParsing")), ("x٣", Err("ErrorParsing")),
    ("let é = 1;", Err("ErrorParsing")), ("1" * 5000, Err("ErrorParsing")),
    ('"\\u0_41"', Err("ErrorParsing")), ('"\\x 1"', Err("ErrorParsing")), ('"\\x+1"', Err("ErrorParsing")),
    ('"\\x٣٣"', Err("ErrorParsing")), ('"\\uD800"', Err("ErrorParsing")), ('"\\U00110000"', Err("ErrorParsing")),
    ("##", Err("ErrorParsing")), ("let x = 1; ##", Err("ErrorParsing")),
    ("fn run(input) { input } ###", Err("ErrorParsing")),
    ('##"a"##', "a"), ('#"a"', Err("ErrorParsing")),
]

ELVIS_ON_LITERALS = [  # ``?.`` on a number literal once compiled to ``1 is None`` (a SyntaxWarning)
    ("1?.abs()", 1), ("1.5?.abs()", 1.5), ("(-1)?.abs()", 1), ("1?[0]", True), ('"s"?.len', 1),
    ("()?.a", None), ("true?.a", Err("ErrorDotExpr")), ("1?.a", Err("ErrorDotExpr")),
    ("let x = #{a: 1}; x?.a", 1), ("let x = (); x?.a = 1; x", None),
]


@pytest.mark.parametrize("script,expected", ELVIS_ON_LITERALS)
def test_elvis_on_literals_compiles_without_warnings(engine, script, expected):
    from .conftest import check_cases

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_cases(engine, [(script, expected)])


@pytest.mark.parametrize("script,expected", VALUES + VARIABLES + OPERATORS + CONTROL + INDEXING + LEXING)
def test_language(engine, script, expected):
    from .conftest import check_cases

    check_cases(engine, [(script, expected)])


# A statement ending in a block (if/switch/while/loop/do/for/try/{...}/fn) ends there,
# as in Rhai's parse_stmt: a following `[`/`(`/operator starts a new statement
# instead of indexing, calling or continuing it.  As an expression (e.g. after
# `let x =`) an `if`/block still takes postfix indexing.
BLOCK_ENDED_STATEMENTS = [
    ("let a = [3]; for x in a {} [1, 2]", [1, 2]), ("let a = [3]; for x in a {}\n[1, 2]", [1, 2]),
    ("let i = 0; while i < 2 { i += 1 } [1, 2]", [1, 2]), ("loop { break } [1, 2]", [1, 2]),
    ("if true {} else {} [1, 2]", [1, 2]), ("if false {} [0]", [0]), ("{ 1 } [1, 2]", [1, 2]),
    ("fn f() {} [1, 2]", [1, 2]), ("switch 1 { 1 => 2 } [7]", [7]), ("try { 1 } catch {} [5]", [5]),
    ("do { } while false; [4]", [4]), ("let x = true; if x {} (1 + 2)", 3),
    ("let x = 0; if true { x = 1 } (x + 10)", 11), ("while false {} (2)", 2), ("{ 1 } (2)", 2),
    ("if true { 1 } else { 2 } + 3", 3), ("if true { 1 } else { 2 } - 3", -3),
    ("let a = [1]; for x in a {} [1, 2].len()", 2),
    ("let x = if true { [1, 2] } else { [3] } [1]; x", 2), ("let v = { 1 } + 2; v", 3),
    ("{ 5 }", 5), ("if true { 5 }", 5), ("switch 2 { 2 => if true { 6 } else { 7 } }", 6),
    ("if true {} .len()", Err("ErrorParsing")),
]


@pytest.mark.parametrize("script,expected", BLOCK_ENDED_STATEMENTS)
def test_block_ended_statements(engine, script, expected):
    from .conftest import check_cases

    check_cases(engine, [(script, expected)])
