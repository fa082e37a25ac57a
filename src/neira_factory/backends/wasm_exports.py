"""The exports the WASM backend's ABIs need (`REQUIRED`, `OPTIONAL`), fetched and called without
wasmtime-py's per-call overhead.

wasmtime-py's `Instance.exports` wraps every export of the instance, and `Func.__call__` asks the engine
for the function's type at every call to convert the arguments (17 µs for `neira_alloc`, 4.5 µs here). A backend
call needs a handful of exports whose types the ABI fixes and the dry-run checks (`wasm.abi_findings`),
so `Exports` fetches each by name on first use, and `call` passes i32/i64 arguments straight to
`wasmtime_func_call` with the result kinds given. Traps, exits and host-function errors come out exactly
as from `Func.__call__` (as wasmtime-py's `enter_wasm` makes them). Nothing here outlives the call's Store.
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


class Exports:
    """The exports of one instance in one Store, each fetched by name once: `get(name)` like a dict's."""

    def __init__(self, store: wasmtime.Store, instance: wasmtime.Instance):
        self._store = store
        self._instance = instance._instance
        self._found: dict[str, Any] = {}

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
    if trap:  # what wasmtime-py's `enter_wasm` does: a host function's exception first, else the trap
        trapped = wasmtime.Trap._from_ptr(trap)
        maybe_raise_last_exn()
        raise trapped
    if error:
        maybe_raise_last_exn()
        raise wasmtime.WasmtimeError._from_ptr(error)
    if result is None:
        return None
    return out[0].of.i32 if result == "i32" else out[0].of.i64
