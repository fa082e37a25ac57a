"""The wasm backend's limits against a hostile module, in this process: no WASI call holds a call past its
deadline or works in proportion to what the module asks (every import is tried with hostile arguments),
memories and tables stay within limits.memory_mb together and are reported, and module paths outside
the module directories all meet one error. The same hostile modules meet a real server in
tests/sandbox/test_sandbox_wasm_host.py."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import wasmtime
from wasm_support import (HOSTILE_WAT, POLL, UNSTARTABLE_WAT, WRITE, build_modules, clock, fd_write,
                          grow_to_the_end, inline, json_module, sleep)

from neira_factory.backends import wasm_binary
from neira_factory.backends.base import ExecContext, ExecutionError
from neira_factory.backends.wasm import MAX_STDERR_BYTES, STDERR_TAIL, WasmBackend
from neira_factory.backends.wasm_host import MAX_IOVECS, MAX_RANDOM_BYTES, MAX_SUBSCRIPTIONS
from neira_factory.backends.wasm_runtime import WASI_MODULE, WASI_PREVIEW1, ArtifactReader, Runtime
from neira_factory.domain.templates import NodeTemplate

pytestmark = pytest.mark.usefixtures("quiet_gc")  # tests/conftest.py: timed bounds

MARGIN_S = 1.0
MIB = 2**20


@pytest.fixture(scope="module")
def backend() -> WasmBackend:
    return WasmBackend(Runtime(), ArtifactReader())


def node(wat: str, abi: str = "neira-json-v1", **limits) -> NodeTemplate:
    return NodeTemplate(id="analysis.wasm_limits.v1", version="0.1.0", analysis_type="wasm_limits",
                        wasm={"module": inline(wat), "abi": abi}, limits=limits)


def run(backend: WasmBackend, t: NodeTemplate, data: object = None) -> tuple[object, ExecContext, float]:
    """(the output or the ExecutionError, the context, seconds taken)."""
    ctx = ExecContext(side_effects=False, resolve=lambda node_id: None, execute=None)
    started = time.monotonic()
    try:
        outcome = backend.run(t, {} if data is None else data, ctx)
    except ExecutionError as exc:
        outcome = exc
    return outcome, ctx, time.monotonic() - started


def expect(call: str, errno: int) -> str:
    """WAT: `call` must return `errno`, else the module traps."""
    return f"(if (i32.ne {call} (i32.const {errno})) (then unreachable))"


# -- every host call returns by the deadline ----------------------------------------------------------------

@pytest.mark.parametrize("row", HOSTILE_WAT, ids=[row.name for row in HOSTILE_WAT])
def test_each_hostile_module_is_stopped_within_its_budget(backend, row):
    outcome, ctx, elapsed = run(backend, node(row.wat, row.abi, **row.limits))
    assert isinstance(outcome, ExecutionError), outcome
    assert (outcome.kind, outcome.extra.get("error")) == (row.kind, row.error), outcome.reason
    assert elapsed <= row.limits["timeout_ms"] / 1000 + MARGIN_S, elapsed
    cap = row.limits.get("memory_mb", 64) * MIB
    assert ctx.usage["memory_bytes"] <= cap and outcome.extra["memory_bytes"] <= cap
    assert len(outcome.extra.get("stderr") or "") <= STDERR_TAIL


def wasi_signatures() -> dict[str, tuple[list[str], list[str]]]:
    rt = Runtime()
    store = wasmtime.Store(rt.engine)
    store.set_wasi(wasmtime.WasiConfig())
    types = {name: rt.linker.get(store, WASI_MODULE, name).type(store) for name in sorted(WASI_PREVIEW1)}
    return {name: ([str(p) for p in t.params], [str(r) for r in t.results]) for name, t in types.items()}


SIGNATURES = wasi_signatures()
PAGES = 2048  # 128 MiB of memory


def fill(*words: int) -> str:
    """WAT: the memory's first MiB filled with these 64-bit words, over and over."""
    stores = " ".join(f"(i64.store offset={8 * k} (local.get $i) (i64.const {w}))" for k, w in enumerate(words))
    return (f"(local.set $i (i32.const 0)) (loop $l {stores} (local.set $i (i32.add (local.get $i) "
            f"(i32.const {8 * len(words)}))) (br_if $l (i32.lt_u (local.get $i) (i32.const 1048576))))")


