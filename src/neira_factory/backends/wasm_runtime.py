"""The WASM backend's shared machinery: one wasmtime Engine, its WASI linker and epoch ticker,
reading a node's module (a file or base64) with its integrity check, and compiled modules cached
per sha256 with what they import and export. `wasm.py` runs calls on top of it.

* **Engine**: `consume_fuel` (CPU), `epoch_interruption` (wall clock), `max_wasm_stack`
  (`MAX_WASM_STACK`), one per process, shared by every call and thread. The proposals that would
  allocate beyond a Store's limits are off (`OFF_PROPOSALS`: shared memories and threads, GC objects,
  exceptions, stack switching): a module using one does not compile. The process's runtime has a
  second engine alike but for wasmtime's pooling allocator (`POOL_SLOTS` instance slots, each as
  large as the largest cap, `POOL_CONFIG`): a call instantiates there while a slot is free (the
  module's code deserialized into it once, `Runtime.pooled`), else on the first engine. A freed
  slot is reset by wasmtime (memory back to the module's image, tables emptied), so no state passes.
* **Linker**: WASI preview 1 (`wasi_snapshot_preview1`) and nothing else, with the calls that could
  outlast a call's deadline answered by `wasm_host` instead. Each call's Store gets its own WASI
  context: no preopened directories, no environment, no arguments, stdin empty (or the input, for a
  command), stdout and stderr captured.
* **Epoch ticker**: a daemon thread that advances the engine's epoch every `TICK_MS` while at
  least one call runs (it sleeps otherwise). It keeps the epoch aligned with the wall clock
  (ticks it missed while it was not scheduled are caught up), so a deadline of N ticks traps
  between (N - 1) and N ticks after it was set, plus the thread's lateness; a deadline set while
  the thread is behind includes what it owes, so its catching up stops no call early.
* **Modules**: compiled once per sha256 of their bytes (least recently used evicted beyond
  `CACHE_SIZE`), each with its `InstancePre` (imports resolved once), so a call only instantiates;
  a table that can grow is exported under a hidden name first (`wasm_binary`), so that a call can
  measure it.
* **Module files** lie in the module directories (`module_dirs`: NEIRA_WASM_PATH, else
  `<NEIRA_VAR_DIR>/modules`); `resolve` refuses anything else with one and the same error, whether
  or not the file exists (`outside`).
"""
from __future__ import annotations

import base64
import binascii
import ctypes
import hashlib
import os
import queue
import stat
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime._wasi import CUSTOM_OUTPUTS, custom_call

from ..config import VAR_DIR_ENV, var_dir_from_env
from ..domain.backend_kinds import WasmSpec
from . import wasm_binary, wasm_host
from .wasm_binary import BinaryError, Table

WASI_MODULE = "wasi_snapshot_preview1"
# WASI preview 1, every function (wasmtime links them all; with no preopens, env or sockets most fail)
WASI_PREVIEW1 = frozenset({
    "args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_res_get", "clock_time_get",
    "fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get", "fd_fdstat_set_flags",
    "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size", "fd_filestat_set_times", "fd_pread",
    "fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite", "fd_read", "fd_readdir", "fd_renumber", "fd_seek",
    "fd_sync", "fd_tell", "fd_write", "path_create_directory", "path_filestat_get", "path_filestat_set_times",
    "path_link", "path_open", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
    "path_unlink_file", "poll_oneoff", "proc_exit", "proc_raise", "sched_yield", "random_get", "sock_accept",
    "sock_recv", "sock_send", "sock_shutdown"})
# what a reviewer should know a module tries, though here it gets nothing
FILESYSTEM_CALLS = frozenset(n for n in WASI_PREVIEW1 if n.startswith("path_")) | {"fd_readdir"}
ENVIRONMENT_CALLS = frozenset({"environ_get", "environ_sizes_get"})
SOCKET_CALLS = frozenset(n for n in WASI_PREVIEW1 if n.startswith("sock_"))

