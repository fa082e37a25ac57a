"""The WASM test modules: the C examples in examples/wasm/ built once per test session by
scripts/build_wasm.sh (unit, integration and e2e tests share the build), and hostile modules written in
WebAssembly text (`HOSTILE_WAT`, `UNSTARTABLE_WAT`: the unit and sandbox tests share them).

Module files must lie in a module directory (NEIRA_WASM_PATH, else <NEIRA_VAR_DIR>/modules): for the
tests that run the backend in this process, the session's module directory is pytest's base temp dir,
which holds the build and every test's tmp_path (`build_modules` sets NEIRA_WASM_PATH to it; a test may
monkeypatch it narrower). Servers started by tests/e2e get no NEIRA_* variable from here: each sets its own.
"""
from __future__ import annotations

import base64
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import wasmtime

from support import ROOT


def build_modules(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp()
    out = base / "wasm-modules"
    if not (out / "SHA256SUMS").exists():
        proc = subprocess.run([str(ROOT / "scripts" / "build_wasm.sh"), str(out)], capture_output=True, text=True,
                              timeout=300)
        if proc.returncode != 0:
            pytest.fail(f"scripts/build_wasm.sh failed (./scripts/setup.sh installs clang, lld, wasi-libc, "
                        f"libclang-rt-dev-wasm32):\n{proc.stderr}", pytrace=False)
    os.environ["NEIRA_WASM_PATH"] = str(base)
    return out


# -- hostile modules in WebAssembly text: each asks the host for what must not be had ---------------------

def inline(wat: str) -> str:
    """A module for `wasm.module`: assembled from WebAssembly text, in base64."""
    return base64.b64encode(wasmtime.wat2wasm(wat)).decode()


ANSWER = '(data (i32.const 900) "{}")'  # what json_module's neira_run answers when its body returns
POLL = '(import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))'


def json_module(body: str, *, imports: str = "", pages: int = 1, extra: str = "") -> str:
    """A neira-json-v1 module (WAT) whose neira_run runs `body`, then answers {}."""
    return f'''(module {imports} (memory (export "memory") {pages}) {ANSWER} {extra}
      (func (export "neira_alloc") (param i32) (result i32) (i32.const 2048))
      (func (export "neira_run") (param i32 i32) (result i64) {body}
        (i64.or (i64.shl (i64.const 900) (i64.const 32)) (i64.const 2))))'''


def clock(at: int, ns: int, clock_id: int = 1, absolute: bool = False) -> str:
    """WAT storing a poll_oneoff clock subscription (48 bytes) at `at`: wait `ns` on `clock_id`."""
    return (f"(i64.store (i32.const {at}) (i64.const {at})) (i32.store8 (i32.const {at + 8}) (i32.const 0)) "
            f"(i32.store (i32.const {at + 16}) (i32.const {clock_id})) "
            f"(i64.store (i32.const {at + 24}) (i64.const {ns})) "
            f"(i32.store16 (i32.const {at + 40}) (i32.const {int(absolute)}))")


def sleep(ns: int, count: int = 1, **kwargs) -> str:
    """WAT: poll_oneoff on `count` clock subscriptions of `ns` each (at 4096, their events right after)."""
    stores = " ".join(clock(4096 + 48 * i, ns, **kwargs) for i in range(count))
    events = 4096 + 48 * count
    return f"{stores} (drop (call $poll (i32.const 4096) (i32.const {events}) (i32.const {count}) (i32.const 128)))"


def fd_write(fd: int, length: int) -> str:
    """WAT: one fd_write of `length` bytes (from address 0) to `fd`; its iovec at 1024."""
    return (f"(i32.store (i32.const 1024) (i32.const 0)) (i32.store (i32.const 1028) (i32.const {length})) "
            f"(drop (call $write (i32.const {fd}) (i32.const 1024) (i32.const 1) (i32.const 1040)))")


WRITE = '(import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))'


def grow_to_the_end(table: str | None = None, step: int = 1) -> str:
    """WAT: grow the table (or the memory) by `step` until refused."""
    grow = f"(table.grow {table} (ref.null func) (i32.const {step}))" if table else f"(memory.grow (i32.const {step}))"
    return f"(loop $more (br_if $more (i32.ge_s {grow} (i32.const 0))))"


@dataclass(frozen=True)
class HostileWat:
    name: str
    wat: str
    limits: dict[str, int]
    kind: str  # the ExecutionError kind it must end in
    error: str | None  # and its `error`
    abi: str = "neira-json-v1"


FOREVER = 10**13  # fuel: the clock decides
HOSTILE_WAT = [
    # host calls that block or work past the deadline where no epoch check reaches
    HostileWat("sleep-20s", json_module(sleep(20 * 10**9), imports=POLL), {"timeout_ms": 100},
               "timeout", "host_deadline"),
    HostileWat("sleep-2^63ns", json_module(sleep(-2**63), imports=POLL), {"timeout_ms": 100},
               "timeout", "host_deadline"),
    HostileWat("sleep-1024-subscriptions", json_module(sleep(20 * 10**9, count=1024), imports=POLL, pages=2),
               {"timeout_ms": 100}, "timeout", "host_deadline"),
    HostileWat("sleep-until-year-2500", json_module(sleep(17_000_000_000 * 10**9, clock_id=0, absolute=True),
                                                     imports=POLL), {"timeout_ms": 100}, "timeout", "host_deadline"),
    HostileWat("sleep-50ms-again-and-again", json_module(f"(loop $l {sleep(50 * 10**6)} (br $l))", imports=POLL),
               {"timeout_ms": 300, "fuel": FOREVER}, "timeout", "host_deadline"),
    HostileWat("poll-stdin-forever", json_module(  # stdin is ready at once: no sleep, the epoch stops the loop
        f"{clock(4096, 10**18)} (i32.store8 (i32.const 4152) (i32.const 1)) (i32.store (i32.const 4160) (i32.const 0)) "
        "(loop $l (drop (call $poll (i32.const 4096) (i32.const 8192) (i32.const 2) (i32.const 128))) (br $l))",
        imports=POLL), {"timeout_ms": 200, "fuel": FOREVER}, "timeout", "interrupt"),
    HostileWat("read-stdin-forever", json_module(
        "(i32.store (i32.const 1024) (i32.const 0)) (i32.store (i32.const 1028) (i32.const 4096)) "
        "(loop $l (drop (call $read (i32.const 0) (i32.const 1024) (i32.const 1) (i32.const 1040))) (br $l))",
        imports='(import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))'),
        {"timeout_ms": 200, "fuel": FOREVER}, "timeout", "interrupt"),
    HostileWat("sched-yield-forever", json_module(
        "(loop $l (drop (call $yield)) (br $l))",
        imports='(import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))'),
        {"timeout_ms": 200, "fuel": FOREVER}, "timeout", "interrupt"),
    HostileWat("random-64MiB-forever", json_module(
        "(loop $l (drop (call $random (i32.const 0) (i32.const 67108864))) (br $l))", pages=1025,
        imports='(import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))'),
        {"timeout_ms": 200, "fuel": FOREVER, "memory_mb": 128}, "timeout", "interrupt"),
    HostileWat("stderr-16MiB-forever", json_module(f"(loop $l {fd_write(2, 16 * 2**20)} (br $l))", imports=WRITE,
                                                   pages=257), {"timeout_ms": 200, "fuel": FOREVER, "memory_mb": 32},
               "timeout", "interrupt"),
    HostileWat("clock-forever", json_module(
        "(loop $l (drop (call $now (i32.const 1) (i64.const 0) (i32.const 1024))) (br $l))",
        imports='(import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))'),
        {"timeout_ms": 200, "fuel": FOREVER}, "timeout", "interrupt"),
    HostileWat("proc-exit-3", json_module(
        "(call $exit (i32.const 3))", imports='(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))'),
        {"timeout_ms": 200}, "exception", "exit"),
    # memory and tables: all of them together within limits.memory_mb
    HostileWat("stdout-48MiB-command", f"""(module {WRITE} (memory (export "memory") 257)
        (func (export "_start") {fd_write(1, 16 * 2**20) * 3}))""", {"timeout_ms": 1000, "memory_mb": 32},
               "bad_output", None, abi="wasi-command"),
    HostileWat("table-grow-200M", json_module(
        f"(drop (table.grow $t (ref.null func) (i32.const 200000000))) {grow_to_the_end('$t', 1000)} unreachable",
        extra="(table $t 1 funcref)"),
               {"memory_mb": 1, "timeout_ms": 1000, "fuel": FOREVER}, "limit_memory", "unreachable"),
    HostileWat("eight-tables-and-the-memory-grown-full", json_module(
        " ".join(grow_to_the_end(str(i)) for i in range(8)) + f" {grow_to_the_end()} unreachable",
        extra=" ".join(f"(table {i} funcref)" for i in range(8))),
        {"memory_mb": 4, "timeout_ms": 1000, "fuel": FOREVER}, "limit_memory", "unreachable"),
]
# refused by the dry-run (blocking `memory_limit`): they cannot start within the cap
UNSTARTABLE_WAT = {
    "32-memories": json_module("", extra=" ".join(["(memory 1)"] * 31)),
    "table-of-200M": json_module("", extra="(table 200000000 funcref)"),
    "nine-tables": json_module("", extra=" ".join(["(table 1 funcref)"] * 9)),
}
