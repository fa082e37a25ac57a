"""Hostile scripts against the limits, one table per class of attack (issue 15):

* built-ins doing unbounded work inside one operation: every built-in charges operations in
  proportion to its work (so max_operations and the timeout stop a loop of them) and sizes a
  result that can outgrow its arguments before building it;
* nested growth: a container grown inside another one counts against the outer one, whatever
  grew it (a method, an index chain, a callback's `this`, a script method, a closure);
* shared references: a string held many times counts each time (what it costs to serialise);
* compiling: linear in the script, bounded by `max_tokens`, and `eval` compiles on the run's
  operations and deadline.

Each hostile script must end in the error kind its row names, fast."""

from __future__ import annotations

import time

import pytest

from neira_factory.rhai import Engine, RhaiError
from neira_factory.rhai.packages.registry import FUNCS

pytestmark = pytest.mark.usefixtures("quiet_gc")  # tests/conftest.py: timed bounds

FAST_S = 1.5  # every hostile row ends well within this (the timeouts below are shorter)
STRING, ARRAY, MAP = 1 << 16, 4096, 4096
SIZED = dict(max_string_size=STRING, max_array_size=ARRAY, max_map_size=MAP)


def outcome(engine: Engine, script: str) -> tuple[str, float]:
    started = time.monotonic()
    try:
        engine.run(script)
        kind = "ok"
    except RhaiError as e:
        kind = e.kind
    return kind, time.monotonic() - started


def assert_ends(engine: Engine, script: str, kind: str) -> None:
    got, elapsed = outcome(engine, script)
    assert got == kind, (script, got)
    assert elapsed < FAST_S, f"{script!r} took {elapsed:.2f}s"


BIG = 'let s = "x"; s.pad(60000, "y");'  # 60,000 characters: just under the string limit
BIG_ESC = 'let s = "x"; s.pad(40000, "\\n");'  # escapes to 80,000 characters
ESC = 'let s = "x"; s.pad(20000, "\\n");'  # escapes to 40,000 characters
ARR = "let a = []; a.pad(4000, 1);"  # 4,000 elements: just under the array limit