PAGE = 65536
MAX_WASM_STACK = 512 * 1024  # bytes of native stack wasm may use (the deep-recursion limit)
MAX_MODULE_BYTES = 64 * 2**20
CACHE_SIZE = 64
WASM_MAGIC = b"\0asm"
DATA_URL = "data:application/wasm;base64,"
BASE64_MAGIC = "AGFzbQ"  # base64 of b"\0asm"
PATH_ENV = "NEIRA_WASM_PATH"  # the module directories (os.pathsep-separated): module paths lie inside them
MODULES_DIR = "modules"  # the module directory under NEIRA_VAR_DIR when NEIRA_WASM_PATH is unset
OFF_PROPOSALS = ("wasm_threads", "wasm_gc", "wasm_function_references", "wasm_exceptions", "wasm_stack_switching")
TICK_ENV = "NEIRA_WASM_TICK_MS"
POOL_SLOTS = 64  # instances the pool engine holds at once; a call beyond them instantiates on demand
# a pool slot fits what any call's Store limits allow (limits.memory_mb <= 4096, `wasm_allowance`): one
# memory of up to 4 GiB, MAX_TABLES tables of up to 4 GiB / TABLE_SHARE / TABLE_ELEMENT_BYTES elements; a
# freed slot's first MiB of memory (64 KiB of tables) is reset in place (memset, the CoW image) rather than
# given back to the kernel, so the next instance does not fault its pages in again
POOL_CONFIG = {"max_memories_per_module": 1, "max_memory_size": 4 * 2**30, "max_tables_per_module": 8,
               "table_elements": 4 * 2**30 // 16 // 8, "linear_memory_keep_resident": 2**20,
               "table_keep_resident": 2**16}
POOLED = "pooled"  # Compiled.memo's key of the module's InstancePre on the pool engine


def tick_ms() -> int:
    raw = os.environ.get(TICK_ENV, "").strip()
    return max(1, int(raw)) if raw.isdigit() else 2


class ModuleError(Exception):
    """The module cannot be had: missing, unreadable, not WebAssembly, too large, bad base64.
    `field` points at the template field to fix."""

    def __init__(self, reason: str, field: str = "wasm.module"):
        super().__init__(reason)
        self.reason = reason
        self.field = field


# -- the module's bytes ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Artifact:
    content: bytes
    sha256: str
    origin: str  # the resolved path, or "base64"

    @property
    def is_file(self) -> bool:
        return self.origin != "base64"


def is_inline(module: str) -> bool:
    """Whether `wasm.module` carries the module itself (base64, or a data: URL) rather than a path."""
    return module.startswith((DATA_URL, BASE64_MAGIC))


def module_dirs() -> list[tuple[Path, Path]]:
    """The module directories, each as written (made absolute) and resolved: NEIRA_WASM_PATH's, else
    `<NEIRA_VAR_DIR>/modules`."""
    given = [Path(p) for p in os.environ.get(PATH_ENV, "").split(os.pathsep) if p.strip()]
    return [(Path(os.path.abspath(d)), d.resolve()) for d in given or [var_dir_from_env() / MODULES_DIR]]


def outside() -> ModuleError:
    """The one error for a module path outside the module directories: the same for every such path,
    whether or not the file exists or can be read (it names neither the path nor a host directory)."""
    if any(p.strip() for p in os.environ.get(PATH_ENV, "").split(os.pathsep)):
        return ModuleError(f"the module path is outside {PATH_ENV}: a module file must lie in one of its directories")
    return ModuleError(f"the module path is outside the module directory (<NEIRA_VAR_DIR>/{MODULES_DIR}, as "
                       f"{PATH_ENV} is unset): a module file must lie there")


def resolve(module: str) -> Path:
    """The file a module path names: a relative path in the first module directory that has it, an
    absolute one as it is. It must lie in a module directory as written and once its symlinks are
    followed, without `..`; anything else is `outside()`, decided before a file outside is looked at."""
    dirs = module_dirs()
    given = Path(module)
    if ".." in given.parts or (given.is_absolute() and not any(given.is_relative_to(d) for pair in dirs for d in pair)):
        raise outside()
    try:
        candidates = [given.resolve()] if given.is_absolute() else [(d / given).resolve() for _, d in dirs]
        inside = [c for c in candidates if any(c.is_relative_to(resolved) for _, resolved in dirs)]
        if not inside:
            raise outside()
        return next((c for c in inside if c.exists()), inside[0])
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long, a loop of symlinks: no file
        raise ModuleError(f"the module path names no file: {getattr(exc, 'strerror', None) or exc}") from None