# what pointers at 0 find: nothing; iovecs of 15 MiB each; clock subscriptions of 3 s each (past the deadline)
FILLS = [fill(0), fill(0x00F0000000000100), fill(1, 0, 1, 3 * 10**9, 0, 0)]


def hostile_arguments(params: list[str]) -> list[list[int]]:
    """Argument lists: all zero; stdin / stdout / fd 3 (or a pointer) first, then pointers at 0 and lengths
    (or counts) of 1, 1 Mi or 64 Mi, taking turns either way round; all ones."""
    spread = [[first] + [(size if k % 2 == turn else 0) for k in range(1, len(params))]
              for first in (0, 1, 3) for size in (1, MIB, 64 * MIB) for turn in (0, 1)]
    return [[0] * len(params), *spread, [-1] * len(params)]


def cases(bodies: list[str]) -> str:
    """WAT for neira_run: runs bodies[n] for an input of n + 2 bytes (the JSON string of n letters)."""
    labels = [f"$c{n}" for n in range(len(bodies))]
    nested = f"(br_table {' '.join(labels)} $done (i32.sub (local.get 1) (i32.const 2)))"
    for label, body in zip(labels, bodies):
        nested = f"(block {label} {nested}) {body} (br $done)"
    return f"(block $done {nested})"


@pytest.mark.parametrize("name", sorted(WASI_PREVIEW1))
def test_every_wasi_call_returns_at_once_whatever_it_is_asked(backend, name):
    params, results = SIGNATURES[name]
    result = f"(result {' '.join(results)})" if results else ""
    bodies = [f"{memory} (call $f {' '.join(f'({p}.const {a})' for p, a in zip(params, args))})"
              + (" drop" if results else "") for memory in FILLS for args in hostile_arguments(params)]
    t = node(json_module(f"(local $i i32) {cases(bodies)}", pages=PAGES,
                         imports=f'(import "{WASI_MODULE}" "{name}" (func $f (param {" ".join(params)}) {result}))'),
             timeout_ms=1000, memory_mb=256)
    for n in range(len(bodies)):  # one call each: a trap ends a call
        outcome, ctx, elapsed = run(backend, t, "x" * n)
        assert elapsed < 0.5, f"{name}, case {n}: {elapsed:.2f}s"
        if isinstance(outcome, ExecutionError):
            assert outcome.kind in ("exception", "trap", "bad_output", "timeout"), outcome.reason
        assert ctx.usage["memory_bytes"] <= 256 * MIB


def test_a_sleep_that_ends_before_the_deadline_is_slept(backend):
    outcome, _, elapsed = run(backend, node(json_module(sleep(50 * 10**6), imports=POLL), timeout_ms=1000))
    assert outcome == {} and 0.05 <= elapsed < 0.05 + MARGIN_S


def test_poll_oneoff_answers_descriptors_at_once_and_refuses_what_it_cannot_read(backend):
    def fd(at: int, tag: int, n: int) -> str:  # a subscription to fd n (tag 1: readable, 2: writable)
        return f"(i32.store8 (i32.const {at + 8}) (i32.const {tag})) (i32.store (i32.const {at + 16}) (i32.const {n}))"

    def poll(count: int, subs: int = 4096) -> str:  # events at 32768, their number at 128
        return f"(call $poll (i32.const {subs}) (i32.const 32768) (i32.const {count}) (i32.const 128))"

    def event_error(i: int, errno: int) -> str:
        return f"(if (i32.ne (i32.load16_u (i32.const {32768 + 32 * i + 8})) (i32.const {errno})) (then unreachable))"

    body = " ".join([
        clock(4096, 10**18), fd(4144, 1, 0), fd(4192, 2, 1), fd(4240, 1, 7), fd(4288, 2, 0),
        expect(poll(5), 0), "(if (i32.ne (i32.load (i32.const 128)) (i32.const 4)) (then unreachable))",
        event_error(0, 0), event_error(1, 0), event_error(2, 8), event_error(3, 8),  # stdin, stdout ready; EBADF
        expect(poll(0), 28), expect(poll(MAX_SUBSCRIPTIONS + 1), 28), expect(poll(1, subs=2 * 65536 - 8), 21),
    ])
    outcome, _, elapsed = run(backend, node(json_module(body, imports=POLL, pages=2), timeout_ms=1000))
    assert outcome == {} and elapsed < MARGIN_S


