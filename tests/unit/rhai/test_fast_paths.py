"""The compiler's inline fast paths keep Rhai's semantics: arrays and maps stay values (reads,
stores, ``push``, parameters a function only reads, loop variables a loop only reads), indexing
out of bounds and overflow still raise, callbacks called straight by ``map``/``filter``/``reduce``
behave as through ``call``, and every limit still stops the script."""

import pytest

from neira_factory.rhai import Engine, RhaiError

from .conftest import Err, check_cases

VALUES = [  # copy-on-assign through the in-place reads and stores
    ("let a = [[1]]; let b = a[0]; b.push(2); a", [[1]]),
    ("let a = [[1]]; let i = 0; let b = a[i]; b.push(2); a", [[1]]),
    ("let m = #{x: [1]}; let y = m.x; y.push(2); m", {"x": [1]}),
    ("let m = #{x: [1]}; let k = \"x\"; let y = m[k]; y.push(2); m", {"x": [1]}),
    ("let a = [0]; let b = [1]; a[0] = b; b.push(2); a", [[1]]),
    ("let m = #{}; let b = [1]; m[\"k\"] = b; b.push(2); m", {"k": [1]}),
    ("let m = #{}; let b = [1]; m.k = b; b.push(2); m", {"k": [1]}),
    ("let a = []; let b = [1]; a.push(b); b.push(2); a", [[1]]),
    ("let a = [1, 2, 3]; a[-1] = 9; [a[-1], a[-3]]", [9, 1]),
    ("let a = [1, 2, 3]; a[1] += 5; a", [1, 7, 3]),
    ("let m = #{n: 1}; m.n += 1; m[\"n\"] += 1; m", {"n": 3}),
    ("let m = #{}; let k = \"a\"; [k in m, \"a\" in #{a: 1}]", [False, True]),
    ("let s = \"abc\"; s[1]", "b"),
    ("let x = 7; let y = -2; [x / y, x % y, -7 / 2, -7 % 2, 7 / 2, 7 % 2]", [-3, 1, -3, -1, 3, 1]),
    ("let i = 5; `n${i}:${\"x\"}`", "n5:x"),
    ("let a = [1, 2]; let s = \"h\u00e9!\"; let n = 0; while n < a.len() { n += 1; } [n, s.len(), a.len]", [2, 3, 2]),
    ("let s = \"\"; for x in [\"a\", 1, 'c'] { s += x; } s", "a1c"),
    ("let a = [true, false]; [!a[0], !a[1]]", [False, True]),
    ("let w = [\"ab\", 1, 'a', \"b\"]; [w[0] == \"ab\", w[1] == \"1\", w[2] == \"a\", w[3] < \"c\", \"c\" <= w[3]]",
     [True, False, True, True, False]),
]

BORROWED = [  # a parameter passed without a copy is only read, or copied as the result
    ("fn f(a) { a } let x = [1]; let y = f(x); y.push(2); x", [1]),
    ("fn f(a) { if true { a } else { [] } } let x = [1]; let y = f(x); y.push(2); x", [1]),
    ("fn f(a) { a[0] } let x = [[1]]; let y = f(x); y.push(2); x", [[1]]),
    ("fn f(a) { a.push(1); a.len() } let x = []; [f(x), x.len()]", [1, 0]),
    ("fn f(a) { a[0] = 5; a } let x = [1]; [f(x), x]", [[5], [1]]),
    ("fn f(a) { let g = || a; g } let x = [1]; let y = f(x).call(); y.push(2); x", [1]),
    ("fn f(a) { a ?? [] } let x = [1]; let y = f(x); y.push(2); x", [1]),
    ("fn f(a) { try { throw a; } catch (e) { e.push(2); e } } let x = [1]; [f(x), x]", [[1, 2], [1]]),
    ("fn f(a, n) { if n == 0 { a.len() } else { f(a, n - 1) } } f([1, 2], 3)", 2),
]

LOOPS = [  # a loop variable the body only reads walks the elements themselves
    ("let a = [[1], [2]]; let t = 0; for r in a { t += r[0]; } t", 3),
    ("let a = [[1], [2]]; for r in a { let s = r; s.push(3); } a", [[1], [2]]),
    ("let a = [[1], [2]]; for r in a { r.push(3); } a", [[1], [2]]),
    ("let a = [1, 2]; let n = 0; for x in a { a.push(x); n += 1; } [n, a.len()]", [2, 4]),
]

