"""The exports the WASM backend's ABIs need (`REQUIRED`, `OPTIONAL`), the instance they come from and its
memory (and the Store), made, fetched, called, read and written without wasmtime-py's per-call overhead.

wasmtime-py's `Instance.exports` wraps every export of the instance, and `Func.__call__` asks the engine
for the function's type at every call to convert the arguments (17 µs for `neira_alloc`, 4.5 µs here). A backend
call needs a handful of exports whose types the ABI fixes and the dry-run checks (`wasm.abi_findings`),
so `Exports` fetches each by name on first use, and `call` passes i32/i64 arguments straight to
`wasmtime_func_call` with the result kinds given. Traps, exits and host-function errors come out exactly
as from `Func.__call__` (as wasmtime-py's `enter_wasm` makes them). `instantiate` is `InstancePre.instantiate`
without its context manager; `read` and `write` copy between bytes and the memory once (wasmtime-py's
`Memory.read`/`write` copy twice), their bounds checked by the caller. Nothing here outlives the call's Store.
"""
from __future__ import annotations

import ctypes
from ctypes import POINTER, byref
from functools import lru_cache
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime._func import maybe_raise_last_exn

I32, I64 = ffi.WASMTIME_I32.value, ffi.WASMTIME_I64.value
# extern kind -> (the union's field, the wrapper); a global or tag is no export the backend uses
WRAP = {ffi.WASMTIME_EXTERN_FUNC.value: ("func", wasmtime.Func._from_raw),
        ffi.WASMTIME_EXTERN_MEMORY.value: ("memory", wasmtime.Memory._from_raw),
        ffi.WASMTIME_EXTERN_TABLE.value: ("table", wasmtime.Table._from_raw)}
KINDS = {"i32": I32, "i64": I64}

ABIS = ("neira-json-v1", "wasi-command")
# export name -> (kind, (params, results) of a function) the ABI needs, and those it may use
REQUIRED = {
    "neira-json-v1": {"memory": ("memory", None), "neira_alloc": ("func", (("i32",), ("i32",))),
                      "neira_run": ("func", (("i32", "i32"), ("i64",)))},
    "wasi-command": {"memory": ("memory", None), "_start": ("func", ((), ()))},
}
OPTIONAL = {
    "neira-json-v1": {"_initialize": ("func", ((), ())), "neira_params": ("func", (("i32", "i32"), ("i32",)))},
    "wasi-command": {},
}
SHAPES = {name: shape for table in (*REQUIRED.values(), *OPTIONAL.values())
          for name, (kind, shape) in table.items() if kind == "func"}  # the ABI functions' (params, results)


@lru_cache(maxsize=64)
def _name(name: str) -> ctypes.Array[ctypes.c_char]:
    encoded = name.encode()
    return ctypes.create_string_buffer(encoded, len(encoded))


NO_FINALIZER = ctypes.cast(0, ctypes.CFUNCTYPE(None, ctypes.c_void_p))


class Store(wasmtime.Store):
    """`wasmtime.Store(engine)` with no host data, made without the finalizer cast its constructor does each time."""

    def __init__(self, engine: wasmtime.Engine):  # in place of wasmtime.Store.__init__, not after it
        self._set_ptr(ffi.wasmtime_store_new(engine.ptr(), None, NO_FINALIZER))
        self._Store__context = ffi.wasmtime_store_context(self.ptr())
        self.engine = engine


def _raise(trap: Any, error: Any) -> None:
    """What wasmtime-py's `enter_wasm` does after a call into wasm: a host function's exception first, else the
    trap, else the error."""
    if trap:
        trapped = wasmtime.Trap._from_ptr(trap)
        maybe_raise_last_exn()
        raise trapped
    if error:
        maybe_raise_last_exn()
        raise wasmtime.WasmtimeError._from_ptr(error)


class Exports:
    """The exports of one instance in one Store, each fetched by name once: `get(name)` like a dict's."""

    def __init__(self, store: wasmtime.Store, instance: Any):
        self._store = store
        self._instance = instance
        self._found: dict[str, Any] = {}

    @classmethod
    def instantiate(cls, store: wasmtime.Store, pre: wasmtime.InstancePre) -> Exports:
        """A new instance of `pre` in `store`, as `InstancePre.instantiate` makes it (a Trap or WasmtimeError
        alike), and its exports."""
        instance = ffi.wasmtime_instance_t()
        trap = POINTER(ffi.wasm_trap_t)()
        error = ffi.wasmtime_instance_pre_instantiate(pre.ptr(), store._context(), byref(instance), byref(trap))
        _raise(trap, error)
        return cls(store, instance)

    def get(self, name: str) -> Any:
        """The export `name` (a Func, Memory or Table); None when there is none (or it is a global or tag)."""
        found = self._found.get(name)
        if found is None:
            item = ffi.wasmtime_extern_t()
            encoded = _name(name)
            if not ffi.wasmtime_instance_export_get(self._store._context(), byref(self._instance), encoded,
                                                    len(encoded), byref(item)):
                return None
            wrap = WRAP.get(item.kind)
            if wrap is None:
                return None
            found = self._found[name] = wrap[1](getattr(item.of, wrap[0]))
        return found

    def __getitem__(self, name: str) -> Any:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found


def call(store: wasmtime.Store, func: wasmtime.Func, args: tuple[int, ...], params: tuple[str, ...],
         result: str | None) -> int | None:
    """`func(*args)` for a function of i32/i64 `params` (the ABI's types, one per argument) and at most
    one i32/i64 `result`; a Trap, ExitTrap or WasmtimeError as `Func.__call__` raises them."""
    n = len(args)
    if n != len(params):
        raise wasmtime.WasmtimeError(f"{len(params)} arguments expected, {n} given")
    vals = (ffi.wasmtime_val_t * n)()
    for i, (value, kind) in enumerate(zip(args, params)):
        vals[i].kind = KINDS[kind]
        if kind == "i32":
            vals[i].of.i32 = value
        else:
            vals[i].of.i64 = value
    out = (ffi.wasmtime_val_t * (1 if result else 0))()
    trap = POINTER(ffi.wasm_trap_t)()
    error = ffi.wasmtime_func_call(store._context(), byref(func._func), vals, n, out, len(out), byref(trap))
    _raise(trap, error)
    if result is None:
        return None
    return out[0].of.i32 if result == "i32" else out[0].of.i64


def size(store: wasmtime.Store, memory: wasmtime.Memory) -> int:
    """The memory's size in bytes."""
    return ffi.wasmtime_memory_data_size(store._context(), byref(memory._memory))


def _base(store: wasmtime.Store, memory: wasmtime.Memory) -> int:
    return ctypes.cast(ffi.wasmtime_memory_data(store._context(), byref(memory._memory)), ctypes.c_void_p).value or 0


def write(store: wasmtime.Store, memory: wasmtime.Memory, data: bytes, at: int) -> None:
    """`data` into the memory at `at`; the caller has checked that it fits (`at + len(data) <= size`)."""
    ctypes.memmove(_base(store, memory) + at, data, len(data))


def read(store: wasmtime.Store, memory: wasmtime.Memory, at: int, n: int) -> bytes:
    """`n` bytes of the memory from `at`; the caller has checked that they lie inside it."""
    return ctypes.string_at(_base(store, memory) + at, n)