def test_fd_write_keeps_what_the_captures_hold_and_refuses_the_rest(backend):
    many = f"(call $write (i32.const 2) (i32.const 1024) (i32.const {MAX_IOVECS + 1}) (i32.const 1040))"
    body = " ".join([fd_write(2, 40 * MIB), fd_write(1, 3), "(if (i32.ne (i32.load (i32.const 1040)) (i32.const 3)) "
                     "(then unreachable))", expect(many, 28),
                     expect("(call $write (i32.const 0) (i32.const 1024) (i32.const 1) (i32.const 1040))", 8),
                     expect("(call $write (i32.const 5) (i32.const 1024) (i32.const 1) (i32.const 1040))", 8),
                     expect(f"(call $write (i32.const 2) (i32.const {641 * 65536 - 4}) (i32.const 1) (i32.const 1040))",
                            21)])
    ctx = ExecContext(side_effects=False, resolve=lambda node_id: None, execute=None)
    started = time.monotonic()
    t = node(json_module(body, imports=WRITE, pages=641, extra='(data (i32.const 0) "ab\\n")'), memory_mb=64)
    assert backend.run(t, {}, ctx) == {} and time.monotonic() - started < MARGIN_S
    assert "stdout: ab" in ctx.log and ctx.log[-1].startswith("… more stderr")  # 40 MiB on stderr: 64 KiB kept
    assert sum(len(line) for line in ctx.log) <= MAX_STDERR_BYTES + 1000


def test_random_get_serves_a_mebibyte_and_refuses_more(backend):
    call = lambda n, at=0: f"(call $random (i32.const {at}) (i32.const {n}))"
    body = " ".join([expect(call(MAX_RANDOM_BYTES, at=65536), 0), expect(call(MAX_RANDOM_BYTES + 1, at=65536), 28),
                     expect(call(16, at=65536 * 18 - 8), 21)])
    imports = '(import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))'
    outcome, _, _ = run(backend, node(json_module(body, imports=imports, pages=18)))
    assert outcome == {}


# -- memories and tables within the cap ----------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(UNSTARTABLE_WAT))
def test_a_module_that_cannot_start_within_the_cap_is_refused_at_dry_run_and_at_run(backend, name):
    t = node(UNSTARTABLE_WAT[name], memory_mb=1)
    found = {r.code: r for r in backend.check(t)}["memory_limit"]
    assert found.severity == "blocking" and found.field == "limits.memory_mb"
    outcome, _, elapsed = run(backend, t)
    assert isinstance(outcome, ExecutionError) and outcome.kind == "limit_memory" and elapsed < MARGIN_S
    assert outcome.extra["error"] in ("memory_count", "table_minimum", "table_count")


def test_memory_bytes_is_the_memory_and_the_tables_that_grew(backend):
    grow = "(drop (table.grow $t (ref.null func) (i32.const 1000))) (drop (memory.grow (i32.const 1)))"
    outcome, ctx, _ = run(backend, node(json_module(grow, extra="(table $t 1 funcref)")))
    assert outcome == {} and ctx.usage["memory_bytes"] == 2 * 65536 + 8 * 1001


def test_memory_and_tables_together_stay_within_the_cap(backend):
    wat = json_module(f"{grow_to_the_end('$t', 1000)} {grow_to_the_end()} unreachable", extra="(table $t 1 funcref)")
    outcome, ctx, _ = run(backend, node(wat, memory_mb=2))
    assert isinstance(outcome, ExecutionError) and outcome.kind == "limit_memory"
    assert 2 * MIB - 65536 < ctx.usage["memory_bytes"] <= 2 * MIB


def test_hidden_table_exports_are_not_shown(backend):
    t = node(json_module("", extra='(table $t (export "t") 1 funcref) (table 1 externref)'))
    described = backend.describe(t)
    assert {e["name"] for e in described["exports"]} == {"memory", "neira_alloc", "neira_run", "t"}


@pytest.mark.parametrize("wat", [
    "(module (table 2 funcref))",  # no export section: one is inserted before the code
    '(module (table 0 10 funcref) (func (export "f")) (@custom "x" "y"))',
    '(module (memory (export "m") 1) (table 1 externref) (table 3 3 funcref) (table 1 funcref) (start 0) (func))',
])
def test_growable_tables_are_exported_under_hidden_names(wat):
    data = wasmtime.wat2wasm(wat)
    tables = wasm_binary.tables(data)
    growable = tuple(i for i, t in enumerate(tables) if t.growable)
    module = wasmtime.Module(wasmtime.Engine(), wasm_binary.export_tables(data, growable))
    hidden = sorted(e.name for e in module.exports if e.name.startswith(wasm_binary.HIDDEN_TABLE))
    assert hidden == [f"{wasm_binary.HIDDEN_TABLE}{i}" for i in growable] and growable
    assert [e.name for e in module.exports if not e.name.startswith(wasm_binary.HIDDEN_TABLE)] == \
        [e.name for e in wasmtime.Module(wasmtime.Engine(), data).exports]