CALLBACKS = [  # map/filter/reduce calling closures straight
    ("[[1], [2]].map(|x| { x.push(0); x })", [[1, 0], [2, 0]]),
    ("let a = [[1], [2]]; a.map(|x| { x.push(0); x }); a", [[1], [2]]),
    ("let k = 2; [1, 2, 3, 4].filter(|x| x % k == 0)", [2, 4]),
    ("let n = 0; [1, 2, 3].map(|x| { n += x; x }); n", 6),
    ("[1, 2, 3].reduce(|acc, x| acc + x, 10)", 16),
    ("[[1], [2]].reduce(|acc, x| { x.push(9); acc + x.len() }, 0)", 4),
    ("[1, 2].filter(|x| x)", Err("ErrorMismatchDataType")),
    ("[1, 2].map(|x, i| x * i)", [0, 2]),
    ("[5, 6, 7].filter(|x, i| i > 0)", [6, 7]),
    ("[5, 6, 7].reduce(|acc, x, i| acc + x * i, 0)", 20),
    ("[5, 6, 7].reduce(|acc, x| if acc == () { x } else { acc + x })", 18),
    ("[1, 2].map(|x| this * 2)", [2, 4]),
    ("[1, 2].map(|x, i, j| x)", Err("ErrorFunctionNotFound")),
    # closures of plain syntax run their loop compiled (``batch_function``)
    ("let a = [[1], [2]]; let b = a.map(|x| { x[0] = 5; x }); [a, b]", [[[1], [2]], [[5], [5]]]),
    ("let a = [[1], [2]]; let b = a.map(|x| x); b[0][0] = 7; a", [[1], [2]]),
    ("let n = 0; let s = [1, 2, 3].reduce(|acc, x| { n += x; acc + x }, 0); [n, s]", [6, 6]),
    ("[1, 2, 3, 4].map(|x| if x % 2 == 0 { x } else { -x })", [-1, 2, -3, 4]),
    ("[1, 9223372036854775807].map(|x| x + 1)", Err("ErrorInFunctionCall")),
    ("[1, 9223372036854775807].reduce(|acc, x| acc + x, 0)", Err("ErrorInFunctionCall")),
    ("[3, 1, 2].filter(|x| x > 1)", [3, 2]),
    ("[3, 1, 2].filter(|x| if x > 1 { true } else { 0 })", Err("ErrorMismatchDataType")),
]

TYPED = [  # a function called with typed arguments runs its variant for those types
    ("fn f(x) { x + 1 } [f(1), f(\"a\"), f(1.5)]", [2, "a1", 2.5]),
    ("fn f(x) { x + 1 } let a = [f(1)]; a.push(f(\"a\")); a", [2, "a1"]),
    ("fn f(x) { x = \"s\"; x } f(1)", "s"),
    ("fn f(n) { if n == 0 { [] } else { f(n - 1) } } let a = f(2); a.push(1); [a, f(2)]", [[1], []]),
    ("fn tak(x, y, z) { if y < x { tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y)) } else { z } }"
     " tak(12, 8, 4)", 5),
    ("fn d(n) { if n == 0 { 0 } else { 1 + d(n - 1) } } d(20) + d(\"x\".len())", 21),
    ("fn f(x) { x * x } f(4_000_000_000)", Err("ErrorInFunctionCall")),
    ("fn f(x) { x - 1 } f(-9223372036854775807 - 1)", Err("ErrorInFunctionCall")),
    ("fn f(x) { throw x; } fn g(x) { f(x) + 1 } g(1)", Err("ErrorInFunctionCall")),
    ("fn f(x) { if x > 0 { f(x - 1) } else { `${x}` } } f(3) + \"!\"", "0!"),
    # a loop variable over a range of literals that nothing assigns needs no overflow test
    ("let s = 0; for i in 0..4 { s += i * 3 + 1; } s", 22),
    ("let s = 0; for i in 0..=9223372036854775807 { s = i + 1; if i > 2 { break; } } s", 4),
    ("let s = 0; for i in 0..3 { i = 9223372036854775807; s = i * 2; } s", Err("ErrorArithmetic")),
    ("let s = 0; for i in 0..3 { let f = || { i = 9223372036854775807; }; f.call(); s = i * 2; } s",
     Err("ErrorArithmetic")),
    ("let s = 0; for i in 0..2 { s = i * 9223372036854775807 - 9223372036854775807 - 2; } s",
     Err("ErrorArithmetic")),
]

