"""ONE table of hostile scripts (Rhai, backend `script`) and modules (WASI, backend `wasm`), each run on a
real `neira-factory serve` (one server for the whole table, in a row).

For every row the table states the error kind and the `error` detail it must end in, the limits it runs
under, its budget (what that limit allows: the wall-clock `timeout_ms`, or the time within which an
operation / fuel / size / stack limit stops it) and a margin. Each row is checked for:

* the call fails with exactly that kind (502, or 504 for `timeout`), naming the node, within budget + margin;
* the server keeps serving: a healthy stable route answers correctly right after the hostile call;
* `/metrics` shows it: `factory_exec_errors_total{kind=…}` went up by one;
* nothing leaked: no marker file appeared, and no environment variable or host file came back.

Margin: MARGIN_S for every row — the HTTP round trip and a loaded CI runner; the watchdog itself waits
SANDBOX_GRACE_S (1 s) beyond a sandbox's own deadline before it abandons a call.

Two more rows cannot run at all, by design: a module importing a host function beyond WASI preview 1 is
refused at create (dry-run: `forbidden_import`), and a pinned module file swapped after create is refused
at its next load (409 `integrity_mismatch`) and the node is quarantined.
"""
from __future__ import annotations

import base64
import hashlib
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import wasmtime
from e2e_support import metrics, to_stable
from support import ROOT
from wasm_support import build_modules

MARGIN_S = 1.0
CACHE_TTL_S = 1.0  # the server's NEIRA_CACHE_TTL_MS (default): how long a route table is kept
MARKER = "/tmp/neira-sandbox-escaped"  # every escape attempt tries to create this file
HUGE_OPS, HUGE_FUEL = 10_000_000_000, 10**13  # "no operation/fuel limit to speak of": the timeout decides
HEALTHY = {"id": "analysis.reverse.v1", "version": "0.1.0", "analysis_type": "reverse",
           "examples": [{"input": {"text": "abc"}, "expected": {"text": "cba"}}]}


def wat(text: str) -> str:
    """An inline module (base64), assembled from WebAssembly text."""
    return base64.b64encode(wasmtime.wat2wasm(text)).decode()


# Tries every fd 0..63 as a socket (sock_accept, sock_send: WASI preview 1 has no connect) and as a preopened
# directory (path_open "etc/passwd"); anything that succeeds returns {"escaped": true}; when all fail (no
# sockets, no preopens) it traps on `unreachable`.
NETWORK_AND_FILES = wat('''(module
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "etc/passwd")
  (data (i32.const 300) "{\\"escaped\\":true}")
  (data (i32.const 400) "\\00\\02\\00\\00\\01\\00\\00\\00")
  (func (export "neira_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "neira_run") (param i32 i32) (result i64)
    (local $fd i32)
    (loop $next
      (if (i32.eqz (call $accept (local.get $fd) (i32.const 0) (i32.const 200)))
        (then (return (i64.or (i64.shl (i64.const 300) (i64.const 32)) (i64.const 16)))))
      (if (i32.eqz (call $send (local.get $fd) (i32.const 400) (i32.const 1) (i32.const 0) (i32.const 200)))
        (then (if (i32.gt_u (local.get $fd) (i32.const 2))
          (then (return (i64.or (i64.shl (i64.const 300) (i64.const 32)) (i64.const 16)))))))
      (if (i32.eqz (call $open (local.get $fd) (i32.const 0) (i32.const 100) (i32.const 10) (i32.const 0)
                              (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 200)))
        (then (return (i64.or (i64.shl (i64.const 300) (i64.const 32)) (i64.const 16)))))
      (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $fd) (i32.const 64))))
    unreachable))''')


@dataclass(frozen=True)
class Hostile:
    name: str
    backend: str  # script | wasm
    code: str  # the Rhai source, or the module (a path under NEIRA_WASM_PATH, or base64)
    limits: dict[str, int]
    kind: str  # the ExecutionError kind (and the factory_exec_errors_total label)
    error: str  # the body's `error`: the Rhai error kind, or the wasm one
    budget_s: float
    abi: str = "neira-json-v1"
    call: str = "run"  # run: POST /factory/nodes/{id}/run on the draft; invoke: POST /invoke/{route}, stable
    evidence: tuple[str, ...] = ()  # words the reason must carry (what the module saw)

    @property
    def status(self) -> int:
        return 504 if self.kind == "timeout" else 502

    @property
    def node_id(self) -> str:
        return f"analysis.hostile_{self.name.replace('-', '_').lower()}.v1"


def rhai(body: str) -> str:
    return f"fn run(input) {{ {body} }}"


