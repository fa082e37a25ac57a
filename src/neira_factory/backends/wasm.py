"""WASM backend: WebAssembly modules (WASI preview 1) on wasmtime, with CPU, memory and wall-clock
limits and nothing of the host within reach.

A wasm node is `wasm: {module, sha256, abi}`: `module` is the path of a `.wasm` file in a module
directory (NEIRA_WASM_PATH, else <NEIRA_VAR_DIR>/modules; see `wasm_runtime.resolve`) or the module
itself in base64; `sha256` pins its bytes; `abi` says how it is called:

* `neira-json-v1` (default; `examples/wasm/neira.h`): the module exports `memory`,
  `neira_alloc(len) -> ptr` and `neira_run(ptr, len) -> i64` (`ptr << 32 | len` of the output);
  `_initialize` (a reactor's constructors) runs first when exported, then `neira_params(ptr, len)
  -> i32` with the template's param values as a JSON object when exported (0 = accepted). Input
  and output are UTF-8 JSON.
* `wasi-command`: `_start` reads the input JSON on stdin and writes the output JSON on stdout;
  returning or `proc_exit(0)` is success.

Each call gets a fresh Store and instance (nothing leaks between calls), made from the module's
cached InstancePre (`wasm_runtime`: compiled once per sha256) in a slot of the pool engine, which
wasmtime resets to the module's initial image when the instance is freed (on demand when no slot is
free), with:

* fuel `limits.fuel` (CPU; the fuel used is the call's `operations`);
* `limits.memory_mb` MiB for its memory and tables together (`Allowance`, `Store.set_limits`: one
  memory at most, MAX_TABLES tables, each table within cap / TABLE_SHARE over the tables, the memory
  within the rest); the memory's final size (its peak: wasm memory never shrinks) plus the tables
  that can grow is the call's `memory_bytes`;
* an epoch deadline of min(`limits.timeout_ms`, the time left before `ctx.deadline`), in ticks of
  the shared epoch ticker: the module stops itself (`interruptible`), never later than the deadline;
  host code, where no epoch check reaches, never holds it past that either (`wasm_host`: a sleep that
  would end after the deadline stops the call at once);
* WASI with no preopened directories, no environment, no arguments, empty stdin (the input, for a
  command), stdout/stderr captured (stdout up to MAX_OUTPUT_BYTES, stderr up to MAX_STDERR_BYTES;
  their lines go to the call's log, `stdout: …` / `stderr: …` (a command's stdout is its output),
  stderr's tail to the error body); nothing beyond WASI is linked.

Errors become `ExecutionError(kind=…, node=template.id)` with `error` (what exactly), `backtrace`
(wasm frames, innermost first), `stderr` (its tail), `fuel`, `fuel_used`, `memory_bytes`:

* `limit_fuel`: all fuel consumed (trap out_of_fuel);
* `timeout` (504): the epoch deadline passed (trap interrupt), a WASI call asked for a sleep past it
  (`host_deadline`), or no time was left to start;
* `limit_memory`: the module cannot start within the cap (its minimum memory, more than one memory,
  more than MAX_TABLES tables, a table larger than its share), or it failed (trapped or exited
  non-zero, or `neira_alloc` gave nothing) with its memory within max(1 MiB, cap / 8) of the cap or a
  table full to its share: a refused `memory.grow` / `table.grow` returns -1 to the module and leaves
  no other trace, so this is the sign;
* `limit`: the wasm call stack was exhausted (trap stack_overflow: deep recursion), MAX_WASM_STACK;
* `trap`: any other trap (unreachable / abort(), out-of-bounds access, division by zero, …), the
  reason naming it with the backtrace and stderr's last line;
* `exception`: the module exited with a non-zero status (`exit(n)`, or any exit inside
  `neira_run`), `neira_params` refused the params, an export is missing, the module does not compile;
* `bad_output`: the output is not UTF-8 JSON, its pointer/length fall outside memory, it is larger
  than MAX_OUTPUT_BYTES, or a command wrote nothing;
* `bad_input` (422): an input that is not plain JSON (a non-finite number);
* `policy` with `violation: true` (the immune system quarantines the node): the module imports
  something beyond WASI preview 1, or its bytes no longer match the template's sha256, or the pinned
  file is gone (`WasmIntegrityError`, also an `IntegrityError`: 409 `integrity_mismatch`).

A module that opens a file or reads the environment gets nothing: every open fails inside the
module (no preopened directory: ENOTCAPABLE), the environment is empty. That is not a violation:
nothing reached the host, and the module's own reaction decides the outcome (it handles it, or it
aborts: `trap`, or exits non-zero: `exception`, with what it said on stderr). The dry-run shows
such imports (path_*, environ_*, sock_*) as warnings, for the human who approves.

The dry-run (`check`) lists the module's imports and exports (info risk `wasm_module`), and blocks
on: an unreadable or invalid module (`module_unreadable`, `invalid_module`), a sha256 that does not
match (`sha256_mismatch`), a module file without a sha256 (`sha256_missing`), an import outside
WASI preview 1 (`forbidden_import`) or one the linker cannot resolve (`unresolved_import`), an
export the ABI needs that is missing or mistyped (`missing_export`, `export_type`, pointing at
`wasm.abi` when the module fits the other ABI), and a module that cannot start within its memory cap
(`memory_limit`: its minimum memory, its memories and tables).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import wasmtime

from ..domain import json_values
from ..domain.backend_kinds import WasmSpec
from ..domain.report import Risk
from ..domain.templates import NodeTemplate
from ..immune.integrity import IntegrityError
from .base import ExecContext, ExecutionError
from .wasm_allowance import MAX_TABLES, TABLE_ELEMENT_BYTES, Allowance, allowance
from . import wasm_exports
from .wasm_exports import ABIS, OPTIONAL, REQUIRED, SHAPES, Exports, call as call_export
from .wasm_host import Capture, Host
from .wasm_traps import backtrace, trap_code, trap_message
from .wasm_runtime import (ENVIRONMENT_CALLS, FILESYSTEM_CALLS, MAX_WASM_STACK, SOCKET_CALLS, Artifact,
                           ArtifactReader, Compiled, CompileError, ModuleError, Runtime, is_inline, runtime,
                           wasi_config)


MIB = 2**20
MAX_OUTPUT_BYTES = 32 * MIB
MAX_STDERR_BYTES = 64 * 1024
MAX_LOG_LINES = 100
STDERR_TAIL = 2000  # characters of stderr in an error body
DEADLINE_SLACK_MS = 50  # a caller's deadline this close to the node's timeout is that timeout
MEMORY_MARGIN = MIB  # a failure with less headroom than max(this, cap / 8) is the memory cap's doing
READER = ArtifactReader()


class WasmIntegrityError(ExecutionError, IntegrityError):
    """The module's bytes are not the ones the template pins: the immune system's business."""

    status = 409
    code = "integrity_mismatch"


class BadOutput(Exception):
    pass


class Stopped(Exception):
    """The module returned after a host function stopped it (it met no fuel check on the way out)."""


# -- static findings ----------------------------------------------------------------------------------

def _fn(shape: tuple[tuple[str, ...], tuple[str, ...]]) -> str:
    params, results = shape
    return f"func ({', '.join(params)}) -> {', '.join(results) or '()'}"


def abi_findings(compiled: Compiled, abi: str) -> list[Risk]:
    """Exports the ABI needs (missing or mistyped) and optional ones with the wrong type."""
    risks: list[Risk] = []
    exports = compiled.exports_by_name
    other = next(a for a in ABIS if a != abi)
    fits_other = all(name in exports for name in REQUIRED[other]) and not all(name in exports for name in REQUIRED[abi])
    missing_field = "wasm.abi" if fits_other else "wasm.module"
    hint = f" (the module fits abi {other}: set wasm.abi: {other})" if fits_other else ""
    for name, (kind, shape) in REQUIRED[abi].items():
        found = exports.get(name)
        if found is None:
            risks.append(Risk("missing_export", "blocking", f"abi {abi} needs an export `{name}` "
                              f"({_fn(shape) if shape else kind}); the module does not export it{hint}",
                              missing_field))
        elif found.kind != kind or (shape is not None and found.shape != shape):
            risks.append(Risk("export_type", "blocking", f"export `{name}` is {found.type}; abi {abi} needs "
                              f"{_fn(shape) if shape else kind}", "wasm.module"))
    for name, (kind, shape) in OPTIONAL[abi].items():
        found = exports.get(name)
        if found is not None and (found.kind != kind or found.shape != shape):
            risks.append(Risk("export_type", "blocking", f"export `{name}` is {found.type}; abi {abi} calls it as "
                              f"{_fn(shape)}", "wasm.module"))
    return risks


def import_findings(compiled: Compiled) -> list[Risk]:
    risks = [Risk("forbidden_import", "blocking", f"the module imports {i.module}.{i.name} ({i.type}): only "
                  "wasi_snapshot_preview1 functions are linked", "wasm.module")
             for i in compiled.forbidden_imports()]
    if not risks and compiled.link_error:
        risks.append(Risk("unresolved_import", "blocking", f"the module's imports cannot be linked: "
                          f"{compiled.link_error}", "wasm.module"))
    wasi = {i.name for i in compiled.imports if i.module == "wasi_snapshot_preview1"}
    for calls, what in ((FILESYSTEM_CALLS, "tries to reach files; every file call fails here (no preopened "
                         "directories)"),
                        (ENVIRONMENT_CALLS, "reads the environment; it is empty here"),
                        (SOCKET_CALLS, "uses sockets; it has none here (no network)")):
        used = sorted(wasi & calls)
        if used:
            risks.append(Risk("wasi_access", "warning", f"the module imports {', '.join(used)}: it {what}",
                              "wasm.module"))
    return risks


def refusal(compiled: Compiled, abi: str, cap_mb: int) -> tuple[str, dict[str, Any]] | tuple[()]:
    """Why no call of the module under this abi and memory cap may start: (what, the ExecutionError's fields); ()
    when calls may. The same for every call, so a call works it out once per (abi, cap): `Compiled.memo`."""
    forbidden = compiled.forbidden_imports()
    if forbidden:
        names = ", ".join(f"{i.module}.{i.name}" for i in forbidden[:5])
        return (f"the module imports {names}, beyond WASI preview 1: refused",
                {"kind": "policy", "violation": True, "error": "forbidden_import"})
    if compiled.pre is None:
        return (f"the module's imports cannot be linked: {compiled.link_error}",
                {"kind": "exception", "error": "unresolved_import"})
    problems = [r for r in abi_findings(compiled, abi) if r.severity == "blocking"]
    if problems:
        return problems[0].message, {"kind": "exception", "error": problems[0].code, "field": problems[0].field}
    room = allowance(compiled, cap_mb * MIB)
    if room.problem:
        return (f"{room.problem[1]} (its cap is {cap_mb} MiB, memory and tables together)",
                {"kind": "limit_memory", "error": room.problem[0], "memory_bytes": compiled.memory_min_bytes})
    return ()


def describe(compiled: Compiled, spec: WasmSpec) -> dict[str, Any]:
    """What the dry-run shows of a module."""
    return {"sha256": compiled.sha256, "bytes": compiled.size, "abi": spec.abi,
            "imports": [i.to_dict() for i in compiled.imports], "exports": [e.to_dict() for e in compiled.exports]}


def listing(compiled: Compiled) -> str:
    imports = ", ".join(f"{i.module}.{i.name}" for i in compiled.imports) or "none"
    exports = ", ".join(f"{e.name} ({e.type})" for e in compiled.exports) or "none"
    return (f"module sha256 {compiled.sha256} ({compiled.size} bytes); imports: {imports}; "
            f"exports: {exports}")


# -- output ------------------------------------------------------------------------------------------------

def parse_output(raw: bytes, what: str) -> Any:
    """The output as plain JSON; BadOutput saying why not."""
    try:
        return json_values.parse(raw, "output")
    except json_values.NotJSON as exc:
        raise BadOutput(f"{what} is not plain JSON: {exc}") from None


def encode_input(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


# -- one call ----------------------------------------------------------------------------------------------

@dataclass
class Budget:
    fuel: int
    memory_cap: int
    room: Allowance  # the cap split between memory and tables
    timeout_ms: float
    own_timeout: bool = True  # the node's limits.timeout_ms (else the caller's deadline, tighter) applies


class Call:
    """One invocation: a fresh Store and instance, its captures, and what it used; the instance in a slot of
    the pool engine when one is free and the module fits it (`Runtime.pooled`), else made on demand."""

    def __init__(self, rt: Runtime, compiled: Compiled, budget: Budget, stdin: bytes = b"", command: bool = False):
        self.rt = rt
        self.command = command
        self.compiled = compiled
        self.budget = budget
        pooled = rt.pooled(compiled)
        self.slot = pooled is not None and rt.slots.acquire(blocking=False)
        self.pre = pooled if self.slot else compiled.pre
        self.store = wasm_exports.Store(rt.pool_engine if self.slot else rt.engine)
        self.store.set_fuel(budget.fuel)
        self.store.set_limits(memory_size=budget.room.memory, table_elements=budget.room.table_elements, instances=1,
                              tables=MAX_TABLES, memories=1)
        self.host = Host(Capture(MAX_OUTPUT_BYTES + 1), Capture(MAX_STDERR_BYTES))
        self.stdout, self.stderr = self.host.stdout, self.host.stderr
        if compiled.uses_wasi:
            self.store.set_wasi(wasi_config(stdin))
        self.memory: wasmtime.Memory | None = None
        self.exports: Exports | None = None

    def instantiate(self) -> None:
        self.host.deadline = time.monotonic() + self.budget.timeout_ms / 1000
        self.store.set_epoch_deadline(self.rt.ticker.ticks(self.budget.timeout_ms))
        self.exports = Exports.instantiate(self.store, self.pre)
        memory = self.exports.get("memory")
        self.memory = memory if isinstance(memory, wasmtime.Memory) else None

    def invoke(self, name: str, *args: int) -> int | None:
        """The ABI function `name` called with `args` (its type is checked before the call: `abi_findings`)."""
        params, results = SHAPES[name]
        return call_export(self.store, self.exports[name], args, params, results[0] if results else None)

    def memory_bytes(self) -> int:
        """The memory's size and the tables' that can grow (a fixed-size table is part of the module)."""
        try:
            total = wasm_exports.size(self.store, self.memory) if self.memory is not None else 0
            for name in self.compiled.table_exports:
                total += self.exports[name].size(self.store) * TABLE_ELEMENT_BYTES
            return total
        except Exception:
            return 0

    def fuel_used(self) -> int:
        if self.host.fuel_left is not None:  # a host function stopped the module by taking its fuel
            return self.budget.fuel - self.host.fuel_left
        try:
            return self.budget.fuel - self.store.get_fuel()
        except Exception:
            return self.budget.fuel

    def time_limit(self, timeout_ms: int) -> tuple[int, str]:
        """The time limit the call ran under: (ms, what it is: the node's timeout or its caller's deadline)."""
        if self.budget.own_timeout:
            return timeout_ms, "its timeout"
        return int(self.budget.timeout_ms), "its caller's deadline"

    def near_cap(self) -> bool:
        """Whether the memory cap explains a failure: the memory within max(MEMORY_MARGIN, cap / 8) of it, or
        a table that can grow full to its allowance."""
        cap = self.budget.memory_cap
        if self.memory is not None and cap - self.memory_bytes() < max(MEMORY_MARGIN, cap // 8):
            return True
        try:
            return any(self.exports[name].size(self.store) >= self.budget.room.table_elements
                       for name in self.compiled.table_exports)
        except Exception:
            return False

    def write(self, payload: bytes) -> tuple[int, int]:
        """The payload into memory the module allocated with neira_alloc: (ptr, len)."""
        n = len(payload)
        ptr = self.invoke("neira_alloc", n) & 0xFFFFFFFF
        size = wasm_exports.size(self.store, self.memory)
        if ptr == 0 or ptr + n > size:
            raise AllocationFailed(n, ptr, size)
        if n:
            wasm_exports.write(self.store, self.memory, payload, ptr)
        return ptr, n

    def read(self, packed: int) -> bytes:
        packed &= 0xFFFFFFFFFFFFFFFF
        ptr, n = packed >> 32, packed & 0xFFFFFFFF
        size = wasm_exports.size(self.store, self.memory)
        if ptr + n > size:
            raise BadOutput(f"neira_run returned ptr {ptr} and length {n}, beyond the memory's {size} bytes")
        if n > MAX_OUTPUT_BYTES:
            raise BadOutput(f"the output has {n} bytes; at most {MAX_OUTPUT_BYTES}")
        return wasm_exports.read(self.store, self.memory, ptr, n) if n else b""

    def close(self) -> None:
        self.exports = self.memory = None
        try:
            self.store.close()
        finally:
            if self.slot:
                self.slot = False
                self.rt.slots.release()


class AllocationFailed(Exception):
    def __init__(self, n: int, ptr: int, size: int):
        super().__init__(f"neira_alloc({n}) returned {ptr}" + (f", beyond the memory's {size} bytes" if ptr else ""))
        self.null = ptr == 0


class WasmBackend:
    name = "wasm"
    interruptible = True  # fuel and the epoch deadline stop the module; the deadline never passes ctx.deadline

    def __init__(self, rt: Runtime | None = None, reader: ArtifactReader | None = None):
        self._rt = rt
        self.reader = reader or READER

    @property
    def runtime(self) -> Runtime:
        if self._rt is None:
            self._rt = runtime()
        return self._rt

    def side_effects(self, template: NodeTemplate) -> bool:
        return False  # nothing of the host is reachable

    # -- the module --------------------------------------------------------------------------------
    def verify(self, template: NodeTemplate) -> Artifact | None:
        """The module's bytes, checked against the template's sha256: a WasmIntegrityError (an
        IntegrityError) when they differ or a pinned file is gone; None when an unpinned module
        cannot be read (nothing to check against). The hook for loads outside a call (a route's
        table, a release): see docs/wasm.md."""
        spec, node = template.wasm, template.id
        if spec is None:
            return None
        try:
            artifact = self.reader.read(spec)
        except ModuleError as exc:
            if spec.sha256 and not is_inline(spec.module):
                raise WasmIntegrityError(f"{node}: the pinned module is gone: {exc.reason}", kind="policy", node=node,
                                         violation=True, expected=spec.sha256, error="module_unreadable") from None
            return None
        if spec.sha256 and artifact.sha256 != spec.sha256:
            raise WasmIntegrityError(f"{node}: module sha256 {artifact.sha256[:12]}… does not match the template's "
                                     f"{spec.sha256[:12]}… ({artifact.origin})", kind="policy", node=node,
                                     violation=True, expected=spec.sha256, actual=artifact.sha256,
                                     error="sha256_mismatch")
        return artifact

    def _artifact(self, template: NodeTemplate) -> Artifact:
        """The bytes a call runs: verified, and pinned when they come from a file."""
        spec, node = template.wasm, template.id
        artifact = self.verify(template)
        if artifact is None:
            try:
                self.reader.read(spec)
                reason = "the module cannot be read"
            except ModuleError as exc:
                reason = exc.reason
            raise ExecutionError(f"{node}: {reason}", kind="exception", node=node, field="wasm.module",
                                 error="module_unreadable")
        if not spec.sha256 and artifact.is_file:
            raise ExecutionError(f"{node}: module file {spec.module} is not pinned by a sha256; it does not run",
                                 kind="policy", node=node, field="wasm.sha256", error="sha256_missing")
        return artifact

    def describe(self, template: NodeTemplate) -> dict[str, Any] | None:
        """Imports, exports, sha256 and size of the template's module (None when it cannot be read)."""
        try:
            return describe(self.runtime.compiled(self.reader.read(template.wasm)), template.wasm)
        except (ModuleError, CompileError):
            return None

    # -- dry-run -----------------------------------------------------------------------------------
    def check(self, template: NodeTemplate) -> list[Risk]:
        spec = template.wasm
        if spec is None:
            return [Risk("no_wasm", "blocking", "a wasm node needs `wasm: {module, sha256, abi}`", "wasm")]
        try:
            artifact = self.reader.read(spec)
        except ModuleError as exc:
            return [Risk("module_unreadable", "blocking", exc.reason, exc.field)]
        risks: list[Risk] = []
        if spec.sha256 and spec.sha256 != artifact.sha256:
            risks.append(Risk("sha256_mismatch", "blocking", f"the module's sha256 is {artifact.sha256}, not the "
                              f"template's {spec.sha256}", "wasm.sha256"))
        elif not spec.sha256 and artifact.is_file:
            risks.append(Risk("sha256_missing", "blocking", f"a module file must be pinned: add `sha256: "
                              f"{artifact.sha256}`", "wasm.sha256"))
        elif not spec.sha256:
            risks.append(Risk("sha256_missing", "info", f"the module is inside the template (the template's own "
                              f"sha256 covers it); its sha256 is {artifact.sha256}", "wasm.sha256"))
        try:
            compiled = self.runtime.compiled(artifact)
        except CompileError as exc:
            return [*risks, Risk("invalid_module", "blocking", f"the module does not compile: {exc.reason}",
                                 "wasm.module")]
        risks.append(Risk("wasm_module", "info", listing(compiled), "wasm.module"))
        risks += import_findings(compiled)
        risks += abi_findings(compiled, spec.abi)
        room = allowance(compiled, template.limits.memory_mb * MIB)
        if room.problem:
            risks.append(Risk("memory_limit", "blocking", f"{room.problem[1]} (limits.memory_mb: "
                              f"{template.limits.memory_mb} MiB, memory and tables together)", "limits.memory_mb"))
        if template.param_values() and (spec.abi != "neira-json-v1" or "neira_params" not in compiled.exports_by_name):
            risks.append(Risk("params_unused", "warning", "the template declares params but the module does not "
                              "export neira_params (abi neira-json-v1): it never sees them", "params"))
        return risks

    # -- a call ------------------------------------------------------------------------------------
    def run(self, template: NodeTemplate, data: Any, ctx: ExecContext) -> Any:
        node, spec = template.id, template.wasm
        if spec is None:
            raise ExecutionError(f"{node}: no wasm payload", kind="exception", node=node, field="wasm")
        compiled, budget = self._prepare(template, ctx)
        try:
            payload = encode_input(data)
        except (TypeError, ValueError, RecursionError) as exc:
            raise ExecutionError(f"{node}: the input is not plain JSON: {exc}", kind="bad_input", node=node) from None
        params = template.param_values() if spec.abi == "neira-json-v1" else {}
        command = spec.abi == "wasi-command"
        rt = self.runtime
        call = Call(rt, compiled, budget, stdin=payload if command else b"", command=command)
        try:
            with rt.ticker.running(), call.host:
                try:
                    call.instantiate()
                    result = self._command(call, node) if command else self._json(call, node, payload, params)
                    if call.host.stopped:
                        raise Stopped()
                    return result
                except (wasmtime.WasmtimeError, wasmtime.Trap, AllocationFailed, BadOutput, Stopped) as exc:
                    raise self._failure(exc, call, template) from None
        finally:
            self._account(call, ctx, node)
            call.close()

    def _prepare(self, template: NodeTemplate, ctx: ExecContext) -> tuple[Compiled, Budget]:
        """The compiled module and the call's budget; an ExecutionError when it must not start."""
        node, limits, spec = template.id, template.limits, template.wasm
        timeout_ms = limits.timeout_ms
        if ctx.deadline is not None:
            left_ms = (ctx.deadline - time.monotonic()) * 1000
            if left_ms < 1:
                raise ExecutionError(f"{node}: no time left before the deadline; the module did not start",
                                     kind="timeout", node=node, limit_ms=0)
            timeout_ms = min(timeout_ms, left_ms)
        artifact = self._artifact(template)
        try:
            compiled = self.runtime.compiled(artifact)
        except CompileError as exc:
            raise ExecutionError(f"{node}: the module does not compile: {exc.reason}", kind="exception", node=node,
                                 error="invalid_module") from None
        key = ("refusal", spec.abi, limits.memory_mb)
        refused = compiled.memo.get(key)
        if refused is None:
            refused = compiled.memo[key] = refusal(compiled, spec.abi, limits.memory_mb)
        if refused:
            raise ExecutionError(f"{node}: {refused[0]}", node=node, **refused[1])
        room = allowance(compiled, limits.memory_mb * MIB)
        # the caller's deadline is the node's own timeout less the way here, unless an enclosing budget is tighter
        own = timeout_ms >= limits.timeout_ms - max(DEADLINE_SLACK_MS, limits.timeout_ms / 20)
        return compiled, Budget(limits.fuel, limits.memory_mb * MIB, room, timeout_ms, own)

    def _json(self, call: Call, node: str, payload: bytes, params: dict[str, Any]) -> Any:
        exports = call.compiled.exports_by_name
        if "_initialize" in exports:
            call.invoke("_initialize")
        if params and "neira_params" in exports:
            try:
                encoded = encode_input(params)
            except (TypeError, ValueError, RecursionError) as exc:
                raise ExecutionError(f"{node}: the params are not plain JSON: {exc}", kind="exception",
                                     node=node, field="params") from None
            status = call.invoke("neira_params", *call.write(encoded))
            if status != 0:
                raise ExecutionError(f"{node}: neira_params refused the params (status {status})", kind="exception",
                                     node=node, field="params", error="params_refused", **self._evidence(call))
        packed = call.invoke("neira_run", *call.write(payload))
        return parse_output(call.read(packed), "the output of neira_run")

    def _command(self, call: Call, node: str) -> Any:
        try:
            call.invoke("_start")
        except wasmtime.ExitTrap as exc:
            if exc.code != 0:
                raise
        if call.stdout.dropped or len(call.stdout.data) > MAX_OUTPUT_BYTES:
            raise BadOutput(f"the module wrote more than {MAX_OUTPUT_BYTES} bytes on stdout")
        if not call.stdout.data.strip():
            raise BadOutput("the module wrote nothing on stdout (a wasi-command answers with JSON there)")
        return parse_output(bytes(call.stdout.data), "stdout")

    # -- errors and accounting ---------------------------------------------------------------------
    def _evidence(self, call: Call) -> dict[str, Any]:
        stderr = call.stderr.data.decode("utf-8", "replace")
        return {"stderr": stderr[-STDERR_TAIL:] or None, "fuel": call.budget.fuel, "fuel_used": call.fuel_used(),
                "memory_bytes": call.memory_bytes()}

    def _failure(self, exc: BaseException, call: Call, template: NodeTemplate) -> ExecutionError:
        node, limits = template.id, template.limits
        evidence = self._evidence(call)
        frames, _ = backtrace(exc)
        at = f" at {' ← '.join(frames)}" if frames else ""
        last_words = ""
        if evidence["stderr"]:
            lines = [line for line in evidence["stderr"].splitlines() if line.strip()]
            last_words = f"; stderr: {lines[-1][:300]}" if lines else ""
        extra = {**evidence, "backtrace": frames or None}
        code = trap_code(exc)
        cap_mb = limits.memory_mb
        if call.host.stopped:  # whatever came of it after: the host function's stop is the cause
            ms, what = call.time_limit(limits.timeout_ms)
            return ExecutionError(f"{node}: the module asked for {call.host.stopped}, past {what} of {ms} ms, and was "
                                  f"stopped at once", kind="timeout", node=node, error="host_deadline", limit_ms=ms,
                                  **extra)
        if isinstance(exc, BadOutput):
            return ExecutionError(f"{node}: {exc}", kind="bad_output", node=node, **evidence)
        if code == "out_of_fuel":
            return ExecutionError(f"{node}: the module used all its fuel ({call.budget.fuel}){at}", kind="limit_fuel",
                                  node=node, error=code, **extra)
        if code == "interrupt":
            ms, what = call.time_limit(limits.timeout_ms)
            return ExecutionError(f"{node}: the module ran past {what} of {ms} ms and was stopped{at}",
                                  kind="timeout", node=node, error=code, limit_ms=ms, **extra)
        if code == "stack_overflow":
            return ExecutionError(f"{node}: the wasm call stack is exhausted (deep recursion; the stack limit is "
                                  f"{MAX_WASM_STACK // 1024} KiB){at}", kind="limit", node=node, error=code,
                                  limit_bytes=MAX_WASM_STACK, **extra)
        if isinstance(exc, AllocationFailed):
            what = f"{exc}"
            error = "alloc_failed"
        elif isinstance(exc, wasmtime.ExitTrap):
            what = f"the module exited with status {exc.code}"
            error, extra["exit_code"] = "exit", exc.code
        elif isinstance(exc, wasmtime.Trap):
            what = f"wasm trap: {trap_message(exc).removeprefix('wasm trap: ')}"
            error = code or "trap"
        else:
            what = trap_message(exc)
            error = "error"
            if "exceeds memory limits" in what or "exceeds table limits" in what or "resource limit exceeded" in what:
                return ExecutionError(f"{node}: {what} (cap {cap_mb} MiB)", kind="limit_memory", node=node,
                                      error="memory_minimum" if "memory minimum" in what else "store_limit", **extra)
        if call.near_cap() and (isinstance(exc, (wasmtime.Trap, wasmtime.ExitTrap)) or
                                (isinstance(exc, AllocationFailed) and exc.null)):
            return ExecutionError(f"{node}: the module reached its memory cap of {cap_mb} MiB "
                                  f"({evidence['memory_bytes']} bytes) and failed: {what}{at}{last_words}",
                                  kind="limit_memory", node=node, error=error, **extra)
        if isinstance(exc, AllocationFailed):
            kind = "exception" if exc.null else "bad_output"
            return ExecutionError(f"{node}: {what}", kind=kind, node=node, error=error, **extra)
        if isinstance(exc, wasmtime.Trap):
            return ExecutionError(f"{node}: {what}{at}{last_words}", kind="trap", node=node, error=error, **extra)
        return ExecutionError(f"{node}: {what}{last_words}", kind="exception", node=node, error=error, **extra)

    @staticmethod
    def _account(call: Call, ctx: ExecContext, node: str) -> None:
        ctx.usage["operations"] = ctx.usage.get("operations", 0) + call.fuel_used()
        ctx.usage["memory_bytes"] = max(ctx.usage.get("memory_bytes", 0), call.memory_bytes())
        streams = [("stderr", call.stderr)] if call.command else [("stdout", call.stdout), ("stderr", call.stderr)]
        for name, stream in streams:  # a command's stdout is its output
            if stream.data:
                lines = stream.data.decode("utf-8", "replace").splitlines()
                ctx.log.extend(f"{name}: {line}" for line in lines[:MAX_LOG_LINES])
                if len(lines) > MAX_LOG_LINES or stream.dropped:
                    ctx.log.append(f"… more {name} from {node} not kept")
