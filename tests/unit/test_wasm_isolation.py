"""No call of a WASM node sees what an earlier call left: not in memory, globals, a mutable table, a dropped
data segment, the memory's or table's size, nor WASI's file descriptors or environment, whether the earlier
call answered, trapped, ran out of fuel or past its deadline. Checked on the process's pooled runtime (the
pool reuses instance slots), a pool of one slot (every call in the same slot) and the on-demand engine."""
from __future__ import annotations

import pytest
from pydantic import ValidationError
from wasm_support import inline

from neira_factory.backends.base import ExecContext, ExecutionError
from neira_factory.backends.wasm import WasmBackend
from neira_factory.backends.wasm_allowance import MAX_TABLES, TABLE_ELEMENT_BYTES, TABLE_SHARE
from neira_factory.backends.wasm_runtime import POOL_CONFIG, POOLED, ArtifactReader, Runtime, runtime
from neira_factory.domain.templates import Limits, NodeTemplate

CLEAN = {"dirty": "0000000"}
# neira_run checks what a fresh instance has (each digit of the answer: 1 where a trace is found; a dropped
# data segment traps memory.init), then leaves a trace of every kind, then follows the input's mode:
# {"m":"n"} answers, {"m":"t"} traps, {"m":"l"} loops until its fuel or time is spent
MODULE = r'''(module
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $envsz (param i32 i32) (result i32)))
  (memory (export "memory") 1 4)
  (global $g (mut i32) (i32.const 0))
  (table $t 1 10 funcref)
  (elem declare func $f)
  (func $f)
  (data $seg "x")
  (data (i32.const 900) "{\"dirty\":\"0000000\"}")
  (func $mark (param $i i32) (i32.store8 (i32.add (i32.const 910) (local.get $i)) (i32.const 49)))
  (func (export "neira_alloc") (param i32) (result i32) (i32.const 5000))
  (func (export "neira_run") (param $p i32) (param $n i32) (result i64) (local $mode i32)
    (memory.init $seg (i32.const 3000) (i32.const 0) (i32.const 1))
    (if (i32.ne (global.get $g) (i32.const 0)) (then (call $mark (i32.const 0))))
    (if (i32.ne (i32.load (i32.const 2000)) (i32.const 0)) (then (call $mark (i32.const 1))))
    (if (i32.ne (memory.size) (i32.const 1)) (then (call $mark (i32.const 2))))
    (if (i32.eqz (ref.is_null (table.get $t (i32.const 0)))) (then (call $mark (i32.const 3))))
    (if (i32.ne (table.size $t) (i32.const 1)) (then (call $mark (i32.const 4))))
    (if (i32.ne (call $fdstat (i32.const 1) (i32.const 4000)) (i32.const 0)) (then (call $mark (i32.const 5))))
    (drop (call $envsz (i32.const 4100) (i32.const 4104)))
    (if (i32.ne (i32.load (i32.const 4100)) (i32.const 0)) (then (call $mark (i32.const 6))))
    (global.set $g (i32.const 1))
    (i32.store (i32.const 2000) (i32.const 57005))
    (drop (memory.grow (i32.const 1)))
    (drop (table.grow $t (ref.null func) (i32.const 1)))
    (table.set $t (i32.const 0) (ref.func $f))
    (data.drop $seg)
    (drop (call $close (i32.const 1)))
    (local.set $mode (i32.load8_u (i32.add (local.get $p) (i32.const 6))))
    (if (i32.eq (local.get $mode) (i32.const 116)) (then unreachable))
    (if (i32.eq (local.get $mode) (i32.const 108)) (then (loop $spin (br $spin))))
    (i64.or (i64.shl (i64.const 900) (i64.const 32)) (i64.const 19))))'''
# (mode, limits) -> the error of that call, None: it answers (and must find nothing)
SEQUENCE = [("n", {}, None), ("n", {}, None), ("t", {}, "trap"), ("n", {}, None),
            ("l", {"fuel": 100_000}, "limit_fuel"), ("n", {}, None),
            ("l", {"fuel": 10**13, "timeout_ms": 100}, "timeout"), ("n", {}, None), ("n", {}, None)]


def node(**limits) -> NodeTemplate:
    return NodeTemplate(id="analysis.wasm_isolation.v1", version="0.1.0", analysis_type="wasm_isolation",
                        wasm={"module": inline(MODULE)}, limits=limits)


def call(backend: WasmBackend, mode: str, limits: dict) -> object:
    try:
        return backend.run(node(**limits), {"m": mode}, ExecContext(False, lambda node_id: None, None))
    except ExecutionError as exc:
        return exc


@pytest.fixture(params=["shared", "one_slot", "on_demand"])
def backend(request) -> WasmBackend:
    if request.param == "shared":
        return WasmBackend(runtime())
    return WasmBackend(Runtime(pool_slots=1 if request.param == "one_slot" else 0), ArtifactReader())


def test_no_call_sees_what_an_earlier_one_left(backend):
    for mode, limits, error in SEQUENCE * 2:
        outcome = call(backend, mode, limits)
        if error is None:
            assert outcome == CLEAN, (mode, limits, outcome)
        else:
            assert isinstance(outcome, ExecutionError) and outcome.kind == error, (mode, limits, outcome)


def test_pooled_calls_take_a_pool_slot_and_give_it_back(backend):
    rt = backend.runtime
    outcomes = [call(backend, mode, limits) for mode, limits, _ in SEQUENCE]
    pooled = rt.compiled(backend.reader.read(node().wasm)).memo.get(POOLED)
    assert (pooled is not None) == (rt.pool_engine is not None)
    assert rt.slots.acquire(blocking=False)  # no call kept its slot, whatever became of it
    rt.slots.release()
    assert outcomes.count(CLEAN) == 6


def test_a_call_finds_no_free_slot_and_runs_on_demand_alike():
    backend = WasmBackend(Runtime(pool_slots=1), ArtifactReader())
    assert call(backend, "n", {}) == CLEAN
    assert backend.runtime.slots.acquire(blocking=False)  # the only slot taken: the next call instantiates on demand
    try:
        assert [call(backend, "n", {}) for _ in range(3)] == [CLEAN] * 3
        assert call(backend, "t", {}).kind == "trap"
    finally:
        backend.runtime.slots.release()
    assert call(backend, "n", {}) == CLEAN


def test_a_pool_slot_holds_whatever_the_largest_cap_allows():
    """The pool's own limits never bind before a call's Store limits: a slot fits the largest memory_mb."""
    largest = 4096
    Limits(memory_mb=largest)
    with pytest.raises(ValidationError):
        Limits(memory_mb=largest + 1)
    cap = largest * 2**20
    assert POOL_CONFIG["max_memory_size"] >= cap and POOL_CONFIG["max_tables_per_module"] == MAX_TABLES
    assert POOL_CONFIG["table_elements"] >= cap // TABLE_SHARE // TABLE_ELEMENT_BYTES