TABLE = [
    # ---- Rhai: CPU ---------------------------------------------------------------------------------------
    Hostile("loop-wall-clock", "script", rhai("loop {}"), {"timeout_ms": 300, "max_operations": HUGE_OPS},
            "timeout", "ErrorTerminated", budget_s=0.3, call="invoke"),
    Hostile("loop-operations", "script", rhai("loop {}"), {"timeout_ms": 5000, "max_operations": 100_000},
            "limit", "ErrorTooManyOperations", budget_s=0.5),
    Hostile("eval-loop", "script", rhai('eval("loop {}")'), {"timeout_ms": 300, "max_operations": HUGE_OPS},
            "timeout", "ErrorTerminated", budget_s=0.3),
    Hostile("busy-wait-on-the-clock", "script", rhai("let t = timestamp(); while t.elapsed < 60.0 {}"),
            {"timeout_ms": 300, "max_operations": HUGE_OPS}, "timeout", "ErrorTerminated", budget_s=0.3),
    Hostile("print-flood", "script", rhai('let s = "x".pad(100000, "x"); let i = 0; loop { print(`${s}${i}`); i += 1; }'),
            {"timeout_ms": 500, "max_operations": HUGE_OPS}, "timeout", "ErrorTerminated", budget_s=0.5),
    # ---- Rhai: memory (memory_mb 1: strings up to 262144 chars, arrays and maps up to 16384 entries) ------
    Hostile("string-doubling", "script", rhai('let s = "ab"; loop { s += s; }'),
            {"memory_mb": 1, "timeout_ms": 5000, "max_operations": HUGE_OPS}, "limit", "ErrorDataTooLarge",
            budget_s=0.5),
    Hostile("string-pad-100M", "script", rhai('"x".pad(100000000, "y")'),
            {"memory_mb": 1, "timeout_ms": 5000, "max_operations": HUGE_OPS}, "limit", "ErrorDataTooLarge",
            budget_s=1.0),
    Hostile("array-doubling", "script", rhai("let a = [1]; loop { a += a; }"),
            {"memory_mb": 1, "timeout_ms": 5000, "max_operations": HUGE_OPS}, "limit", "ErrorDataTooLarge",
            budget_s=0.5, call="invoke"),
    Hostile("nested-array-doubling", "script", rhai("let a = [[1]]; loop { a += [a]; }"),
            {"memory_mb": 1, "timeout_ms": 5000, "max_operations": HUGE_OPS}, "limit", "ErrorDataTooLarge",
            budget_s=0.5),
    Hostile("array-pad-1G", "script", rhai("let a = []; a.pad(1000000000, 0); a"),
            {"memory_mb": 1, "timeout_ms": 5000, "max_operations": HUGE_OPS}, "limit", "ErrorDataTooLarge",
            budget_s=1.0),
    Hostile("map-one-key-per-step", "script",
            rhai("let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; }"),
            {"memory_mb": 1, "timeout_ms": 5000, "max_operations": HUGE_OPS}, "limit", "ErrorDataTooLarge",
            budget_s=1.0),
    # ---- Rhai: stack -------------------------------------------------------------------------------------
    Hostile("recursion", "script", "fn f(n) { f(n + 1) + 1 } fn run(input) { f(0) }",
            {"timeout_ms": 5000, "max_operations": HUGE_OPS}, "limit", "ErrorStackOverflow", budget_s=0.5),
    Hostile("closure-self-application", "script", rhai("let f = |x| x.call(x); f.call(f)"),
            {"timeout_ms": 5000, "max_operations": HUGE_OPS}, "limit", "ErrorStackOverflow", budget_s=0.5),
    Hostile("eval-recursion", "script", 'fn f(n) { eval("f(1)") } fn run(input) { f(0) }',
            {"timeout_ms": 5000, "max_operations": HUGE_OPS}, "limit", "ErrorStackOverflow", budget_s=0.5),
    # ---- Rhai: escape attempts, files, environment, network ---------------------------------------------
    Hostile("python-import", "script", rhai(f'__import__("os").system("touch {MARKER}")'), {},
            "exception", "ErrorFunctionNotFound", budget_s=0.5),
    Hostile("python-dunders", "script", rhai("input.__class__.__bases__"), {}, "exception", "ErrorDotExpr",
            budget_s=0.5),
    Hostile("eval-python", "script", rhai(f'eval("__import__(\\"os\\").system(\\"touch {MARKER}\\")")'), {},
            "exception", "ErrorFunctionNotFound", budget_s=0.5),
    Hostile("fn-pointer-to-python", "script", rhai('Fn("__import__").call("os")'), {}, "exception",
            "ErrorFunctionNotFound", budget_s=0.5),
    Hostile("open-file", "script", rhai(f'open("{MARKER}", "w").write("x")'), {}, "exception",
            "ErrorFunctionNotFound", budget_s=0.5),
    Hostile("read-environment", "script", rhai('env("NEIRA_ADMIN_TOKEN")'), {}, "exception",
            "ErrorFunctionNotFound", budget_s=0.5),
    Hostile("network", "script", rhai('http_get("http://127.0.0.1:1/")'), {}, "exception",
            "ErrorFunctionNotFound", budget_s=0.5),
    # ---- WASM: CPU ---------------------------------------------------------------------------------------
    Hostile("wasm-spin-fuel", "wasm", "hostile/spin.wasm", {"fuel": 1_000_000, "timeout_ms": 5000},
            "limit_fuel", "out_of_fuel", budget_s=0.5),
    Hostile("wasm-spin-wall-clock", "wasm", "hostile/spin.wasm", {"fuel": HUGE_FUEL, "timeout_ms": 300},
            "timeout", "interrupt", budget_s=0.3, call="invoke"),
    # ---- WASM: memory and stack --------------------------------------------------------------------------
    Hostile("wasm-grow", "wasm", "hostile/grow.wasm", {"memory_mb": 4, "fuel": HUGE_FUEL, "timeout_ms": 5000},
            "limit_memory", "unreachable", budget_s=0.5),
    Hostile("wasm-recursion", "wasm", "hostile/recurse.wasm", {"fuel": HUGE_FUEL, "timeout_ms": 5000},
            "limit", "stack_overflow", budget_s=0.5),
    # ---- WASM: files, environment, network -----------------------------------------------------------------
    Hostile("wasm-read-files", "wasm", "hostile/read_file.wasm", {}, "trap", "unreachable", budget_s=0.5,
            evidence=("cannot open",)),
    Hostile("wasm-read-environment", "wasm", "hostile/read_env.wasm", {}, "exception", "exit", budget_s=0.5,
            abi="wasi-command", evidence=("environment is empty",)),
    Hostile("wasm-sockets-and-preopens", "wasm", NETWORK_AND_FILES, {}, "trap", "unreachable", budget_s=0.5),
]
# Refused at create (the dry-run's blocking risk), so never run: (name, template fields, the risk's code).
REFUSED = [
    # a script imports only the stable version of another script node's route: "os" is none
    ("rhai-module-import", {"script": {"source": 'import "os" as os; fn run(input) { os::system("ls") }'}},
     "bad_import"),
    ("wasm-forbidden-import", {"wasm": {"module": "hostile/forbidden.wasm"}}, "forbidden_import"),
]
NOT_RUNNABLE = ["hostile/forbidden.wasm"]