ERRORS = [
    ("let a = [1]; a[1]", Err("ErrorArrayBounds")),
    ("let a = [1]; a[-2]", Err("ErrorArrayBounds")),
    ("let a = [1]; a[1] = 2;", Err("ErrorArrayBounds")),
    ("let a = [1]; let i = 3; a[i] += 1;", Err("ErrorArrayBounds")),
    ("let x = 9223372036854775807; x += 1;", Err("ErrorArithmetic")),
    ("let a = [9223372036854775807]; a[0] += 1;", Err("ErrorArithmetic")),
    ("let m = #{}; m[1] = 2;", Err("ErrorIndexingType")),
    ("let a = [1]; !a[0]", Err("ErrorFunctionNotFound")),
    ("let a = [1]; if a[0] { 1 }", Err("ErrorMismatchDataType")),
]


@pytest.mark.parametrize("engine", [Engine(), Engine(max_operations=10**7),
                                    Engine(max_array_size=100, max_map_size=100, max_string_size=1000)])
@pytest.mark.parametrize("cases", [VALUES, BORROWED, LOOPS, CALLBACKS, TYPED, ERRORS])
def test_fast_paths_keep_the_semantics(engine, cases):
    check_cases(engine, cases)


def kind_of(engine, script):
    with pytest.raises(RhaiError) as info:
        engine.run(script)
    return info.value.kind


@pytest.mark.parametrize("script", [
    "let f = |x| x + 1; loop { f.call(1); }",
    "fn f(x) { x + 1 } loop { f(1); }",
    "let a = []; a.pad(100_000, 1); loop { a = a.map(|x| x + 1); }",
    "let a = []; a.pad(100_000, 1); loop { a.filter(|x| x > 0); }",
    "let a = []; a.pad(100_000, 1); loop { a.reduce(|s, x| s + x, 0); }",
    "let a = []; loop { a.push(1); if a.len() > 1000 { a = []; } }",
    "let m = #{}; let i = 0; loop { m[`k${i % 10}`] = i; i += 1; }",
    "fn f(n) { if n > 30 { 0 } else { f(n + 1) + f(n + 1) } } f(0)",  # no loop: checked as each call starts
])
def test_operations_are_counted_on_the_fast_paths(script):
    assert kind_of(Engine(max_operations=50_000), script) == "ErrorTooManyOperations"
    assert kind_of(Engine(timeout_ms=100), script) == "ErrorTerminated"


def test_typed_variants_keep_the_call_depth():
    script = "fn d(n) { if n == 0 { 0 } else { 1 + d(n - 1) } } d(50)"
    assert Engine(max_call_levels=100, max_operations=10**6).eval(script) == 50
    assert kind_of(Engine(max_call_levels=20, max_operations=10**6), script) == "ErrorStackOverflow"


def test_leaf_closures_count_their_operations():
    engine = Engine(max_operations=10**9)
    engine.run("let a = []; a.pad(1000, 1); a.map(|x| x + 1 + 2 + 3);")
    assert engine.last_operations > 4000  # each of the 1,000 calls counts its own nodes


@pytest.mark.parametrize("compiled, one_by_one, extra", [
    ("map(|x| { x + 1 })", "map(|x| { return x + 1; })", 0),
    # (``return if …`` counts the ``if`` as an expression too: one more per call)
    ("map(|x| { if x > 500 { x } else { x + 1 } })", "map(|x| { return if x > 500 { x } else { x + 1 }; })", 1000),
    ("filter(|x| { x > 500 })", "filter(|x| { return x > 500; })", 0),
    ("reduce(|s, x| { s + x }, 0)", "reduce(|s, x| { return s + x; }, 0)", 0),
])
def test_compiled_callback_loops_count_as_calls_one_by_one(compiled, one_by_one, extra):
    """A callback's loop compiled into the closure (``batch_function``) counts what the calls
    one by one count (a closure with ``return`` is called one by one)."""
    counts = []
    for call in (compiled, one_by_one):
        engine = Engine(max_operations=10**9)
        engine.run(f"let a = []; for i in 0..1000 {{ a.push(i); }} a.{call};")
        counts.append(engine.last_operations)
    assert counts[0] > 3000 and counts[0] + extra == counts[1], counts


def test_sized_pushes_are_still_checked():
    assert kind_of(Engine(max_array_size=10), "let a = []; for i in 0..20 { a.push(i); }") == "ErrorDataTooLarge"