@pytest.mark.parametrize("wat", ["(module (memory 1 1 shared))",
                                 "(module (type $a (array i8)) (func (drop (array.new_default $a (i32.const 9)))))",
                                 "(module (tag $e) (func (throw $e)))"])
def test_what_would_allocate_beyond_the_limits_does_not_compile(backend, wat):
    assert "invalid_module" in {r.code for r in backend.check(node(wat))}


# -- module paths -------------------------------------------------------------------------------------------------

@pytest.fixture
def module_dir(tmp_path, monkeypatch, tmp_path_factory) -> Path:
    """NEIRA_WASM_PATH unset, NEIRA_VAR_DIR a temp dir: the module directory is its `modules`, with echo."""
    echo = build_modules(tmp_path_factory) / "echo.wasm"
    monkeypatch.delenv("NEIRA_WASM_PATH")
    monkeypatch.setenv("NEIRA_VAR_DIR", str(tmp_path / "var"))
    modules = tmp_path / "var" / "modules"
    modules.mkdir(parents=True)
    (modules / "echo.wasm").write_bytes(echo.read_bytes())
    (modules / "out-existing.wasm").symlink_to(echo)
    (modules / "out-missing.wasm").symlink_to(tmp_path / "nothing-here.wasm")
    return modules


def by_path(module: str) -> NodeTemplate:
    return NodeTemplate(id="analysis.wasm_path.v1", version="0.1.0", analysis_type="wasm_path",
                        wasm={"module": module, "sha256": "0" * 64})


def test_by_default_modules_come_from_the_module_directory_under_the_var_dir(module_dir):
    backend = WasmBackend(Runtime(), ArtifactReader())
    for module in ("echo.wasm", str(module_dir / "echo.wasm")):
        assert {r.code for r in backend.check(by_path(module))} == {"sha256_mismatch", "wasm_module"}


def test_every_path_outside_the_module_directory_meets_one_error(module_dir, tmp_path):
    (tmp_path / "unreadable.wasm").write_bytes(b"\0asm")
    os.chmod(tmp_path / "unreadable.wasm", 0)
    backend = WasmBackend(Runtime(), ArtifactReader())
    paths = ["/etc/shadow", "/etc/passwd", "/nonexistent", "../../etc/passwd", "../modules/echo.wasm",
             "out-existing.wasm", "out-missing.wasm", str(tmp_path / "unreadable.wasm"), str(tmp_path / "missing.wasm"),
             str(module_dir / ".." / "modules" / "echo.wasm"), f"/proc/{os.getpid()}/root/etc/passwd"]
    found = {module: [r.to_dict() for r in backend.check(by_path(module))] for module in paths}
    assert len({repr(risks) for risks in found.values()}) == 1, found
    (risk,) = found["/etc/shadow"]
    assert risk["code"] == "module_unreadable" and "outside the module directory" in risk["message"]
    errors = set()
    for module in paths:
        with pytest.raises(ExecutionError) as caught:
            backend.run(by_path(module), {}, ExecContext(side_effects=False, resolve=lambda n: None, execute=None))
        errors.add((caught.value.status, caught.value.reason))
    assert len(errors) == 1, errors
    for module in ("echo\0.wasm", "x" * 5000, "/etc/\0"):  # no file at all: refused, nothing raised beyond
        assert [r.code for r in backend.check(by_path(module))] == ["module_unreadable"]


def test_a_module_file_replaced_by_a_symlink_out_is_resolved_anew(module_dir, tmp_path_factory):
    reader = ArtifactReader()
    backend = WasmBackend(Runtime(), reader)
    t = by_path("swapped.wasm")
    (module_dir / "swapped.wasm").write_bytes((module_dir / "echo.wasm").read_bytes())
    assert "wasm_module" in {r.code for r in backend.check(t)}
    (module_dir / "swapped.wasm").unlink()
    (module_dir / "swapped.wasm").symlink_to("/etc/passwd")
    assert "outside the module directory" in {r.code: r for r in backend.check(t)}["module_unreadable"].message