@dataclass
class Sandbox:
    url: str
    admin: httpx.Client
    writer: httpx.Client
    reader: httpx.Client
    wasm_dir: Path
    digests: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def sandbox(module_server, tmp_path_factory) -> Sandbox:
    built = build_modules(tmp_path_factory)
    wasm_dir = tmp_path_factory.mktemp("wasm-path")  # a copy: the tamper test changes a file in it
    shutil.copytree(built, wasm_dir, dirs_exist_ok=True)
    server = module_server(env={"NEIRA_WASM_PATH": str(wasm_dir)})
    admin = server.client("admin")
    for gate in ("factory_script", "factory_wasm"):
        r = admin.put(f"/capabilities/{gate}", json={"state": "experimental", "reason": "sandbox suite"})
        assert r.status_code == 200, r.text
    box = Sandbox(server.url, admin, server.client("write"), server.client("read"), wasm_dir)
    for line in (wasm_dir / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        box.digests[name] = digest
    to_stable(admin, HEALTHY)
    return box





def template(box: Sandbox, row: Hostile) -> dict[str, Any]:
    body: dict[str, Any] = {"id": row.node_id, "version": "0.1.0", "analysis_type": row.node_id.split(".")[1],
                            "backend": row.backend, "limits": row.limits,
                            # a first version serves its route (analysed) without a stable predecessor
                            "rollout": {"serve_without_stable": True}}
    if row.backend == "script":
        body["script"] = {"source": row.code}
    else:
        inline = row.code.startswith("AGFzbQ")
        body["wasm"] = {"module": row.code, "abi": row.abi,
                        **({} if inline else {"sha256": box.digests[row.code]})}
    return body


def exec_errors(box: Sandbox, kind: str) -> float:
    return metrics(box.reader).get(f'factory_exec_errors_total{{kind="{kind}"}}', 0.0)


def healthy_answers(box: Sandbox) -> None:
    r = box.writer.post("/invoke/analysis.reverse", json={"input": {"text": "sandbox"}, "key": "k"})
    assert r.status_code == 200 and r.json()["output"] == {"text": "xobdnas"}, r.text


def test_the_table_names_every_hostile_module():
    hostile = {f"hostile/{p.stem}.wasm" for p in (ROOT / "examples" / "wasm" / "hostile").glob("*.c")}
    tabled = {row.code for row in TABLE if row.backend == "wasm"} | set(NOT_RUNNABLE)
    assert hostile <= tabled, f"hostile modules not in the table: {sorted(hostile - tabled)}"
    assert len({row.name for row in TABLE}) == len(TABLE)


@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
def test_hostile_node_is_stopped_by_its_limit_and_the_server_keeps_serving(sandbox, row):
    box = sandbox
    if row.call == "invoke":
        to_stable(box.admin, template(box, row))
    else:
        r = box.admin.post("/factory/nodes", json=template(box, row))
        assert r.status_code == 201, r.text
    before = exec_errors(box, row.kind)

    started = time.monotonic()
    if row.call == "invoke":
        r = box.writer.post(f"/invoke/{row.node_id.rsplit('.', 1)[0]}", json={"input": {"text": "x"}, "key": "k"})
    else:
        r = box.writer.post(f"/factory/nodes/{row.node_id}/run", json={"input": {"text": "x"}})
    elapsed = time.monotonic() - started
    healthy_answers(box)  # right after the hostile call

    body = r.json()
    assert r.status_code == row.status, r.text
    assert (body["code"], body["kind"], body["node"], body.get("error")) == \
        ("execution_failed", row.kind, row.node_id, row.error), body
    assert body["reason"]
    assert elapsed <= row.budget_s + MARGIN_S, f"{row.name}: stopped after {elapsed:.2f}s, budget {row.budget_s}s"
    for word in row.evidence:
        assert word in body["reason"] + str(body.get("stderr", "")), body
    assert exec_errors(box, row.kind) == before + 1
    assert not Path(MARKER).exists(), f"{row.name} created {MARKER}"
    assert "for-tests" not in r.text  # no token (NEIRA_*_TOKEN values end so) came back


@pytest.mark.parametrize("name,fields,risk", REFUSED, ids=[name for name, *_ in REFUSED])
def test_what_cannot_be_sandboxed_is_refused_at_create(sandbox, name, fields, risk):
    box = sandbox
    node_id = f"analysis.hostile_{name.replace('-', '_')}.v1"
    body = {"id": node_id, "version": "0.1.0", "analysis_type": node_id.split(".")[1], **fields}
    if "wasm" in fields:
        body["wasm"] = {**fields["wasm"], "sha256": box.digests[fields["wasm"]["module"]]}
    r = box.admin.post("/factory/nodes", json=body)
    assert r.status_code == 422 and r.json()["code"] == "dry_run_failed", r.text
    risks = {found["code"]: found for found in r.json()["report"]["risks"]}
    assert risks[risk]["severity"] == "blocking", risks
    assert box.reader.get(f"/factory/nodes/{node_id}").status_code == 404
    healthy_answers(box)


@pytest.mark.parametrize("route_table", ["cached", "reloaded"])
def test_a_module_swapped_on_disk_is_refused_and_quarantined(sandbox, route_table):
    """Refused at the call (the route table still cached) or when the route table is read again (its cache
    expired: the version is found broken there and quarantined first): 409 integrity_mismatch either way."""
    box = sandbox
    name = f"swapped_{route_table}"
    module = box.wasm_dir / f"{name}.wasm"
    shutil.copy(box.wasm_dir / "echo.wasm", module)
    body = {"id": f"analysis.hostile_{name}.v1", "version": "0.1.0", "analysis_type": f"hostile_{name}",
            "wasm": {"module": module.name, "sha256": hashlib.sha256(module.read_bytes()).hexdigest()}}
    route = f"/invoke/analysis.hostile_{name}"
    to_stable(box.admin, body)
    assert box.writer.post(route, json={"input": {"a": 1}}).json()["output"] == {"a": 1}
    quarantines = metrics(box.reader).get('immune_quarantines_total{cause="integrity"}', 0.0)
    shutil.copy(box.wasm_dir / "hostile" / "spin.wasm", module)  # someone swaps the file under the node
    if route_table == "reloaded":
        time.sleep(CACHE_TTL_S + 0.2)

    started = time.monotonic()
    r = box.writer.post(route, json={"input": {"a": 1}})
    assert time.monotonic() - started <= 0.5 + MARGIN_S
    healthy_answers(box)
    assert r.status_code == 409 and r.json()["code"] == "integrity_mismatch", r.text
    assert box.reader.get(f"/factory/nodes/{body['id']}").json()["state"] == "quarantined"
    assert metrics(box.reader)['immune_quarantines_total{cause="integrity"}'] == quarantines + 1
