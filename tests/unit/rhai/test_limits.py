"""Limits (max_operations, call levels, expression depth, data sizes, variables,
timeout) and hostile scripts: every one must end in a RhaiError, quickly."""

import time

import pytest

from neira_factory.rhai import Engine, RhaiError
from neira_factory.rhai.runtime import sizes


def kind_of(engine, script):
    with pytest.raises(RhaiError) as info:
        engine.run(script)
    return info.value.kind


def test_operation_limit_stops_endless_loops():
    engine = Engine(max_operations=10_000)
    for script in ("loop {}", "while true {}", "do {} while true", "let x = 0; loop { x += 1; }",
                   "for x in 0..1_000_000_000 {}", "fn f() { loop {} } f()",
                   "let f = || { loop {} }; f.call()", "[1, 2].map(|x| { loop {} })"):
        assert kind_of(engine, script) == "ErrorTooManyOperations", script


def test_operation_limit_allows_small_scripts():
    engine = Engine(max_operations=500)
    engine.run("let x = 0; while x < 20 { x += 1; }")


def test_timeout_terminates():
    engine = Engine(timeout_ms=100)
    t0 = time.monotonic()
    assert kind_of(engine, "loop {}") == "ErrorTerminated"
    assert time.monotonic() - t0 < 2


def test_runaway_recursion():
    assert kind_of(Engine(), "fn f(n) { f(n + 1) } f(0)") == "ErrorStackOverflow"
    assert kind_of(Engine(max_call_levels=8), "fn f(n) { if n == 0 { 0 } else { f(n - 1) } } f(9)") \
        == "ErrorStackOverflow"
    Engine(max_call_levels=8).run("fn f(n) { if n == 0 { 0 } else { f(n - 1) } } f(6)")
    assert kind_of(Engine(max_call_levels=0), "fn f(n) { f(n + 1) } f(0)") == "ErrorStackOverflow"
    assert kind_of(Engine(), "let f = |g| g.call(g); f.call(f)") == "ErrorStackOverflow"


def test_deep_nesting_is_refused_at_parse_time():
    engine = Engine()
    for script in ("(" * 500 + "1" + ")" * 500, "[" * 500 + "]" * 500, "{" * 500 + "}" * 500,
                   "-" * 2000 + "1", "1" + " + 1" * 200, "if true {" * 300 + "}" * 300):
        with pytest.raises(RhaiError) as info:
            engine.compile(script)
        assert info.value.kind == "ErrorParsing" and info.value.inner == "ExprTooDeep", script[:20]


def test_unlimited_depth_never_leaks_recursion_error():
    engine = Engine(max_expr_depths=0)
    with pytest.raises(RhaiError):
        engine.eval("(" * 5000 + "1" + ")" * 5000)


def test_data_size_limits():
    engine = Engine(max_string_size=100, max_array_size=100, max_map_size=10, max_operations=100_000)
    assert kind_of(engine, 'let s = "ab"; loop { s += s; }') == "ErrorDataTooLarge"
    assert kind_of(engine, "let a = [1]; loop { a += a; }") == "ErrorDataTooLarge"
    assert kind_of(engine, "let a = []; loop { a.push(1); }") == "ErrorDataTooLarge"
    assert kind_of(engine, 'let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; }') == "ErrorDataTooLarge"
    assert kind_of(engine, '"x".pad(1000, "y")') == "ErrorDataTooLarge"
    with pytest.raises(RhaiError) as info:
        engine.compile("[" + "1," * 200 + "]")
    assert info.value.inner == "LiteralTooLarge"


def test_doubling_is_stopped_by_size_limits():
    engine = Engine(max_operations=200, max_string_size=1 << 20, max_array_size=1 << 16)
    assert kind_of(engine, 'let s = "ab"; loop { s += s; }') == "ErrorDataTooLarge"
    assert kind_of(engine, "let a = [1, 2]; loop { a += a; }") == "ErrorDataTooLarge"


def test_set_and_splice_are_size_checked():
    engine = Engine(max_array_size=100, max_operations=100_000)
    assert kind_of(engine, "let a = [1, 2]; loop { a.set(0, a); }") == "ErrorDataTooLarge"
    assert kind_of(engine, "let a = [1]; loop { a.splice(0, 0, a); }") == "ErrorDataTooLarge"
    assert engine.eval("let a = [1, 2, 3]; a.splice(1, 1, [7, 8]); a.set(0, 0); a") == [0, 7, 8, 3]