class ArtifactReader:
    """Module bytes with their sha256. A file is re-read only when its stat signature changes
    (device, inode, size, mtime, ctime: any write changes ctime, which no tool can set back), so
    checking a pinned file at every call costs one stat. Inline modules are decoded once."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._files: OrderedDict[Path, tuple[tuple, Artifact]] = OrderedDict()
        self._inline: OrderedDict[str, Artifact] = OrderedDict()
        self._paths: dict[tuple[str, str], Path] = {}
        self._lock = threading.Lock()

    def read(self, spec: WasmSpec) -> Artifact:
        return self._decode(spec.module) if is_inline(spec.module) else self._file(spec.module)

    def _decode(self, module: str) -> Artifact:
        with self._lock:
            found = self._inline.get(module)
            if found is not None:
                self._inline.move_to_end(module)
                return found
        text = module.removeprefix(DATA_URL)
        try:
            content = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ModuleError(f"wasm.module is not valid base64: {exc}") from None
        artifact = Artifact(_checked(content, "the base64 module"), hashlib.sha256(content).hexdigest(), "base64")
        with self._lock:
            self._inline[module] = artifact
            while len(self._inline) > self.size:
                self._inline.popitem(last=False)
        return artifact

    def _resolved(self, module: str, again: bool = False) -> Path:
        """`resolve(module)`, remembered per (module, NEIRA_WASM_PATH, NEIRA_VAR_DIR): a path resolves once
        (`again`: anew), and the file it names is lstat'ed at every read."""
        dirs = os.environ.get(PATH_ENV, "")
        key = (module, dirs, "" if dirs.strip() else os.environ.get(VAR_DIR_ENV, ""))
        path = None if again else self._paths.get(key)
        if path is None:
            path = resolve(module)
            with self._lock:
                if len(self._paths) >= 4 * self.size:
                    self._paths.clear()
                self._paths[key] = path
        return path

    def _file(self, module: str) -> Artifact:
        path = self._resolved(module)
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):  # a file replaced by a symlink since it resolved: resolve it anew
                path = self._resolved(module, again=True)
                st = os.lstat(path)
        except OSError as exc:
            raise ModuleError(f"module file {module} cannot be read: {exc.strerror or exc}") from None
        if not stat.S_ISREG(st.st_mode):
            raise ModuleError(f"module {module} is not a regular file")
        if st.st_size > MAX_MODULE_BYTES:
            raise ModuleError(f"module file {module} has {st.st_size} bytes; at most {MAX_MODULE_BYTES}")
        signature = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        with self._lock:
            found = self._files.get(path)
            if found is not None and found[0] == signature:
                self._files.move_to_end(path)
                return found[1]
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ModuleError(f"module file {module} cannot be read: {exc.strerror or exc}") from None
        artifact = Artifact(_checked(content, f"module file {module}"), hashlib.sha256(content).hexdigest(),
                            str(path))
        with self._lock:
            self._files[path] = (signature, artifact)
            self._files.move_to_end(path)
            while len(self._files) > self.size:
                self._files.popitem(last=False)
        return artifact

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self._inline.clear()
            self._paths.clear()


def _checked(content: bytes, what: str) -> bytes:
    if len(content) > MAX_MODULE_BYTES:
        raise ModuleError(f"{what} has {len(content)} bytes; at most {MAX_MODULE_BYTES}")
    if not content.startswith(WASM_MAGIC):
        raise ModuleError(f"{what} is not a WebAssembly binary (it does not start with \\0asm)")
    return content


# -- compiled modules -----------------------------------------------------------------------------

def signature(t: object) -> str:
    """A readable extern type: `func (i32, i32) -> i64`, `memory 2..∞ pages`, `global i32`, `table`."""
    if isinstance(t, wasmtime.FuncType):
        params = ", ".join(map(str, t.params))
        results = ", ".join(map(str, t.results))
        return f"func ({params}) -> ({results})" if len(t.results) > 1 else f"func ({params}) -> {results or '()'}"
    if isinstance(t, wasmtime.MemoryType):
        top = "∞" if t.limits.max is None else str(t.limits.max)
        return f"memory {t.limits.min}..{top} pages"
    if isinstance(t, wasmtime.GlobalType):
        return f"global {t.content}"
    if isinstance(t, wasmtime.TableType):
        return "table"
    return type(t).__name__


