"""Hostile scripts against the compiler's inline fast paths (issue 20): a string built at C speed
by an inline ``+`` (typed string operands, ``s += value``) is charged by its length as the
runtime's ``concat`` charges it, so ``max_operations`` bounds the work of a loop that copies a
long string on every turn (another variable keeps the old one, so CPython cannot append in
place); ``filter``'s predicate stops at its first result that is no bool; the value of an
assignment and the item of ``in`` are evaluated first, with or without counting; and generated
scripts (aliasing through calls, closures, loops and ``this``, i64 edges, odd indices, mixed
types) give the same value or error under limits that switch each fast path on and off."""

from __future__ import annotations

import pytest

from neira_factory.rhai import Engine, RhaiError

PIECE = '"' + "y" * 1024 + '"'
COPYING = [  # each turn copies the whole string (``t`` keeps the old one): quadratic work
    "let s = \"\"; let t = \"\"; let x = {p}; let n = 0; while n < 3000 {{ s += x; t = s; n += 1; }} s.len()",
    "let s = \"\"; let t = \"\"; let x = {p}; let n = 0; while n < 3000 {{ s = s + x; t = s; n += 1; }} s.len()",
    "let s = \"\"; let t = \"\"; let a = [{p}]; let n = 0; while n < 3000 {{ s += a[0]; t = s; n += 1; }} s.len()",
    "let s = \"\"; let t = \"\"; let x = {p}; let n = 0; while n < 3000 {{ t = s; s = x + s; n += 1; }} s.len()",
    "fn f(s, x) {{ s + x }} let s = \"\"; let x = {p}; let n = 0; while n < 3000 {{ s = f(s, x); n += 1; }} s.len()",
]


@pytest.mark.parametrize("script", COPYING)
def test_copying_a_long_string_each_turn_is_charged(script):
    # 3,000 turns copy 4.6 GB in all: one operation per 1,024 characters is ~4.6 million
    engine = Engine(max_operations=200_000)
    with pytest.raises(RhaiError) as info:
        engine.eval(script.format(p=PIECE))
    assert info.value.kind == "ErrorTooManyOperations"


def test_short_string_appends_still_run():
    engine = Engine(max_operations=200_000)
    assert engine.eval('let s = ""; let n = 0; while n < 1000 { s += "ab"; s = s + "c"; n += 1; } s.len()') == 3000


@pytest.mark.parametrize("script, expected", [
    # the first element's result is no bool: the callback is not called on the others
    ("let n = 0; try { [1, 2, 3].filter(|x| { n += 1; x }) } catch {} n", 1),
    ("let seen = []; try { [1, 2, 3].filter(|x| { seen.push(x); x }) } catch {} seen", [1]),
    ("let n = 0; try { [1, 2, 3].filter(|x, i| { n += 1; i }) } catch {} n", 1),
    ("let n = 0; [1, 2, 3].filter(|x| { n += 1; x == 2 }); n", 3),
])
def test_filter_stops_at_the_first_result_that_is_no_bool(script, expected):
    assert Engine().eval(script) == expected
    assert Engine(max_operations=100_000).eval(script) == expected


@pytest.mark.parametrize("script", ["[1, 9223372036854775807].filter(|x| x + 1)", "[1, 0].filter(|x| 1 / x)"])
def test_filter_reports_the_first_result_that_is_no_bool_before_a_later_error(script):
    with pytest.raises(RhaiError) as info:
        Engine().eval(script)
    assert info.value.kind == "ErrorMismatchDataType"


@pytest.mark.parametrize("limits", [{}, {"max_operations": 1_000_000}, {"max_array_size": 1000}])
@pytest.mark.parametrize("script, expected", [
    # Rhai evaluates the value of an assignment first, then the container and the index
    ("fn g() { throw 1 } let v = []; try { v[0][5] = g(); } catch (e) { e }", 1),
    ("fn g() { throw 1 } let v = 5; try { v.a.b = g(); } catch (e) { e }", 1),
    ("fn g() { throw 1 } let v = #{}; try { v[1] = g(); } catch (e) { e }", 1),
    ("let a = [1, 2]; let i = 0; fn g() { 9 } a[i] = g(); a", [9, 2]),
])
def test_an_assigned_value_is_evaluated_before_its_target(limits, script, expected):
    assert Engine(**limits).eval(script) == expected


# -- differential: the same scripts under limits that switch the fast paths on and off ---------
PRELUDE = """
fn mutate(a) { a.push(9); a.len() }
fn set0(a) { a[0] = 7; a }
fn same(a) { a }
fn first(a) { a[0] }
fn keep(a) { #{k: a} }
fn copy_loop(a) { let r = []; for x in a { r.push(x) } r }
fn bump_loop(a) { for x in a { x += 1; } a }
fn deep(a) { a[0].push(1); a }
fn cat(s) { s += "x"; s }
fn grow() { this.push(5); this.len() }
fn rec(n, a) { if n <= 0 { a } else { a.push(n); rec(n - 1, a) } }
fn captured(a) { let f = || { a.push(8); a.len() }; f.call(); a }
fn plus(a, b) { a + b }
fn minus(a, b) { a - b }
fn times(a, b) { a * b }
fn add_to(a, b) { a += b; a }
"""
UNARY = ["mutate", "set0", "same", "first", "keep", "copy_loop", "bump_loop", "deep", "cat", "captured"]
BINARY = ["plus", "minus", "times", "add_to"]
NUMBERS = ["0", "1", "-1", "2", "9223372036854775807", "-9223372036854775807 - 1", "3037000500", "100"]
STARTS = [["[1, 2]", "[[1], [2]]", "[]", "[9223372036854775807]"], ["[[1], #{k: [2]}]", "[\"a\", 1]"],
          ["#{k: [1], a: 1}", "#{}"], ["\"ab\"", "\"\"", "'c'"], NUMBERS]