def test_large_sized_arrays_hold_their_elements():
    engine = Engine(max_array_size=200_000, max_operations=10_000_000)
    assert engine.eval("let a = []; for i in 0..50_000 { a.push(i); } a.len()") == 50_000


def test_max_variables():
    engine = Engine(max_variables=3)
    engine.run("let a = 1; let b = 2; let c = 3;")
    assert kind_of(engine, "let a = 1; let b = 2; let c = 3; let d = 4;") == "ErrorTooManyVariables"


def test_limit_errors_cannot_be_caught():
    engine = Engine(max_operations=1000)
    assert kind_of(engine, "try { loop {} } catch { 1 }") == "ErrorTooManyOperations"


def test_huge_literals():
    engine = Engine()
    with pytest.raises(RhaiError):
        engine.compile("99999999999999999999999999")
    assert kind_of(engine, "2 ** 999999999999") == "ErrorArithmetic"
    assert engine.eval("1e400") == float("inf")


GROWING = [  # (script, result): each inserted 20,000 times into one container
    ("let m = #{}; for i in 0..20_000 { m[`k${i}`] = i; } m.len()", 20_000),
    ("let m = #{}; for i in 0..20_000 { m.set(`k${i}`, [i]); } m.len()", 20_000),
    ("let m = #{}; for i in 0..20_000 { m[`k${i}`] = #{a: i, b: [i]}; } m.len()", 20_000),
    ("let m = #{n: #{}, c: 0}; for i in 0..20_000 { m.n[`k${i}`] = i; m.c += 1; } m.c", 20_000),
    ("let m = #{a: []}; for i in 0..20_000 { m.a += [i]; m.last = i; } m.a.len()", 20_000),
    ("let a = []; for i in 0..20_000 { a += i; } a.len()", 20_000),
    ("let a = []; for i in 0..20_000 { a.push([i]); } a.len()", 20_000),
    ("let a = []; a.pad(20_000, 0); for i in 0..20_000 { a[i] = \"x\"; } a.len()", 20_000),
    ("let m = #{s: \"\"}; for i in 0..20_000 { m.s += \"x\"; } m.s.len()", 20_000),
]


def test_growing_large_containers_under_size_limits():
    """The incremental size accounting (runtime/sizes.py) on 20,000 inserts into one container; how fast
    this is (it used to be O(n²)) is measured by bench/rhai.py, not here."""
    engine = Engine(max_array_size=1_000_000, max_map_size=1_000_000, max_string_size=1_000_000)
    for script, expected in GROWING:
        assert engine.eval(script) == expected, script