def func_shape(t: object) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    if not isinstance(t, wasmtime.FuncType):
        return None
    return tuple(map(str, t.params)), tuple(map(str, t.results))


@dataclass(frozen=True)
class Import:
    module: str
    name: str
    kind: str  # func | memory | global | table
    type: str

    def to_dict(self) -> dict[str, str]:
        return {"module": self.module, "name": self.name, "type": self.type}


@dataclass(frozen=True)
class Export:
    name: str
    kind: str
    type: str
    shape: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # (params, results) of a function

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type}


def _kind(t: object) -> str:
    return {wasmtime.FuncType: "func", wasmtime.MemoryType: "memory", wasmtime.GlobalType: "global",
            wasmtime.TableType: "table"}.get(type(t), "other")


@dataclass
class Compiled:
    """One module, compiled: what it imports and exports, and its InstancePre when every import
    is one the linker has (else `link_error` says why)."""

    sha256: str
    size: int
    module: wasmtime.Module
    imports: tuple[Import, ...]
    exports: tuple[Export, ...]
    pre: wasmtime.InstancePre | None = None
    link_error: str | None = None
    memory_min_bytes: int = 0
    memories: int = 0  # the memories it defines
    tables: tuple[Table, ...] = ()
    table_exports: tuple[str, ...] = ()  # the hidden exports of the tables that can grow
    uses_wasi: bool = False
    exports_by_name: dict[str, Export] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # what callers derive from the module once (per abi, cap)

    def forbidden_imports(self) -> list[Import]:
        return [i for i in self.imports
                if i.module != WASI_MODULE or i.kind != "func" or i.name not in WASI_PREVIEW1]


class CompileError(Exception):
    """The bytes are not a valid module for this engine (wasmtime's message in `reason`)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def engine_config(pool_slots: int = 0) -> wasmtime.Config:
    """Fuel, epochs, the stack limit, OFF_PROPOSALS off; with `pool_slots`, wasmtime's pooling allocator
    with that many instance slots, each as large as any call's cap allows (POOL_CONFIG)."""
    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    config.max_wasm_stack = MAX_WASM_STACK
    for proposal in OFF_PROPOSALS:
        setattr(config, proposal, False)
    if pool_slots:
        pool = ffi.wasmtime_pooling_allocation_config_new()
        limits = {**POOL_CONFIG, "total_core_instances": pool_slots, "total_memories": pool_slots,
                  "total_tables": pool_slots * POOL_CONFIG["max_tables_per_module"]}
        for key, value in limits.items():
            getattr(ffi, f"wasmtime_pooling_allocation_config_{key}_set")(pool, value)
        ffi.wasmtime_pooling_allocation_strategy_set(config.ptr(), pool)
        ffi.wasmtime_pooling_allocation_config_delete(pool)
    return config


def _pool_engine(slots: int) -> wasmtime.Engine | None:
    """An engine with the pooling allocator; None when wasmtime cannot reserve the pool's address space, or
    when this wasmtime's C bindings have no pooling allocator (calls then instantiate on demand, alike)."""
    try:
        engine = wasmtime.Engine(engine_config(slots))
    except (AttributeError, wasmtime.WasmtimeError):
        return None
    return engine if engine.ptr() else None


def _linker(engine: wasmtime.Engine) -> wasmtime.Linker:
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    wasm_host.define(linker, WASI_MODULE)
    return linker


class Slots:
    """The pool's instances not in use, a token each (a SimpleQueue's get and put cost a tenth of a semaphore's)."""

    def __init__(self, n: int):
        self._free: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(n):
            self._free.put(None)

    def acquire(self, blocking: bool = False) -> bool:
        try:
            self._free.get(block=blocking)
        except queue.Empty:
            return False
        return True

    def release(self) -> None:
        self._free.put(None)