# -- class 6: one built-in, unbounded work -----------------------------------------------------------
TOO_LARGE = [  # refused before the result is built: ErrorDataTooLarge
    BIG_ESC + "debug(s);",
    BIG_ESC + "let t = to_debug(s);",
    BIG_ESC + "let t = `${[s]}`;",
    BIG_ESC + "print([s]);",
    BIG + "let t = to_string([s, s]);",
    BIG + "let t = `${s}${s}`;",
    BIG + "let a = [s, s];",
    "let a = []; for i in 0..4000 { a.push(\"012345678901234\"); } let t = to_json(a);",
    "let a = []; a.pad(4000, \"01234567890123456789\");",
    ARR + 'let sep = "x"; sep.pad(1000, "y"); let t = a.join(sep);',
    "let a = range(0, 50_000_000, 1);",
    "let a = range(0.0, 1e12, 1.0);",
    "let a = range(0, 9_223_372_036_854_775_807, 1);",
    'let s = "xy"; let a = []; a.pad(100, s); a.pad(1000, a);',
    'let e = []; e.pad(100, 1); let a = []; a.pad(1000, e);',
    BIG + 'let a = []; a.pad(2, s);',
    BIG + 's.replace("y", "yy");',
    BIG + 'let t = s.replace("", "ab");',
    BIG + 'let p = s.split("");',
    BIG + 'let p = s.split("y");',
    'let s = "a "; s.pad(20000, "a "); let p = s.split();',
    BIG + 'let p = s.split_rev("y");',
    BIG + 'let p = s.chars();',
    BIG + 'let p = s.to_chars();',
    BIG + 'let t = s + s;',
    BIG + 's += s;',
    BIG + 's.append(s);',
    BIG + 's.append([s]);',
    BIG + 'let t = s; t.pad(70000, "z");',
    'let s = "ab"; loop { s.append(s); }',
    'let s = "ab"; loop { s += s; }',
    'let s = "ab"; loop { s = `${s}${s}`; }',
    'let a = [1]; loop { a += a; }',
    'let m = #{}; for i in 0..5000 { m[`k${i}`] = i; }',
    'let s = "["; s.pad(20000, "1,"); let v = parse_json(s + "1]");',
    BIG + 'let m = #{}; m[s] = 1; m[s + "1"] = 1;',
    BIG + 'let f = Fn("x").curry(s).curry(s);',
    'let a = []; a.pad(100, [1, 2, 3]); let f = Fn("x"); loop { f = f.curry(a); }',
    'let f = Fn("x"); loop { f = f.curry(1); }',
]
TOO_MANY_OPERATIONS = [  # charged by the element or character: max_operations stops a loop of them
    ESC + "loop { let t = to_debug(s); }",
    ESC + "loop { debug(s); }",
    BIG + "loop { let t = to_json(s); }",
    ARR + "loop { let t = to_json(a); }",
    ARR + 'loop { let t = a.join(","); }',
    ARR + "loop { a.sort(); }",
    ARR + "loop { a.reverse(); }",
    ARR + "loop { let b = a; }",
    ARR + "loop { let b = a == a; }",
    ARR + "loop { let b = 2 in a; }",
    ARR + "loop { let b = a.contains(2); }",
    ARR + "loop { let b = a.index_of(2); }",
    ARR + "loop { a.dedup(); a.push(1); }",
    ARR + "loop { for x in a {} }",
    ARR + "loop { a.insert(0, 1); a.shift(); }",
    ARR + "loop { let b = a.extract(0, 4000); }",
    ARR + "loop { let b = a[0..4000]; }",
    BIG + 'loop { let b = s.contains("z"); }',
    BIG + 'loop { let b = s.index_of("z"); }',
    BIG + "loop { let t = s.to_upper(); }",
    BIG + "loop { let t = s.sub_string(1); }",
    BIG + "loop { let t = s[1..]; }",
    BIG + 'loop { let t = s - "z"; }',
    BIG + 'let t = s + ""; loop { let b = s == t + ""; }',
    BIG + "loop { let b = s.bytes; }",
    BIG + "loop { s.pop(); s.push('y'); }",
    BIG + 'loop { let v = parse_json(to_json(s)); }',
    'let m = #{}; for i in 0..4000 { m[`k${i}`] = i; } loop { let k = m.keys(); }',
    'let m = #{}; for i in 0..4000 { m[`k${i}`] = i; } loop { let k = m.values(); }',
    "for i in range(0, 50_000_000) {}",
    "loop { let r = range(0, 4000, 1); }",
    ARR + "loop { let b = a.map(|x| x); }",
    ARR + "loop { let b = a.filter(|x| true); }",
]


@pytest.mark.parametrize("script", TOO_LARGE)
def test_results_past_the_limits_are_refused_before_they_are_built(script):
    assert_ends(Engine(max_operations=2_000_000, timeout_ms=5000, **SIZED), script, "ErrorDataTooLarge")


@pytest.mark.parametrize("script", TOO_MANY_OPERATIONS)
def test_builtins_charge_operations_in_proportion_to_their_work(script):
    assert_ends(Engine(max_operations=20_000, timeout_ms=5000, **SIZED), script, "ErrorTooManyOperations")


@pytest.mark.parametrize("script", TOO_MANY_OPERATIONS)
def test_builtins_meet_the_deadline(script):
    assert_ends(Engine(max_operations=10**12, timeout_ms=200, **SIZED), script, "ErrorTerminated")


def test_a_small_piece_of_a_large_value_is_charged_for_the_piece():
    engine = Engine(max_operations=10**9, **SIZED)
    engine.run(BIG + "for i in 0..10_000 { let t = s.sub_string(i, 3); let c = s[i]; let n = s.len(); }")
    assert engine.last_operations < 300_000  # charging the whole string each time would take 600,000 more


