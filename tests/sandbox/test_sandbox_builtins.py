"""Hostile Rhai built-ins on a real `neira-factory serve` (issue 15, items 6-9): one server for the whole
table, each hostile script a draft node run through POST /factory/nodes/{id}/run.

* built-ins doing unbounded work in one operation (escaping, interpolation, to_json, join, range, pad
  with a big element, sort, eval of a huge text);
* nested growth (a container grown inside another one, by a method, an index chain or a callback);
* shared references (one long string held many times);
* compiling (a script far past the token budget is refused at create, fast).

For every row: the call fails with the kind and `error` the row names, within its budget plus MARGIN_S,
and while it runs (in a thread) the server keeps answering GET /healthz, each time in under a second.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sandbox_support import healthz_while

MARGIN_S = 1.0
HEALTHZ_S = 1.0
HUGE_OPS = 10_000_000_000  # "no operation limit to speak of": the timeout decides
TIMED = {"timeout_ms": 500, "max_operations": HUGE_OPS}
SIZED = {"memory_mb": 64, "timeout_ms": 5000, "max_operations": HUGE_OPS}
COUNTED = {"timeout_ms": 5000, "max_operations": 1_000_000}
BIG = 'let s = "x"; s.pad(4000000, "y");'  # 4M characters (memory_mb 64: strings up to 16M)
ESC = 'let s = "x"; s.pad(4000000, "\\n");'  # escapes to 8M characters
B = "let b = []; b.pad(1000000, 1);"  # 1M elements (memory_mb 64: arrays up to 1M)


@dataclass(frozen=True)
class Row:
    name: str
    body: str  # the body of fn run(input)
    limits: dict[str, int]
    kind: str
    error: str
    budget_s: float

    @property
    def node_id(self) -> str:
        return f"analysis.builtin_{self.name.replace('-', '_').lower()}.v1"


TABLE = [
    # ---- one built-in, unbounded work: charged by the element or character, so the clock is read --------
    Row("debug-escapes", ESC + "loop { debug(s); }", TIMED, "timeout", "ErrorTerminated", 0.5),
    Row("to-debug-escapes", ESC + "loop { let t = to_debug(s); }", TIMED, "timeout", "ErrorTerminated", 0.5),
    Row("interpolation", ESC + "loop { let t = `${[s]}`; }", TIMED, "timeout", "ErrorTerminated", 0.5),
    Row("to-json-loop", 'let a = []; a.pad(1000000, "xy"); loop { let t = to_json(a); }', TIMED, "timeout",
        "ErrorTerminated", 0.5),
    Row("join-loop", 'let a = []; a.pad(1000000, "xy"); loop { let t = a.join(","); }', TIMED, "timeout",
        "ErrorTerminated", 0.5),
    Row("sort-loop", "let a = []; a.pad(1000000, 1); loop { a.sort(); }", TIMED, "timeout", "ErrorTerminated", 0.5),
    Row("copy-loop", "let a = []; a.pad(500000, [1]); loop { let b = a; }", TIMED, "timeout", "ErrorTerminated", 0.5),
    Row("compare-loop", "let a = []; a.pad(500000, [1]); loop { let b = a == a; }", TIMED, "timeout",
        "ErrorTerminated", 0.5),
    Row("string-scan-loop", BIG + 'loop { let b = s.contains("z"); }', TIMED, "timeout", "ErrorTerminated", 0.5),
    Row("range-iterate", "let n = 0; for i in range(0, 50000000) { n += 1; } n", COUNTED, "limit",
        "ErrorTooManyOperations", 0.5),
    Row("eval-loop", 'let t = "let a = #{b: #{c: 0}};"; t.pad(12022, "a.b.c=1;"); loop { eval(t); }', TIMED,
        "timeout", "ErrorTerminated", 0.5),
    Row("eval-operations", 'let t = "let a = #{b: #{c: 0}};"; t.pad(12022, "a.b.c=1;"); eval(t)',
        {"timeout_ms": 5000, "max_operations": 20_000}, "limit", "ErrorTooManyOperations", 0.5),
    # ---- results sized before they are built ----------------------------------------------------------
    Row("range-50M", "let a = range(0, 50000000, 1); a.len()", SIZED, "limit", "ErrorDataTooLarge", 0.5),
    Row("pad-big-element", BIG + "let a = []; a.pad(1000000, s); a.len()", SIZED, "limit", "ErrorDataTooLarge", 0.5),
    Row("join-big-separator", 'let a = []; a.pad(1000, "x"); let sep = "y"; sep.pad(100000, "y"); a.join(sep)',
        SIZED, "limit", "ErrorDataTooLarge", 0.5),
    Row("to-json-too-long", 'let e = "x"; e.pad(55, "y"); let a = []; a.pad(300000, e); to_json(a)', SIZED,
        "limit", "ErrorDataTooLarge", 0.5),  # 16.5M characters in strings, 17.4M as JSON
    Row("split-empty", BIG + 'let p = s.split(""); p.len()', SIZED, "limit", "ErrorDataTooLarge", 0.5),
    Row("replace-growth", BIG + 's.replace("y", s); s.len()', SIZED, "limit", "ErrorDataTooLarge", 0.5),
    Row("append-doubling", 'let s = "ab"; loop { s.append(s); }', SIZED, "limit", "ErrorDataTooLarge", 0.5),
    Row("eval-4MB", 'let s = "1+"; s.pad(4000000, "1+"); eval(s + "1")', SIZED, "limit", "ErrorParsing", 0.5),
    # ---- nested growth: 100 x 1M elements under a 1M limit --------------------------------------------------
    Row("nested-extend", B + "let a = []; a.pad(100, []); for i in 0..100 { a[i].extend(b); }", SIZED, "limit",
        "ErrorDataTooLarge", 0.5),
    Row("nested-insert", B + "let a = []; a.pad(100, []); for i in 0..100 { a[i].insert(0, b); }", SIZED, "limit",
        "ErrorDataTooLarge", 0.5),
    Row("nested-splice", B + "let a = []; a.pad(100, []); for i in 0..100 { a[i].splice(0, 0, b); }", SIZED,
        "limit", "ErrorDataTooLarge", 0.5),
    Row("nested-set", B + "let a = []; a.pad(100, [0]); for i in 0..100 { a[i].set(0, b); }", SIZED, "limit",
        "ErrorDataTooLarge", 0.5),
    Row("nested-mixin", B + "let a = []; a.pad(100, #{}); for i in 0..100 { a[i].mixin(#{x: b}); }", SIZED,
        "limit", "ErrorDataTooLarge", 0.5),
    Row("nested-fill-with", B + "let a = []; a.pad(100, #{}); for i in 0..100 { a[i].fill_with(#{x: b}); }",
        SIZED, "limit", "ErrorDataTooLarge", 0.5),
    Row("nested-add-assign", B + "let a = [[[]]]; for i in 0..100 { a[0][0] += b; }", SIZED, "limit",
        "ErrorDataTooLarge", 0.5),
    Row("nested-callback-this", B + "let a = []; a.pad(100, []); a.for_each(|| this.extend(b));", SIZED, "limit",
        "ErrorDataTooLarge", 0.5),
    # ---- shared references: one 4M-character string held 200 times ------------------------------------------
    Row("shared-pad", BIG + "let a = []; a.pad(200, s); a", SIZED, "limit", "ErrorDataTooLarge", 0.5),
    Row("shared-push", BIG + "let a = []; for i in 0..200 { a.push(s); } a", SIZED, "limit", "ErrorDataTooLarge", 0.5),
    Row("shared-map", BIG + "let m = #{}; for i in 0..200 { m[`k${i}`] = s; } m", SIZED, "limit",
        "ErrorDataTooLarge", 0.5),
]
# Scripts far past the token budget (yet within the 200,000 characters a source may have): refused by the
# dry-run at create (syntax_error), fast.
TOO_LARGE = [
    ("call-32k-block-arguments", "fn run(input) { print(" + ",".join("{1}" for _ in range(32_000)) + ") }"),
    ("switch-12k-cases", "fn run(input) { switch 1 {" + ",".join(f"{i} => {i}" for i in range(12_000)) + "} }"),
    ("property-chains-190kb", "fn run(input) { let a = #{b: #{c: 0}}; " + "a.b.c=1;" * 23_500 + " }"),
]


@pytest.fixture(scope="module")
def server(module_server):
    server = module_server()
    r = server.client("admin").put("/capabilities/factory_script", json={"state": "experimental",
                                                                         "reason": "sandbox builtins"})
    assert r.status_code == 200, r.text
    return server


def template(node_id: str, source: str, limits: dict[str, int] | None = None) -> dict[str, Any]:
    return {"id": node_id, "version": "0.1.0", "analysis_type": node_id.split(".")[1], "backend": "script",
            "limits": limits or {}, "script": {"source": source}}


@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
def test_hostile_builtin_is_stopped_by_its_limit_while_the_server_answers(server, row):
    r = server.client("admin").post("/factory/nodes", json=template(
        row.node_id, f"fn run(input) {{ {row.body} }}", row.limits))
    assert r.status_code == 201, r.text

    r, elapsed, slowest = healthz_while(server, lambda: server.client("write").post(
        f"/factory/nodes/{row.node_id}/run", json={"input": {"text": "x"}}, timeout=60))
    body = r.json()
    assert r.status_code == (504 if row.kind == "timeout" else 502), r.text
    assert (body["code"], body["kind"], body["node"], body.get("error")) == \
        ("execution_failed", row.kind, row.node_id, row.error), body
    assert elapsed <= row.budget_s + MARGIN_S, f"{row.name}: stopped after {elapsed:.2f}s, budget {row.budget_s}s"
    assert slowest < HEALTHZ_S, f"{row.name}: /healthz took {slowest:.2f}s while it ran"


@pytest.mark.parametrize("name,source", TOO_LARGE, ids=[name for name, _ in TOO_LARGE])
def test_a_script_past_the_token_budget_is_refused_at_create_fast(server, name, source):
    node_id = f"analysis.builtin_{name.replace('-', '_')}.v1"
    r, elapsed, slowest = healthz_while(server, lambda: server.client("admin").post(
        "/factory/nodes", json=template(node_id, source), timeout=60))
    assert r.status_code == 422 and r.json()["code"] == "dry_run_failed", r.text
    risks = {risk["code"]: risk for risk in r.json()["report"]["risks"]}
    assert risks["syntax_error"]["severity"] == "blocking" and "too large" in risks["syntax_error"]["message"], risks
    assert elapsed <= 0.5 + MARGIN_S, f"{name}: refused after {elapsed:.2f}s"
    assert slowest < HEALTHZ_S, f"{name}: /healthz took {slowest:.2f}s meanwhile"