SIZED = [  # scripts against max_array_size=50, max_map_size=30, max_string_size=40
    "let m = #{}; for i in 0..100 { m[`k${i}`] = i; }",
    "let m = #{}; for i in 0..100 { m[`k${i % 20}`] = [i, i]; }",
    "let m = #{a: [], n: #{}}; for i in 0..100 { m.a.push(i % 3); m.n[`k${i % 9}`] = i; m.x = i; }",
    "let m = #{a: [], b: []}; for i in 0..100 { m.a.push([i]); m.b = [i, i, i]; m.c = i; }",
    "let a = [[]]; for i in 0..100 { a[0].push(i); a.push(1); a.pop(); }",
    "let a = [[1]]; for i in 0..100 { let f = a.first(); f.push(i); a.push(1); a.pop(); }",
    "let a = [[1]]; for i in 0..100 { let b = [a.first(), a.first()]; for j in 0..5 { b[0].push(j); } b.push([]); }",
    "let a = [[1]]; for i in 0..99 { let b = [a.first(), a.first()]; for j in 0..3 { b[1].push([j]); } b.push([]); }",
    "let a = [[1]]; for i in 0..100 { for x in a { x.push(i); } a.push(1); a.pop(); }",
    "let a = [[1], [2]]; for i in 0..100 { a.for_each(|| { this.push(1); }); a.push(0); a.pop(); }",
    "let a = [1, 2]; for i in 0..100 { a.for_each(|| { this = [this, this]; }); a.push([0]); a.pop(); }",
    "let a = [[1]]; for i in 0..100 { let b = a + []; b[0].push(i); a.push(1); a.pop(); }",
    "let a = []; for i in 0..100 { a.push([i]); a.shift(); a.push(i); }",
    "let a = []; for i in 0..100 { a.insert(0, [i, i]); a.truncate(8); a.append([[1], [2]]); }",
    "let a = [1]; for i in 0..100 { a.splice(0, 1, [[1, 2], 3]); a.set(0, [i, i, i]); a.push(1); }",
    ("let m = #{}; for i in 0..100 { m.mixin(#{a: [1, 2, 3], z: [i]}); m.fill_with(#{y: [1], a: []}); "
     "m += #{w: [i]}; m.remove(\"w\"); m[`k${i}`] = 1; }"),
    "let m = #{s: \"\"}; for i in 0..100 { m.s += \"xy\"; m.t = m.s; }",
    "let m = #{l: []}; for i in 0..100 { m.l.push(\"ab\"); m.l[0] += \"cd\"; }",
    "let m = #{a: [], b: []}; for i in 0..100 { m.a.push(i); m.b.push(i); m.c = i; }",
    "let m = #{p: #{}, q: #{}}; for i in 0..100 { m.p[`k${i}`] = 1; m.q[`k${i}`] = 1; m.z = i; }",
    "let m = #{d: #{l: [[]]}}; for i in 0..100 { m.d.l[0].push(i); m.d.x = i; m[`k${i % 5}`] = 1; }",
    "let m = #{}; for i in 0..100 { m.a = [i]; m.a.push(i); m.b = m.a; m.clear(); m[`k${i}`] = [1, 2]; }",
    "let a = []; for i in 0..100 { a = [a + []]; a.push(i); }",
    "let m = #{}; for i in 0..100 { m[`k${i}`] = []; for j in 0..3 { m[`k${i}`].push(j); } m.x = i; }",
    "let m = #{}; for i in 0..100 { m[`k${i}`] = #{l: []}; m[`k${i}`].l += [1, 2]; m.x = i; }",
    "let m = #{n: #{}}; for i in 0..100 { let t = #{}; t[`k${i}`] = [i]; m.n.mixin(t); m.z = i; }",
    "let m = #{n: #{}}; for i in 0..100 { let t = #{}; t[`k${i}`] = [i]; m.n.fill_with(t); m.z = i; }",
    "let m = #{n: #{}}; for i in 0..100 { let t = #{}; t[`k${i}`] = [i]; m.n += t; m.z = i; }",
    "let m = #{l: [[]]}; for i in 0..100 { m.l[0] = m.l[0] + [i]; m.x = i; }",
    # values read out (copies, nested containers too) then stored back
    "let a = [[1]]; for i in 0..100 { let b = a.filter(|x| true); b[0].push(i); a[0] += b[0]; }",
    "let m = #{a: [1]}; for i in 0..100 { let v = m.values(); v[0].push(i); m.a += v[0]; m.x = i; }",
    "let a = [[1]]; for i in 0..100 { a.map(|x| { x.push(i); x }); for x in a { x.push(i); a.push(x); } }",
    "let a = [[1], [2]]; for i in 0..100 { let b = a.extract(0, 1) + a; b[0].push(i); a.push(b); a.shift(); }",
]


@pytest.mark.parametrize("script", SIZED)
def test_remembered_sizes_raise_exactly_where_counting_afresh_does(monkeypatch, script):
    """Large containers' sizes are remembered and updated in place (runtime/sizes.py);
    the verdict (and where it comes) must be what measuring every time gives."""

    def outcome():
        engine = Engine(max_array_size=50, max_map_size=30, max_string_size=40, max_operations=1_000_000)
        try:
            engine.run(script)
            return "ok", engine.last_operations
        except RhaiError as e:
            return str(e), engine.last_operations

    monkeypatch.setattr(sizes, "MIN_REMEMBERED", 1 << 60)
    fresh = outcome()
    for min_remembered, max_roots in ((0, 16), (0, 1), (1, 2), (64, 16)):
        monkeypatch.setattr(sizes, "MIN_REMEMBERED", min_remembered)
        monkeypatch.setattr(sizes, "MAX_ROOTS", max_roots)
        assert outcome() == fresh, (min_remembered, max_roots)


def test_sized_scripts_mostly_hit_a_limit():
    """The table above exercises the limits, not just scripts that stay small."""
    engine = Engine(max_array_size=50, max_map_size=30, max_string_size=40, max_operations=1_000_000)
    kinds = []
    for script in SIZED:
        try:
            engine.run(script)
            kinds.append("ok")
        except RhaiError as e:
            kinds.append(e.kind)
    assert kinds.count("ErrorDataTooLarge") >= len(SIZED) * 3 // 4, kinds