class Runtime:
    """The process's engines (on-demand, and pooled: `pooled`), linkers, ticker and compiled modules."""

    def __init__(self, tick: int | None = None, cache_size: int = CACHE_SIZE, pool_slots: int = 0):
        self.engine = wasmtime.Engine(engine_config())
        self.linker = _linker(self.engine)
        self.pool_engine = _pool_engine(pool_slots) if pool_slots > 0 else None
        self.pool_linker = _linker(self.pool_engine) if self.pool_engine else None
        self.slots = Slots(max(1, pool_slots))
        self.ticker = EpochTicker(self.engine, tick or tick_ms(), also=(self.pool_engine,) if self.pool_engine else ())
        self.cache_size = cache_size
        self._compiled: OrderedDict[str, Compiled | CompileError] = OrderedDict()
        self._lock = threading.Lock()
        self._link_lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def compiled(self, artifact: Artifact) -> Compiled:
        """The compiled module for these bytes (compiled at most once while cached); CompileError when
        the bytes do not compile (remembered too)."""
        key = artifact.sha256
        with self._lock:
            found = self._compiled.get(key)
            if found is not None:
                self._compiled.move_to_end(key)
                self.hits += 1
        if found is None:
            found = self._compile(artifact)
            with self._lock:
                self.misses += 1
                found = self._compiled.setdefault(key, found)
                self._compiled.move_to_end(key)
                while len(self._compiled) > self.cache_size:
                    self._compiled.popitem(last=False)
        if isinstance(found, CompileError):
            raise found
        return found

    def _compile(self, artifact: Artifact) -> Compiled | CompileError:
        try:
            memories, tables = wasm_binary.memories(artifact.content), wasm_binary.tables(artifact.content)
            growable = tuple(i for i, t in enumerate(tables) if t.growable)
            module = wasmtime.Module(self.engine, wasm_binary.export_tables(artifact.content, growable))
        except wasmtime.WasmtimeError as exc:
            return CompileError(str(exc).strip())
        except BinaryError as exc:  # wasmtime's own message when it refuses the bytes too
            return self._refusal(artifact, f"the module cannot be read: {exc}")
        imports = tuple(Import(i.module, i.name or "", _kind(i.type), signature(i.type)) for i in module.imports)
        exports = tuple(Export(e.name, _kind(e.type), signature(e.type), func_shape(e.type)) for e in module.exports
                        if not e.name.startswith(wasm_binary.HIDDEN_TABLE))
        memory_min = max((e_type.limits.min for e_type in (e.type for e in module.exports)
                          if isinstance(e_type, wasmtime.MemoryType)), default=0)
        compiled = Compiled(artifact.sha256, len(artifact.content), module, imports, exports,
                            memory_min_bytes=memory_min * PAGE, memories=memories, tables=tables,
                            table_exports=tuple(f"{wasm_binary.HIDDEN_TABLE}{i}" for i in growable),
                            uses_wasi=any(i.module == WASI_MODULE for i in imports),
                            exports_by_name={e.name: e for e in exports})
        if not compiled.forbidden_imports():
            try:
                with self._link_lock:  # a Linker is not meant for concurrent use
                    compiled.pre = self.linker.instantiate_pre(module)
            except wasmtime.WasmtimeError as exc:
                compiled.link_error = str(exc).strip()
        return compiled

    def pooled(self, compiled: Compiled) -> wasmtime.InstancePre | None:
        """The module's InstancePre on the pool engine (its code deserialized from the compiled module, made
        once); None without a pool or when the module does not fit a pool slot (wasmtime says so)."""
        found = compiled.memo.get(POOLED, False)
        if found is False:
            found = None
            if self.pool_engine is not None and compiled.pre is not None:
                try:
                    module = wasmtime.Module.deserialize(self.pool_engine, compiled.module.serialize())
                    with self._link_lock:
                        found = self.pool_linker.instantiate_pre(module)
                except wasmtime.WasmtimeError:
                    found = None
            compiled.memo[POOLED] = found
        return found

    def _refusal(self, artifact: Artifact, reason: str) -> CompileError:
        """wasmtime's error for bytes this backend could not read, or `reason` when wasmtime reads them."""
        try:
            wasmtime.Module.validate(self.engine, artifact.content)
        except wasmtime.WasmtimeError as exc:
            return CompileError(str(exc).strip())
        return CompileError(reason)

    def clear(self) -> None:
        with self._lock:
            self._compiled.clear()
            self.hits = self.misses = 0


