#!/usr/bin/env python3
"""Run a Rhai conformance file (JSON lines, see /work/shared/rhai/README.md)
through ``neira_factory.rhai.Engine``; print pass rates overall, per source
file, for ``clean`` cases and for ``limits`` cases, and list the failures.

Usage: rhai_conformance.py PATH [--quiet]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict

from neira_factory.rhai import Engine, RhaiError, Scope
from neira_factory.rhai.options import LanguageOptions

OPTIONS = set(LanguageOptions.__dataclass_fields__)

DEBUG_DEFAULTS = {"max_call_levels": 8, "max_expr_depth": 32, "max_function_expr_depth": 16}
RESULT_TYPES = {
    "int": lambda v: type(v) is int,
    "float": lambda v: type(v) is float,
    "bool": lambda v: type(v) is bool,
    "string": lambda v: type(v) is str,
    "char": lambda v: type(v) is str and len(v) == 1,
    "unit": lambda v: v is None,
    "array": lambda v: type(v) is list,
    "map": lambda v: type(v) is dict,
    "blob": lambda v: type(v) is bytes,
}


class OutputTypeMismatch(Exception):
    """The result's type differs from the type the Rust test asked for."""

    kind = "ErrorMismatchOutputType"

    @property
    def message(self):
        return str(self)

    line = 0


def make_engine(case):
    limits = {}
    if {"debug_build_defaults", "implicit_default_limit"} & set(case["tags"]):
        limits.update(DEBUG_DEFAULTS)
    limits.update(case.get("limits") or {})
    kwargs = {}
    for key in ("max_operations", "max_call_levels", "max_string_size", "max_array_size",
                "max_map_size", "max_variables"):
        if key in limits:
            kwargs[key] = limits[key]
    if "max_expr_depth" in limits or "max_function_expr_depth" in limits:
        kwargs["max_expr_depths"] = (limits.get("max_expr_depth", 64), limits.get("max_function_expr_depth", 32))
    disabled, fail_prop, options = [], False, {}
    for name, args in case.get("engine_setup", {}).get("calls", []):
        if name == "disable_symbol":
            disabled.extend(args)
        elif name == "set_fail_on_invalid_map_property":
            fail_prop = bool(args[0])
        elif name.startswith("set_") and name[4:] in OPTIONS:
            options[name[4:]] = bool(args[0])
    return Engine(fail_on_invalid_map_property=fail_prop, disabled_symbols=disabled,
                  options=LanguageOptions(**options), **kwargs)


def run_method(engine, method, script, scope):
    if method in ("compile", "compile_expression"):
        (engine.compile_expression if method == "compile_expression" else engine.compile)(script)
        return None
    if method == "eval_expression":
        return engine.eval_expression(script, scope=scope)
    if method == "run":
        engine.run(script, scope=scope)
        return None
    return engine.eval(script, scope=scope)


def replay_scope(engine, ops):
    scope = Scope()
    for op in ops or []:
        kind = op["op"]
        if kind == "push":
            scope.push(op["name"], bytes(op["value"]) if op.get("type") == "blob" else op["value"])
        elif kind == "push_constant":
            scope.push_constant(op["name"], op["value"])
        elif kind == "set_value":
            scope.set_value(op["name"], op["value"])
        elif kind == "clear":
            scope.clear()
        elif kind == "run":
            try:
                run_method(engine, op.get("method", "eval"), op["script"], scope)
            except RhaiError:
                pass
    return scope


def same(expect, got, approx=None):
    if approx and isinstance(expect, (int, float)) and isinstance(got, (int, float)):
        return math.isclose(expect, got, abs_tol=approx)
    if type(expect) is float and type(got) is float:
        return expect == got or (expect != expect and got != got)
    if isinstance(expect, list) and isinstance(got, list):
        return len(expect) == len(got) and all(same(a, b, approx) for a, b in zip(expect, got))
    if isinstance(expect, dict) and isinstance(got, dict):
        return expect.keys() == got.keys() and all(same(expect[k], got[k], approx) for k in expect)
    return type(expect) is type(got) and expect == got


def check_value(case, got):
    for chk in case.get("checks") or []:
        v = got
        for p in chk["path"]:
            v = v[p]
        op = chk["op"]
        if op == "len" and len(v) != chk["expect"]:
            return f"len {len(v)} != {chk['expect']}"
        if op == "utf8_byte_len" and len(v.encode()) != chk["expect"]:
            return f"utf8 len {len(v.encode())} != {chk['expect']}"
        if op == "eq" and not same(chk["expect"], v):
            return f"{chk['path']}: {v!r} != {chk['expect']!r}"
    if case.get("checks"):
        return None
    if case.get("expect") is None and case["type"] not in ("unit",):
        return None
    if not same(case["expect"], got, case.get("approx")):
        return f"got {got!r}, expected {case['expect']!r}"
    return None


def run_case(case):
    """None on pass, else a failure description."""
    try:
        engine = make_engine(case)
        scope = replay_scope(engine, case.get("scope"))
        got = run_method(engine, case["method"], case["script"], scope)
        want_type = RESULT_TYPES.get(case.get("type"))
        if case["method"] in ("eval", "eval_expression") and want_type and not want_type(got):
            raise OutputTypeMismatch(f"result {got!r} is not {case['type']}")
        if type(got) is bytes:  # a BLOB comes back as bytes; the cases list its byte values
            got = list(got)
    except (RhaiError, OutputTypeMismatch) as e:
        kind = getattr(e, "kind", "ErrorMismatchOutputType")
        if case["kind"] == "error":
            if case.get("error") and case["error"] != kind:
                return f"error {kind} ({e.message}), expected {case['error']}"
            return None
        if case["kind"] == "any":
            return None
        return f"unexpected error {kind}: {e.message} (line {e.line})"
    except Exception as e:  # noqa: BLE001 - a non-Rhai exception is always a failure
        return f"PYTHON EXCEPTION {type(e).__name__}: {e}"
    if case["kind"] == "error":
        return f"expected error {case.get('error') or ''}, got {got!r}"
    if case["kind"] == "value":
        return check_value(case, got)
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--quiet", action="store_true", help="only print the summary")
    args = ap.parse_args(argv)
    cases = [json.loads(line) for line in open(args.path, encoding="utf-8") if line.strip()]
    per_file = defaultdict(lambda: [0, 0])
    groups = {"clean": [0, 0], "limits": [0, 0]}
    failures = []
    for case in cases:
        err = run_case(case)
        ok = err is None
        per_file[case["file"]][0] += ok
        per_file[case["file"]][1] += 1
        if case.get("clean"):
            groups["clean"][0] += ok
            groups["clean"][1] += 1
        if "limits" in case["tags"]:
            groups["limits"][0] += ok
            groups["limits"][1] += 1
        if not ok:
            failures.append((case["id"], err, case["script"]))
    if not args.quiet:
        for cid, err, script in failures:
            print(f"FAIL {cid}: {err}\n    {script.strip()[:200]!r}")
        print()
        for f, (p, n) in sorted(per_file.items()):
            print(f"{f:32} {p:4}/{n:<4} {100 * p / n:5.1f}%")
    passed = sum(p for p, _ in per_file.values())
    for name, (p, n) in groups.items():
        print(f"{name:8} {p}/{n} = {100 * p / max(n, 1):.1f}%")
    print(f"overall  {passed}/{len(cases)} = {100 * passed / max(len(cases), 1):.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