def test_charged_work_shows_in_the_operation_count():
    engine = Engine(max_operations=10**9)
    engine.run("let a = []; a.pad(1_000_000, 1);")
    padded = engine.last_operations
    engine.run("let a = []; a.pad(1_000_000, 1); a.sort(); a.sort();")
    assert engine.last_operations >= padded + 2_000_000


def test_print_output_is_capped_at_the_string_limit():
    log: list[str] = []
    Engine(max_operations=10**9, **SIZED).run(BIG + "for i in 0..100 { print(s); }", log=log)
    assert sum(map(len, log[:-1])) <= STRING and "not kept" in log[-1]


def test_text_builtins_still_give_rhai_text():
    engine = Engine(**SIZED)
    assert engine.eval('to_debug(["a\\nb", \'c\', #{k: [1, 2.5, ()]}, 1..3, Fn("f").curry(1)])') == \
        '["a\\nb", \'c\', #{"k": [1, 2.5, ()]}, 1..3, Fn(f)(1)]'
    assert engine.eval('to_json(#{b: [1, 2.5, "x\\"y"], a: (), c: Fn("f").curry(2)})') == \
        '{"a":null,"b":[1,2.5,"x\\"y"],"c":["f",2]}'
    assert engine.eval('[1, "a", \'c\', ()].join("-")') == "1-a-c-"
    assert engine.eval('let x = [1]; `${x}:${2}:${"s"}`') == "[1]:2:s"
    assert engine.eval('parse_json("[1, 12345678901234567890, {\\"a,b\\": \\"c\\\\\\"d,\\"}]")') == \
        [1, 1.2345678901234567e19, {"a,b": 'c"d,'}]


# -- class 7: nested growth ------------------------------------------------------------------------
IN_ARRAYS = "let a = []; for i in 0..100 { a.push([0]); }"  # 100 small arrays in an array
IN_MAPS = "let a = []; for i in 0..100 { a.push(#{}); }"  # 100 empty maps in an array
NESTED = [  # 3,000 elements into each of 100 nested containers: 300,000 under a limit of 4,096
    (IN_ARRAYS, "a[i].extend(b);"), (IN_ARRAYS, "a[i].append(b);"), (IN_ARRAYS, "a[i] += b;"),
    (IN_ARRAYS, "a[i].insert(0, b);"), (IN_ARRAYS, "a[i].splice(0, 0, b);"), (IN_ARRAYS, "a[i].push(b);"),
    (IN_ARRAYS, "a[i].pad(3000, 0);"), (IN_ARRAYS, "a[i].set(0, b);"), (IN_ARRAYS, "a[i][0] = b;"),
    (IN_ARRAYS, "extend(a[i], b);"), (IN_ARRAYS, "push(a[i], b);"), (IN_ARRAYS, "a[i].grow(b);"),
    (IN_ARRAYS, "a.for_each(|| this.extend(b));"), (IN_ARRAYS, "a.map(|x| { this.extend(b); x });"),
    (IN_ARRAYS, "a.filter(|x| { this.extend(b); true });"),
    (IN_ARRAYS, "a.reduce(|acc, x| { this.extend(b); acc }, 0);"),
    (IN_ARRAYS, "a.some(|x| { this.extend(b); false });"), (IN_ARRAYS, "a.index_of(|x| { this.extend(b); false });"),
    (IN_ARRAYS, "let f = || a[i].extend(b); f.call();"), (IN_ARRAYS, "a[i] = [b];"),
    (IN_MAPS, "a[i].x = b;"), (IN_MAPS, "a[i].mixin(#{x: b});"), (IN_MAPS, "a[i].fill_with(#{x: b});"),
    (IN_MAPS, "a[i] += #{x: b};"), (IN_MAPS, "a[i].set(\"x\", b);"), (IN_MAPS, "a[i][`k${i}`] = b;"),
    ("let m = #{n: #{}};", "m.n[`k${i}`] = b;"), ("let m = #{n: #{l: []}};", "m.n.l.extend(b);"),
    ("let m = #{l: [[]]};", "m.l[0].extend(b);"), ("let m = #{l: [[]]};", "m.l[0] += b;"),
    ("let m = #{a: [], b: []};", "m.filter(|k, v| { this.extend(b); true });"),
]


