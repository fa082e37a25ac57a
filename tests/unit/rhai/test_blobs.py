"""BLOBs (packed bytes): creation, editing, numbers and strings at a position, limits, host values."""

import pytest

from neira_factory.rhai import Engine, RhaiError, Scope

from .conftest import Err, check_cases

SEQ = "let b = blob(); for i in 1..=6 { b += i * 11; } "  # [0b 16 21 2c 37 42]

CASES = [
    ("blob()", b""), ("blob(3)", b"\x00\x00\x00"), ("blob(3, 0x1ff)", b"\xff\xff\xff"), ("blob(-4)", b""),
    ('type_of(blob(2))', "blob"), ("blob(7, 1).len", 7), ("blob().is_empty", True),
    ("let b = blob(3); b[1] = 300; b", b"\x00\x2c\x00"), ("let b = blob(3, 9); b[-1]", 9),
    ("let b = blob(3); b[3]", Err("ErrorArrayBounds")), ("let b = blob(3); b[-4] = 1", Err("ErrorArrayBounds")),
    ("let b = blob(3); b[0] = 'x'", Err("ErrorIndexingType")),
    (SEQ + "b.get(-1)", 0x42), (SEQ + "b.get(-100)", 0x0B), (SEQ + "b.get(6)", 0),
    (SEQ + "b.set(1, -1); b[1]", 255), (SEQ + "b.set(60, 1); b", b"\x0b\x16\x21\x2c\x37\x42"),
    ("let b = blob(); b.push(256 + 7); b.append(8); b", b"\x07\x08"),
    ('let b = blob(); b.append("é"); b.append(\'!\'); b.append(blob(1, 5)); b', b"\xc3\xa9!\x05"),
    ("let b = blob(2); b.insert(-1, 7); b.insert(99, 8); b.insert(-99, 9); b", b"\x09\x00\x07\x00\x08"),
    (SEQ + "[b.pop(), b.shift(), b.len]", [0x42, 0x0B, 4]), ("let b = blob(); [b.pop(), b.shift()]", [0, 0]),
    (SEQ + "[b.remove(-2), b.remove(9), b.len]", [0x37, 0, 5]),
    (SEQ + "b.truncate(2); b", b"\x0b\x16"), (SEQ + "b.truncate(-1); b", b""),
    (SEQ + "b.chop(2); b", b"\x37\x42"), (SEQ + "b.chop(99); b.len", 6), (SEQ + "b.reverse(); b[0]", 0x42),
    (SEQ + "b.contains(0x116)", True), (SEQ + "0x21 in b", True), (SEQ + "5 in b", False),
    (SEQ + "b.extract(1, 2)", b"\x16\x21"), (SEQ + "b.extract(-2)", b"\x37\x42"),
    (SEQ + "b.extract(2..4)", b"\x21\x2c"), (SEQ + "b.extract(2..=3)", b"\x21\x2c"),
    (SEQ + "b.extract(4, 99)", b"\x37\x42"), (SEQ + "b.extract(9, 1)", b""), (SEQ + "b.extract(1, -1)", b""),
    (SEQ + "let t = b.split(-2); [t.len, b.len]", [2, 4]), (SEQ + "let t = b.split(0); [t.len, b.len]", [6, 0]),
    (SEQ + "let d = b.drain(1..3); [d, b]", [b"\x16\x21", b"\x0b\x2c\x37\x42"]),
    (SEQ + "let d = b.drain(-1, 5); [d, b.len]", [b"\x42", 5]),
    (SEQ + "let r = b.retain(1, 2); [r, b]", [b"\x0b\x2c\x37\x42", b"\x16\x21"]),
    (SEQ + "let r = b.retain(2..=2); [r.len, b]", [5, b"\x21"]), (SEQ + "let r = b.retain(1, 0); b.len", 6),
    (SEQ + "b.splice(1, 2, blob(1, 0)); b", b"\x0b\x00\x2c\x37\x42"),
    (SEQ + "b.splice(1..=4, blob()); b", b"\x0b\x42"),
    (SEQ + "b.splice(2, 0, blob(1, 0xee)); b[-1]", 0xEE),  # an empty portion appends, as in Rhai
    ("let b = blob(2); b.pad(4, 0x101); b", b"\x00\x00\x01\x01"), ("let b = blob(2); b.pad(1, 5); b.len", 2),
    ("blob(3, 65).to_array()", [65, 65, 65]), ('let b = blob(); b += "héllo"; b.as_string()', "héllo"),
    ("let b = blob(2, 0xff); b.as_string()", "\ufffd\ufffd"), ('"hé".to_blob()', b"h\xc3\xa9"),
    ("blob(2, 1) + blob(1, 2)", b"\x01\x01\x02"),
    ("let b = blob(1); b += blob(2, 3); b += 4; b", b"\x00\x03\x03\x04"),
    ("blob(2, 1) == blob(2, 1)", True), ("blob(2, 1) != blob(3, 1)", True),
    ("let b = blob(3, 7); let s = 0; for x in b { s += x } s", 21),
    ("let b = blob(2, 1); print(b); to_string(blob(10, 0x42))", "[4242424242424242 4242]"),
    ('to_json(#{b: blob(2, 7), e: blob()})', '{"b":[7,7],"e":[]}'), ("`${blob(2, 255)}`", "[ffff]"),
]

