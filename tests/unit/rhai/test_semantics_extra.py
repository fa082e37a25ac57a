"""Bit fields, float comparison with an epsilon, shared (captured) variables, jumps used as
values, and lexing details (doubled quotes, literal sizes in bytes, expression-only blocks)."""

import pytest

from neira_factory.rhai import Engine, RhaiError

from .conftest import Err, check_cases

BITS = [
    ("let x = 0b1010; [x.get_bit(1), x.get_bit(2), x.get_bit(-63)]", [True, False, True]),
    ("let x = 0; x.set_bit(63, true); x", -(1 << 63)), ("let x = -1; x.set_bit(-1, false); x", (1 << 63) - 1),
    ("let x = 0; x.get_bit(64)", Err("ErrorBitFieldBounds")),
    ("let x = 0; x.set_bit(-65, true)", Err("ErrorBitFieldBounds")),
    ("let x = 0xabcd; [x.get_bits(4, 8), x.get_bits(4..12), x.get_bits(4..=11)]", [0xBC, 0xBC, 0xBC]),
    ("let x = 0xabcd; [x.get_bits(8, 0), x.get_bits(99, -1), x.get_bits(12..4)]", [0, 0, 0]),
    ("let x = -3; x.get_bits(0, 99)", -3), ("let x = -1; x.get_bits(-8, 99)", 0xFF),
    ("let x = 1; x.get_bits(64, 1)", Err("ErrorBitFieldBounds")),
    ("let x = 0xffff; x.set_bits(4, 8, 0); x", 0xF00F), ("let x = 0; x.set_bits(4..=7, 0xff); x", 0xF0),
    ("let x = 0; x.set_bits(60, 99, -1); x", -(1 << 60)), ("let x = 5; x.set_bits(0, 64, -2); x", -2),
    ("let x = 5; x.set_bits(70, 0, 1); x", 5), ("let x = 5; x.set_bits(70, 1, 1); x", Err("ErrorBitFieldBounds")),
    ("bits(0b1101, 0, 4)", [True, False, True, True]), ("bits(0b1101, 2)", [True, True] + [False] * 60),
    ("bits(0b1101, 1..3)", [False, True]), ("bits(0b1101, 1..=3)", [False, True, True]),
    ("bits(-1, -2)", [True, True]), ("bits(1, 0, -5)", []), ("bits(1).len", 64),
    ("bits(1, 64)", Err("ErrorBitFieldBounds")), ("let n = 0; for b in bits(0xff, 4, 8) { if b { n += 1 } } n", 4),
]

FLOATS = [
    ("0.1 + 0.2 == 0.3", True), ("0.1 + 0.2 != 0.3", False), ("0.1 + 0.2 > 0.3", False),
    ("0.1 + 0.2 <= 0.3", True), ("let a = 0.1; let b = a + 0.2; b >= 0.3 && b <= 0.3", True),
    ("1e-300 < 2e-300", True), ("0.0 < 1e-15", True), ("0 == 1e-17", True), ("1 == 1.0000000000000002", True),
    ("1 < 1.001", True), ("1e20 + 1.0 == 1e20", True), ("[0.1 + 0.2] == [0.3]", True), ("0.3 in [0.1 + 0.2]", True),
    ("let n = 0.0 / 0.0; [n == n, n != n, n < 1.0]", [False, True, False]),
    ("let i = 1.0 / 0.0; [i == i, i > 1e308]", [True, True]),
    ("switch 0.1 + 0.2 { 0.3 => 1, _ => 2 }", 2), ("switch 0.5 { 0.5 => 1, _ => 2 }", 1),
]

SHARED = [
    ("let a = 1; is_shared(a)", False), ("let a = 1; let f = || a; is_shared(a)", True),
    ("let a = 1; let f = |x| { a += x }; a.is_shared()", True), ("is_shared(42)", False),
    ("let a = 1; let f = || a; let b = 2; is_shared(b)", False),
    ("let a = 1; let b = 2; let f = |x| { this += a + x }; b.call(f, 1); b", 4),
    ("let a = 20; let f = |x| { this += a + x }; a.call(f, 1); a", Err("ErrorDataRace")),
    ("let a = 20; let f = |x| { this += x }; a.call(f, 1); a", 21),
]

JUMPS = [
    ("for n in 0..9 { let v = if n < 3 { n }; v ?? break n * 10; }", 30),
    ("let s = 0; for i in 0..6 { let v = if i % 2 == 0 { i }; s += v ?? continue; } s", 6),
    ("fn f(x) { let y = x ?? return -1; y + 1 } [f(()), f(1)]", [-1, 2]),
    ("try { () ?? throw 7 } catch (e) { e }", 7), ("let x = 1 ?? break;", Err("ErrorParsing")),
]

TEXT = [
    ('"say ""hi"""', 'say "hi"'), ('""""', '"'), ('["", ""].len', 2), ("`a``b`", "a`b"),
]


@pytest.mark.parametrize("table", [BITS, FLOATS, SHARED, JUMPS, TEXT],
                         ids=["bits", "floats", "shared", "jumps", "text"])
def test_cases(engine, table):
    check_cases(engine, table)


def test_string_literals_are_measured_in_bytes_when_parsed():
    engine = Engine(max_string_size=8)
    assert engine.eval('"12345678"') == "12345678"
    for script in ('"ééééé"', "`ééééé`", "let x = '€'; \"€€€\""):
        with pytest.raises(RhaiError) as info:
            engine.compile(script)
        assert info.value.kind == "ErrorParsing" and info.value.inner == "LiteralTooLarge"


@pytest.mark.parametrize("script", ["40 + { 2 }", "[{ 1 }]", "if true { { 1 } } else { 2 }"])
def test_expression_mode_refuses_blocks_used_as_values(script):
    with pytest.raises(RhaiError):
        Engine().compile_expression(script)
    assert Engine().compile(script) is not None


def test_expression_mode_keeps_one_expression_bodies():
    assert Engine().eval_expression("if 1 > 0 { 42 } else { 0 }") == 42
    assert Engine().eval_expression("switch 2 { 2 => { 7 }, _ => 0 }") == 7