@pytest.mark.parametrize("setup,grow", NESTED, ids=[grow for _, grow in NESTED])
def test_growing_a_nested_container_counts_against_the_outer_one(setup, grow):
    script = f"fn grow(b) {{ this.extend(b) }} let b = []; b.pad(3000, 1); {setup} for i in 0..100 {{ {grow} }}"
    assert_ends(Engine(max_operations=10**8, timeout_ms=5000, **SIZED), script, "ErrorDataTooLarge")


def test_strings_held_together_count_together():
    engine = Engine(max_operations=10**8, timeout_ms=5000, **SIZED)
    for script in (BIG + "let a = []; for i in 0..3 { a.push(s + i); }",
                   BIG + "let a = [[]]; a[0].push(s); a[0].push(s);",
                   BIG + "let m = #{}; m.a = s; m.b = s;",
                   'let k = "k"; k.pad(20000, "k"); let m = #{}; for i in 0..5 { m[k + i] = i; }',
                   BIG + "let a = [1, 2]; a.for_each(|| { this = s; });",
                   "fn mk(s, i) { let b = s + i; || b } " + BIG + "let fs = []; for i in 0..3 { fs.push(mk(s, i)); }",
                   "fn mk(s, i) { let b = [s + i]; || b } " + BIG + "let fs = #{}; for i in 0..3 { fs[`k${i}`] = mk(s, i); }"):
        assert_ends(engine, script, "ErrorDataTooLarge")


def test_nested_containers_within_the_limits_still_grow():
    engine = Engine(**SIZED)
    assert engine.eval("let a = [[], []]; for i in 0..1000 { a[i % 2].push(i); } a[0].len() + a[1].len()") == 1000
    assert engine.eval("let m = #{n: #{}}; for i in 0..1000 { m.n[`k${i}`] = [i]; } m.n.len()") == 1000


# -- class 8: shared references --------------------------------------------------------------------
def test_a_shared_string_counts_every_time_it_is_held():
    engine = Engine(max_operations=10**8, **SIZED)
    for script in ('let s = "x"; s.pad(1000, "y"); let a = []; a.pad(200, s); a',
                   'let s = "x"; s.pad(1000, "y"); let a = []; for i in 0..200 { a.push(s); } a',
                   'let s = "x"; s.pad(1000, "y"); let m = #{}; for i in 0..200 { m[`k${i}`] = s; } m',
                   'let s = "x"; s.pad(1000, "y"); let f = Fn("x"); for i in 0..20 { f = f.curry(s, s, s, s); } f'):
        with pytest.raises(RhaiError) as info:
            engine.eval(script)
        assert info.value.kind == "ErrorDataTooLarge", script


def test_a_returned_value_is_checked_as_it_will_be_serialised():
    engine = Engine(**SIZED)
    with pytest.raises(RhaiError) as info:  # what the host passed in is not checked until it comes back
        engine.call_fn(engine.compile("fn f(x) { x }"), "f", ["x" * 30_000] * 3)
    assert info.value.kind == "ErrorDataTooLarge"


# -- class 9: compiling ---------------------------------------------------------------------------
def compile_outcome(engine: Engine, source: str) -> tuple[str, float]:
    started = time.monotonic()
    try:
        engine.compile(source).compiled(engine.limits)
        kind = "ok"
    except RhaiError as e:
        kind = e.inner or e.kind
    return kind, time.monotonic() - started


@pytest.mark.parametrize("source", [
    "print(" + ",".join("{1}" for _ in range(32_000)) + ")",
    "let x = 1; switch x {" + ",".join(f"{i} => {i}" for i in range(20_000)) + "}",
    "let a = #{b: #{c: 0}};" + "a.b.c=1;" * 125_000,
    "[" + "1," * 40_000 + "]",
    "`" + "${1}" * 20_000 + "`",
])
def test_a_script_past_max_tokens_is_refused_at_once(source):
    kind, elapsed = compile_outcome(Engine(), source)
    assert kind == "ScriptTooLarge" and elapsed < FAST_S