class EpochTicker:
    """Advances the engine's epoch (and those of the engines `also`) every `tick_ms` while calls run (see
    the module docstring)."""

    def __init__(self, engine: wasmtime.Engine, tick_ms: int, also: tuple[wasmtime.Engine, ...] = ()):
        self.engine = engine
        self.engines = (engine, *also)
        self.tick_ms = tick_ms
        self._active = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._started: float | None = None  # while the loop runs: when it started counting
        self._done = 0  # ticks it has given since then

    def owed(self) -> int:
        """Ticks the loop is behind the wall clock (it was not scheduled); it gives them all at once."""
        started = self._started
        if started is None:
            return 0
        return max(0, int((time.monotonic() - started) * 1000 // self.tick_ms) - self._done)

    def ticks(self, ms: float) -> int:
        """Ticks for a deadline `ms` from now that never passes it: a trap comes within one tick before.
        The ticks the loop owes are added: they stand for time before now, and a late loop that catches
        up must not stop a call that has only just started."""
        return max(1, int(ms // self.tick_ms)) + self.owed()

    def running(self) -> EpochTicker:
        """`with ticker.running():` the epoch advances while the block runs (the ticker is its own context
        manager: a call pays for no generator)."""
        return self

    def __enter__(self) -> None:
        with self._cond:
            self._active += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="neira-wasm-epoch", daemon=True)
                self._thread.start()
            self._cond.notify()

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._active -= 1

    def _loop(self) -> None:
        tick_s = self.tick_ms / 1000
        while True:
            with self._cond:
                self._started = None
                while self._active == 0:
                    self._cond.wait()
                self._started, self._done = time.monotonic(), 0
            while self._active > 0:
                time.sleep(tick_s)
                due = int((time.monotonic() - self._started) / tick_s)
                while self._done < due:
                    for engine in self.engines:
                        engine.increment_epoch()
                    self._done += 1


# -- WASI per call --------------------------------------------------------------------------------

def _route(stream: str) -> int:
    """A handle, kept for good, of wasmtime-py's custom outputs: it writes into `stream` (stdout or stderr) of the
    call running on this thread (`wasm_host.current()`: a WASI call runs on the thread that called the module)."""
    return CUSTOM_OUTPUTS.allocate(lambda chunk: getattr(wasm_host.current(), stream)(chunk))


STREAMS = (_route("stdout"), _route("stderr"))
KEEP = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(lambda handle: None)  # a config's end leaves STREAMS in place


def wasi_config(stdin: bytes) -> wasmtime.WasiConfig:
    """No preopened directories, no environment, no arguments (WasiConfig's defaults), stdin from
    bytes (empty: end of file at once), stdout and stderr into the running call's captures (`wasm_host.fd_write`
    writes there itself; these catch a write by any other call). The two outputs are the same process-wide
    routes for every config (`STREAMS`), so a call allocates no callback of its own."""
    config = wasmtime.WasiConfig()
    ffi.wasi_config_set_stdout_custom(config.ptr(), custom_call, STREAMS[0], KEEP)
    ffi.wasi_config_set_stderr_custom(config.ptr(), custom_call, STREAMS[1], KEEP)
    if stdin:
        _stdin_bytes(config, stdin)
    return config


def _stdin_bytes(config: wasmtime.WasiConfig, data: bytes) -> None:
    """stdin from memory: wasmtime's C API has it (wasi_config_set_stdin_bytes), wasmtime-py no wrapper."""
    vec = ffi.wasm_byte_vec_t()
    buffer = (ffi.wasm_byte_t * len(data)).from_buffer_copy(data)
    ffi.wasm_byte_vec_new(ctypes.byref(vec), len(data), buffer)
    ffi.wasi_config_set_stdin_bytes(config.ptr(), ctypes.byref(vec))  # takes ownership of the copy


_RUNTIME: Runtime | None = None
_RUNTIME_LOCK = threading.Lock()


def runtime() -> Runtime:
    """The process's shared runtime (made on first use), with the instance pool (POOL_SLOTS)."""
    global _RUNTIME
    if _RUNTIME is None:
        with _RUNTIME_LOCK:
            if _RUNTIME is None:
                _RUNTIME = Runtime(pool_slots=POOL_SLOTS)
    return _RUNTIME
