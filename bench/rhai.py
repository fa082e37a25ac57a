#!/usr/bin/env python3
"""Benchmark the Rhai engine against equivalent plain Python, in the same run.

Prints one line per workload (best of N runs, Rhai time / Python time) for a
default engine, one with operation counting on (max_operations) and one with
data-size limits (max_string_size/max_array_size/max_map_size), and the mix's
ratio (geometric mean); then five general workloads (sieve with array indexing,
string building with interpolation, filter/map/reduce with closures, recursion,
maps with string keys) with operation counting on, and their geometric mean last.
Times are the process's CPU time (the workloads are single-threaded and CPU-bound: on
an idle machine it is the wall clock; on a shared one, other processes do not count),
the Rhai and Python runs taken in turn.
"""

from __future__ import annotations

import functools
import math
import sys
import time

from neira_factory.rhai import Engine

REPEAT = 7


def py_loop():
    x = 1_000_000
    while x > 0:
        x -= 1
    return x


def py_fib():
    def fib(n):
        if n < 2:
            return n
        return fib(n - 1) + fib(n - 2)

    return fib(20)


def py_string():
    s = ""
    for _ in range(100_000):
        s += "x"
    return len(s)


def py_sort():
    a = []
    for i in range(100_000):
        a.append((i * 7919) % 100_003)
    a.sort()
    return a[0]


def py_map():
    m = {}
    for i in range(20_000):
        m[f"k{i}"] = i
    return len(m)


WORKLOADS = [
    ("speed test loop (1M)", "let x = 1_000_000; while x > 0 { x -= 1; } x", py_loop),
    ("fibonacci(20)", "fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } } fib(20)", py_fib),
    ("string of 100k chars", 'let s = ""; for i in 0..100_000 { s += "x"; } s.len()', py_string),
    ("sort 100k integers",
     "let a = []; for i in 0..100_000 { a.push((i * 7919) % 100_003); } a.sort(); a[0]", py_sort),
    ("map of 20k keys", "let m = #{}; for i in 0..20_000 { m[`k${i}`] = i; } m.len()", py_map),
]


def py_sieve():
    n = 30_000
    flags = [True] * (n + 1)
    flags[0] = False
    flags[1] = False
    i = 2
    while i * i <= n:
        if flags[i]:
            j = i * i
            while j <= n:
                flags[j] = False
                j += i
        i += 1
    count = 0
    for f in flags:
        if f:
            count += 1
    return count


def py_strings():
    out = ""
    for i in range(10_000):
        name = f"user{i % 100}"
        out += f"{name}:{i * 3};"
    return len(out)


def py_closures():
    data = []
    for i in range(10_000):
        data.append(i)
    total = 0
    for k in range(1, 4):
        evens = list(filter(lambda x: x % k == 0, data))
        sq = list(map(lambda x: x * k + 1, evens))
        total += functools.reduce(lambda acc, x: acc + x, sq, 0)
    return total


def py_recursion():
    def tak(x, y, z):
        if y < x:
            return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y))
        return z

    def depth(n):
        if n == 0:
            return 0
        return 1 + depth(n - 1)

    return tak(18, 12, 6) + depth(50)


def py_maps():
    words = "the quick brown fox jumps over the lazy dog and the cat".split(" ")
    counts = {}
    for _ in range(1_000):
        for w in words:
            if w in counts:
                counts[w] += 1
            else:
                counts[w] = 1
    p = {"x": 0, "y": 0}
    for i in range(5_000):
        p["x"] += i
        p["y"] = p["x"] % 7
    total = 0
    for k in counts.keys():
        total += counts[k]
    return total + p["y"]


GENERAL = [
    ("sieve (array indexing)", """
        let n = 30_000; let flags = []; flags.pad(n + 1, true);
        flags[0] = false; flags[1] = false;
        let i = 2;
        while i * i <= n {
            if flags[i] { let j = i * i; while j <= n { flags[j] = false; j += i; } }
            i += 1;
        }
        let count = 0;
        for f in flags { if f { count += 1; } }
        count""", py_sieve),
    ("strings (interpolation)", """
        let out = "";
        for i in 0..10_000 { let name = `user${i % 100}`; out += `${name}:${i * 3};`; }
        out.len()""", py_strings),
    ("closures (filter/map/reduce)", """
        let data = []; for i in 0..10_000 { data.push(i); }
        let total = 0;
        for k in 1..4 {
            let evens = data.filter(|x| x % k == 0);
            let sq = evens.map(|x| x * k + 1);
            total += sq.reduce(|acc, x| acc + x, 0);
        }
        total""", py_closures),
    ("recursion (tak, depth)", """
        fn tak(x, y, z) { if y < x { tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y)) } else { z } }
        fn depth(n) { if n == 0 { 0 } else { 1 + depth(n - 1) } }
        tak(18, 12, 6) + depth(50)""", py_recursion),
    ("maps (string keys)", """
        let words = "the quick brown fox jumps over the lazy dog and the cat".split(" ");
        let counts = #{};
        for r in 0..1_000 {
            for w in words { if w in counts { counts[w] += 1; } else { counts[w] = 1; } }
        }
        let p = #{x: 0, y: 0};
        for i in 0..5_000 { p.x += i; p.y = p.x % 7; }
        let total = 0;
        for k in counts.keys() { total += counts[k]; }
        total + p.y""", py_maps),
]


def best(*fns):
    """The shortest CPU time of each of ``fns`` over ``REPEAT`` rounds, one run of each per round."""
    times = [float("inf")] * len(fns)
    for _ in range(REPEAT):
        for i, fn in enumerate(fns):
            t0 = time.process_time()
            fn()
            times[i] = min(times[i], time.process_time() - t0)
    return times


def measure(label, engine, workloads):
    """Time each workload on ``engine`` and in Python; the ratios."""
    ratios = []
    for name, script, py in workloads:
        ast = engine.compile(script)
        expect = py()
        got = engine.eval_ast(ast)
        assert got == expect, (name, got, expect)
        t_rhai, t_py = best(lambda: engine.eval_ast(ast), py)
        ratio = t_rhai / t_py
        ratios.append(ratio)
        print(f"{label:8} {name:29} rhai {t_rhai * 1000:8.2f} ms  python {t_py * 1000:8.2f} ms"
              f"  ratio {ratio:5.2f}x")
    return ratios


def geomean(ratios):
    return math.exp(sum(map(math.log, ratios)) / len(ratios))


def main():
    engines = [
        ("default", Engine()),
        ("counted", Engine(max_operations=1_000_000_000, max_call_levels=100)),
        ("sized", Engine(max_string_size=1 << 20, max_array_size=1 << 20, max_map_size=1 << 20)),
    ]
    ratios = [r for label, engine in engines for r in measure(label, engine, WORKLOADS)]
    print(f"project mix ratio (geometric mean, {len(ratios)} workloads): {geomean(ratios):.2f}x")
    general = measure("counted", engines[1][1], GENERAL)
    print(f"general ratio, operation counting on (geometric mean, {len(general)} workloads):"
          f" {geomean(general):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