@pytest.mark.parametrize("make", [  # a script of about n tokens
    lambda n: "print(" + ",".join("{1}" for _ in range(n // 4)) + ")",
    lambda n: "let x = 1; switch x {" + ",".join(f"{i} => {i}" for i in range(n // 4)) + "}",
    lambda n: "let a = #{b: #{c: 0}};" + "a.b.c=1;" * (n // 8),
    lambda n: "f(" + ",".join(f"|| {{ {i} }}" for i in range(n // 6)) + ")",
], ids=["block-arguments", "switch-cases", "property-chains", "closure-arguments"])
def test_compiling_takes_time_linear_in_the_script(make):
    small, t_small = compile_outcome(Engine(), make(1000))
    big, t_big = compile_outcome(Engine(), make(15_000))
    assert small == big == "ok"
    assert t_big < 45 * t_small + 1.0, (t_small, t_big)  # 15 times the tokens; quadratic would be 225 times


def test_max_tokens_is_a_limit_of_its_own():
    assert compile_outcome(Engine(max_tokens=10), "1 + 2 + 3 + 4 + 5 + 6")[0] == "ScriptTooLarge"
    assert compile_outcome(Engine(max_tokens=0), "let x = 1;" * 10_000)[0] == "ok"


def test_eval_compiles_on_the_operation_budget_and_the_deadline():
    text = 'let t = "let a = #{b: #{c: 0}};"; t.pad(12_022, "a.b.c=1;");'  # 12,000 tokens
    assert_ends(Engine(max_operations=10_000), text + "eval(t);", "ErrorTooManyOperations")
    assert_ends(Engine(max_operations=10**12, timeout_ms=100), text + "loop { eval(t); }", "ErrorTerminated")
    assert_ends(Engine(max_operations=10**12), 'let t = "1+"; t.pad(4_000_000, "1+"); eval(t + "1");',
                "ErrorParsing")
    engine = Engine(max_operations=10**9)
    engine.run(text + "eval(t);")
    assert engine.last_operations > 12_000


# -- every built-in ----------------------------------------------------------------------------------
SWEEP_SETUP = ('let s = "ab\\n"; s.pad(3_000_000, "ab\\n"); let a = []; a.pad(200_000, "xy"); '
               "let m = parse_json(J); let f = |x, y| true; let b = blob(200_000, 7);")
SWEEP_ARGS = {int: "2", float: "2.0", str: "s", bool: "true", list: "a", dict: "m", bytearray: "b"}


def _argument(spec) -> str:
    kinds = spec if isinstance(spec, tuple) else (spec,)
    names = {getattr(t, "__name__", "") for t in kinds}
    if spec is None:
        return "a"
    if "FnPtr" in names:
        return "f"
    for t in kinds:
        if t in SWEEP_ARGS:
            return SWEEP_ARGS[t]
    return {"Char": "'y'", "RhaiRange": "0..2", "Timestamp": "timestamp()"}[names.pop()]


def _calls():
    for (name, arity), overloads in FUNCS.items():
        if name.isidentifier():
            for ov in overloads:
                yield f"{name}({', '.join(_argument(t) for t in ov.types)})"


@pytest.mark.parametrize("call", sorted(set(_calls())))
def test_every_builtin_in_a_loop_over_large_values_meets_the_deadline(call):
    """Large values (a 3M-character string full of escapes, a 200,000-element array, a 20,000-entry
    map, a 200,000-byte BLOB): a built-in that worked on them without charging it would let the loop run far past its
    timeout, as the clock is read only as operations are counted."""
    engine = Engine(max_operations=10**12, timeout_ms=50, max_string_size=1 << 23,
                    max_array_size=1 << 20, max_map_size=1 << 20)
    json = "{" + ",".join(f'"k{i}": {i}' for i in range(20_000)) + "}"
    started = time.monotonic()
    try:
        engine.run(f"{SWEEP_SETUP} loop {{ {call}; }}", constants={"J": json})
    except RhaiError:
        pass
    assert time.monotonic() - started < 1.0, call