INDICES = ["0", "1", "-1", "-3", "5", "9223372036854775807", "\"k\"", "\"a\"", "i"]
CALLBACKS = ["|x| x * 2", "|x| x + 1", "|x| x > 1", "|x, i| x + i", "|x| { n += 1; x }", "|x| { n += 1; x > 0 }",
             "|x| `${x}`", "|x| [x]", "|x| x * 3037000500"]


def _expr(r, depth=0):
    v = f"v{r.randrange(5)}"
    shapes = [
        lambda: r.choice(NUMBERS + ["\"s\"", "[1, [2]]", "#{k: 1}", "()", "true"]), lambda: v,
        lambda: f"{v}[{r.choice(INDICES)}]", lambda: f"{v}.{r.choice('ka')}", lambda: f"{r.choice(UNARY)}({v})",
        lambda: f"{r.choice(BINARY)}({_expr(r, 2)}, {_expr(r, 2)})",
        lambda: f"({_expr(r, 2)} {r.choice(['+', '-', '*', '/', '%', '==', '<', 'in', '??', '<<', '**'])} {_expr(r, 2)})",
        lambda: f"`${{{v}}}-${{{_expr(r, 2)}}}`", lambda: f"{v}.grow()", lambda: f"rec({r.randrange(4)}, {v})",
        lambda: f"{v}.{r.choice(['map', 'filter', 'all', 'find'])}({r.choice(CALLBACKS)})",
        lambda: f"{v}.reduce(|s, x| s + x, {r.choice(NUMBERS)})", lambda: f"{v}.len()",
    ]
    return r.choice(shapes[:5] if depth else shapes)()


def _stmt(r, depth=0):
    v, w = f"v{r.randrange(5)}", f"v{r.randrange(5)}"
    shapes = [
        lambda: f"{v} = {_expr(r)};", lambda: f"{v}[{r.choice(INDICES)}] = {_expr(r)};",
        lambda: f"{v}.{r.choice('ka')} = {_expr(r)};", lambda: f"{v} {r.choice(['+=', '-=', '*=', '/='])} {_expr(r)};",
        lambda: f"{v}.push({_expr(r)});", lambda: f"{v}[{r.choice(INDICES)}] += {_expr(r)};", lambda: f"res.push({_expr(r)});",
        lambda: f"{v} = {_expr(r)}; {w}.push({v});", lambda: f"{v}[{r.choice(INDICES)}][0] = {_expr(r)};",
        lambda: f"for x in {v} {{ {_stmt(r, 1)} {r.choice(['x += 1;', v + '.push(x);', 'res.push(x);', v + ' = [];'])} }}",
        lambda: f"let f = |y| {{ {v}.push(y); {v}.len() }}; res.push(f.call({_expr(r)}));",
        lambda: f"{{ let {v} = {_expr(r)}; {_stmt(r, 1)} res.push({v}); }}",
    ]
    return r.choice(shapes[:9] if depth else shapes)()


def _script(r):
    lines = [f"let v{i} = {r.choice(STARTS[i])};" for i in range(5)] + ["let n = 0; let res = []; let i = 1;"]
    for _ in range(r.randrange(2, 6)):
        s = _stmt(r)
        lines.append(f"try {{ {s} }} catch (e) {{ res.push(type_of(e)); }}" if r.random() < 0.7 else s)
    return PRELUDE + "\n".join(lines + ["[v0, v1, v2, v3, v4, res, n]"])


def _outcome(limits, script):
    try:
        return "ok", repr(Engine(**limits).eval(script))
    except RhaiError as e:
        return "error", e.kind


BIG = 1 << 40
SWITCHES = [{},  # no counting, no data sizes: every fast path
            {"max_operations": BIG}, {"timeout_ms": BIG},  # counting: per block, leaf functions, batched callbacks
            {"max_array_size": BIG, "max_string_size": BIG, "max_map_size": BIG},  # stores through the runtime helpers
            {"max_operations": BIG, "max_array_size": BIG, "max_string_size": BIG, "max_map_size": BIG}]


def test_fast_paths_agree_with_the_general_helpers_on_generated_scripts():
    import random
    r = random.Random(20)
    for _ in range(60):
        script = _script(r)
        outcomes = [_outcome(limits, script) for limits in SWITCHES]
        assert len(set(outcomes)) == 1, (script.removeprefix(PRELUDE), outcomes)


@pytest.mark.parametrize("limits", [{}, {"max_operations": 1_000_000}])
@pytest.mark.parametrize("script", [
    # the item of ``in`` is evaluated before the container (left to right, as in Rhai)
    "fn g() { throw 1 } let x = 9223372036854775807; try { (x + 1) in g() } catch (e) { type_of(e) }",
    "fn g() { throw 1 } let a = []; try { a[3] in g() } catch (e) { type_of(e) }",
    "fn g() { throw 1 } fn h() { throw #{} } try { h() in g() } catch (e) { type_of(e) }",
])
def test_the_item_of_in_is_evaluated_before_the_container(limits, script):
    assert Engine(**limits).eval(script) == "map"