PARSE = "let x = blob(16); for i in 0..16 { x[i] = i; } "
NUMBERS = [
    (PARSE + "x.parse_le_int(2, 3)", 0x040302), (PARSE + "x.parse_be_int(2, 3)", 0x020304 << 40),
    (PARSE + "x.parse_le_int(2..5)", 0x040302), (PARSE + "x.parse_be_int(2..=4)", 0x020304 << 40),
    (PARSE + "x.parse_le_int(-3, 99)", 0x0F0E0D), (PARSE + "x.parse_le_int(-999, 2)", 0x0100),
    (PARSE + "x.parse_le_int(1, 0)", 0), (PARSE + "x.parse_le_int(16, 4)", 0),
    (PARSE + "x.parse_le_int(0, 12)", 0x0706050403020100),
    (PARSE + "x.write_le(0, 8, -2); x.parse_le_int(0, 8)", -2),
    (PARSE + "x.write_be(4..6, 0x1234); [x[4], x[5], x[6]]", [0, 0, 6]),
    (PARSE + "x.write_le(4..=5, 0x1234); [x[4], x[5], x[6]]", [0x34, 0x12, 6]),
    (PARSE + "x.write_be(-2, 99, -1); x.parse_be_int(-2, 2)", -1 << 48),
    ("let x = blob(8); x.write_le(0, 8, 2.5); x.parse_le_float(0, 8)", 2.5),
    ("let x = blob(8); x.write_be(0..8, -0.75); x.parse_be_float(0..=7)", -0.75),
    ("let x = blob(8); x.write_be(0, 8, 1.5); x.parse_le_float(0, 8) == 1.5", False),
    ("let x = blob(4); x.write_le(0, 4, 1.5); x.parse_le_float(0, 4)", 0.0),  # the high bytes were cut
    ('let x = blob(6); x.write_ascii(1, 9, "a❤b c"); x', b"\x00ab c\x00"),
    ('let x = blob(6); x.write_ascii(1..3, "hello"); x', b"\x00he\x00\x00\x00"),
    ('let x = blob(6); x.write_utf8(2..=5, "❤❤"); x', b"\x00\x00\xe2\x9d\xa4\xe2"),
    ('let x = blob(4); x.write_utf8(-2, 1, "xyz"); x', b"\x00\x00x\x00"),
    ('let x = blob(4); x.write_utf8(0, 0, "xyz"); x', b"\x00\x00\x00\x00"),
]


def test_blob_functions(engine):
    check_cases(engine, CASES + NUMBERS)


def test_a_blob_is_copied_on_assignment_like_an_array(engine):
    assert engine.eval("let a = blob(2); let b = a; b[0] = 9; a") == b"\x00\x00"
    assert engine.eval("let a = [blob(1)]; let b = a[0]; b.push(1); a[0].len") == 1
    assert engine.eval("fn f(b) { b.push(1); b.len } let a = blob(1); f(a) + a.len") == 3
    assert engine.eval("let a = [blob(1)]; let b = a; b[0].push(1); a[0].len") == 1
    assert engine.eval("let m = #{x: blob(1)}; let n = m; n.x.push(1); [m.x.len, n.x.len]") == [1, 2]
    assert engine.eval("let a = [blob(1)]; for x in a { x.push(1) } a[0].push(2); a[0]") == b"\x00\x02"
    assert engine.eval("let a = []; a.pad(2, blob(1)); a[0].push(1); [a[0].len, a[1].len]") == [2, 1]


def test_a_blob_is_bytes_for_the_host_and_bytes_come_in_as_a_blob():
    engine = Engine()
    scope = Scope().push("x", b"\x01\x02")
    assert engine.eval("x[1] = 999; type_of(x)", scope=scope) == "blob"
    assert scope.get_value("x") == b"\x01\xe7"
    assert engine.eval("[blob(1, 7)]") == [b"\x07"]


@pytest.mark.parametrize("script", [
    "blob(101)", "let b = blob(100); b.push(1)", "let b = blob(60); b += b", "let b = blob(99); b.append(\"xy\")",
    "let b = blob(10); b.pad(101, 0)", "blob(60) + blob(60)", "let a = [blob(60), blob(60)]",
    "let a = []; for i in 0..70 { a.push(i) } a.push(blob(20)); a[70].pad(40, 1);",
    "let a = []; for i in 0..70 { a.push(i) } a.push(blob(20)); for i in 0..20 { a[70] += i }",
    "let b = blob(90); let s = \"x\"; s.pad(20, \"y\"); b.append(s)",
    "let b = blob(60); let a = b.to_array(); a += b.to_array();",
])
def test_blobs_count_towards_max_array_size(script):
    with pytest.raises(RhaiError) as info:
        Engine(max_array_size=100).eval(script)
    assert info.value.kind == "ErrorDataTooLarge", info.value


def test_huge_sizes_and_positions_are_refused_or_clamped_without_allocating():
    unlimited = Engine(max_operations=10**6)
    for script in ("blob(1 << 40)", "let b = blob(); b.pad(1 << 62, 0)"):
        with pytest.raises(RhaiError) as info:
            unlimited.eval(script)
        assert info.value.kind == "ErrorDataTooLarge"
    big = (1 << 63) - 1
    assert unlimited.eval(f"let b = blob(4); b.write_le(0, {big}, -1); b.write_utf8(-{big}, {big}, \"ab\"); "
                          f"b.write_be(2..{big}, 1.0); [b.extract(1, {big}), b.parse_le_int(-{big}, {big})]") \
        == [b"b\x3f\xf0", int.from_bytes(b"ab\x3f\xf0", "little")]
