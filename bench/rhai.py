#!/usr/bin/env python3
"""Benchmark the Rhai engine against equivalent plain Python, in the same run.

Prints one line per workload (best of N runs, Rhai time / Python time) for a
default engine, one with operation counting on (max_operations) and one with
data-size limits (max_string_size/max_array_size/max_map_size), then the overall
ratio (geometric mean) last.
"""

from __future__ import annotations

import math
import sys
import time

from neira_factory.rhai import Engine

REPEAT = 5


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


def best(fn):
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    engines = [
        ("default", Engine()),
        ("counted", Engine(max_operations=1_000_000_000, max_call_levels=100)),
        ("sized", Engine(max_string_size=1 << 20, max_array_size=1 << 20, max_map_size=1 << 20)),
    ]
    ratios = []
    for label, engine in engines:
        for name, script, py in WORKLOADS:
            ast = engine.compile(script)
            expect = py()
            got = engine.eval_ast(ast)
            assert got == expect, (name, got, expect)
            t_rhai = best(lambda: engine.eval_ast(ast))
            t_py = best(py)
            ratio = t_rhai / t_py
            ratios.append(ratio)
            print(f"{label:8} {name:24} rhai {t_rhai * 1000:8.2f} ms  python {t_py * 1000:8.2f} ms"
                  f"  ratio {ratio:5.2f}x")
    overall = math.exp(sum(map(math.log, ratios)) / len(ratios))
    print(f"overall ratio (geometric mean, {len(ratios)} workloads): {overall:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
