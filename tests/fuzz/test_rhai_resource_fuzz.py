"""Hypothesis on the Rhai interpreter's resource limits: random scripts built to be hostile.

tests/fuzz/test_rhai_grammar_fuzz.py covers the grammar; here every program starts from a few
values (a string, an array, a map) and grows them with the built-ins that do the most work per
call, at sizes from tiny to far past the limits (pad, range, split, chars, join, to_json, debug,
interpolation, replace, doubling, nesting one value in another, callbacks growing `this`, eval),
once, in a loop or in a counted loop. On an engine with the limits a node with `memory_mb`
MEMORY_MB gets (backends/script.py), each run must:

* end in a value or a RhaiError, within its `timeout_ms` plus MARGIN_S;
* allocate at most MEMORY_MB plus MARGIN_MB at its peak (tracemalloc): a script holds a few
  values, each within the size limits, and a result past them is refused before it is built.
"""
from __future__ import annotations

import os
import time
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neira_factory.backends.script import size_limits
from neira_factory.rhai import Engine, RhaiError

MEMORY_MB = 4
TIMEOUT_MS = 200
MARGIN_S = 1.0
MARGIN_MB = 8 * MEMORY_MB + 16  # the few values a script holds side by side, a copy being made, the run itself
ENGINE = Engine(max_operations=10**12, timeout_ms=TIMEOUT_MS, max_call_levels=32, **size_limits(MEMORY_MB))
OPS_ENGINE = Engine(max_operations=50_000, timeout_ms=10 * TIMEOUT_MS, max_call_levels=32,
                    **size_limits(MEMORY_MB))

PRELUDE = 'let s = "a\\n"; let a = [1, "xy"]; let m = #{k: 1}; let n = 0; '
SIZES = st.sampled_from([0, 3, 1000, 60_000, 300_000, 1_100_000, 50_000_000])
ELEMENTS = st.sampled_from(["0", '"xy"', "s", "[1, s]", "#{k: s}", "a", "m"])
SIZED = [
    'let s2 = s; s2.pad({n}, "b\\n"); s = s2;',
    "a.pad({n}, {e});",
    "let r = range(0, {n}, 1); a = r;",
    "let r = range(0.0, {n}.0, 0.5); a = r;",
    "for i in 0..{n} {{ a.push({e}); }}",
    "for i in 0..{n} {{ m[`k${{i}}`] = {e}; }}",
    "for i in range(0, {n}) {{ n += 1; }}",
    "a.insert(0, {e});",
    "a.push({e}); a[0] = {e};",
    "m.x = {e}; m[s] = {e};",
]
PLAIN = [
    "s += s;", "a += a;", "a.push(a);", "a.extend(a);", "a[0] = a;", "m.mixin(#{x: a, y: s});", "m = m + m;",
    "a = s.split(\"\");", "a = s.chars();", "a = s.split(\"\\n\");", "a = s.split();", "s = a.join(s);",
    "s = to_json(a);", "s = to_json(m);", "s = to_debug(m);", "s = `${a}${s}${m}`;", "s.replace(\"a\", s);",
    "s = s.to_upper();", "s.append(a);", "s = s + a;", "print(a);", "debug(s);", "print(`${s}${s}`);",
    "a.sort();", "a.reverse();", "a.dedup();", "n += if a == a { 1 } else { 0 };", "n += a.index_of(s);",
    "a.for_each(|| { this = [this, this]; });", "a = a.map(|x| [x, x]);", "a = a.filter(|x| true);",
    "a = parse_json(to_json(a));", "let f = Fn(\"x\").curry(a, s); a.push(f);", "for x in a { n += 1; }",
    "for c in s { n += 1; }", "let k = m.keys(); let v = m.values();", "a.splice(0, 0, a);",
    "a[0].extend(a);", "m.x.extend(a);", "eval(\"let z = \" + to_json(a) + \"; z.len()\");",
    "eval(s);", "a = a + a;", "s.pad(s.len() * 2, s);", "a.pad(a.len() * 2, a);",
]
STATEMENT = st.one_of(
    st.tuples(st.sampled_from(SIZED), SIZES, ELEMENTS).map(lambda t: t[0].format(n=t[1], e=t[2])),
    st.sampled_from(PLAIN),
)
BODY = st.lists(STATEMENT, min_size=1, max_size=5).map(" ".join)
PROGRAMS = st.tuples(BODY, st.sampled_from(["{}", "loop {{ {} }}", "for i in 0..1000 {{ {} }}",
                                            "while true {{ {} }}"]), BODY).map(
    lambda t: PRELUDE + t[0] + " " + t[1].format(t[2]))

FUZZ = settings(max_examples=max(int(os.environ.get("NEIRA_FUZZ_EXAMPLES", "250")) // 5, 10), deadline=None,
                suppress_health_check=list(HealthCheck))


def run(engine: Engine, source: str) -> float:
    started = time.monotonic()
    try:
        engine.run(source)
    except RhaiError:
        pass
    return time.monotonic() - started


def peak_allocation(engine: Engine, source: str) -> int:
    tracemalloc.start()
    try:
        run(engine, source)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@FUZZ
@given(PROGRAMS, st.booleans())
def test_hostile_programs_stay_within_their_time_and_memory(source, by_operations):
    """Timed without tracemalloc (it slows every allocation down), then measured with it.
    ``by_operations``: a small max_operations and a ten times longer timeout, so that what the
    built-ins charge is what stops the loops."""
    engine, limit_ms = (OPS_ENGINE, 10 * TIMEOUT_MS) if by_operations else (ENGINE, TIMEOUT_MS)
    elapsed = run(engine, source)
    assert elapsed < limit_ms / 1000 + MARGIN_S, f"ran {elapsed:.2f}s: {source!r}"
    peak = peak_allocation(engine, source)
    assert peak < (MEMORY_MB + MARGIN_MB) * 2**20, f"peak {peak / 2**20:.1f} MB: {source!r}"
