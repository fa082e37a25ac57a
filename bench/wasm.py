#!/usr/bin/env python3
"""Benchmark of the WASM backend: the cost of one call through `WasmBackend.run` against a raw
wasmtime-py call of the same export on a module instantiated once, and the cost of a fresh
instance per call (what the backend pays by design: no state survives a call).

Modules: the C examples built by `scripts/build_wasm.sh` into a temp dir (or `--modules DIR` of
an earlier build). Workloads (neira-json-v1, each output checked against the raw side's):

* `echo`: `{"text": "hello, wasm", "n": 3}` in, the same out;
* `grayscale`: a 32×32 RGBA image (4 KiB, base64) to grey.

The backend side: `WasmBackend().run(template, data, ctx)` with the template pinned to the built
file (sha256), default limits, a fresh `ExecContext` with a 1 s deadline each call: the stat and
integrity check of the file, the cached compiled module, a new Store with fuel, memory cap and
epoch deadline, WASI where the module imports it, `InstancePre.instantiate` (in a slot of the
process runtime's instance pool), `_initialize`, `neira_alloc` + write + `neira_run` + read, JSON
in and out, fuel and memory accounting.

The raw side: a plain `wasmtime.Engine()` (no fuel, no epochs), the module compiled and
instantiated once through a WASI linker, `_initialize` called once; each call encodes the JSON,
calls `neira_alloc`, writes the input, calls `neira_run`, reads and decodes the output. (The
module's malloc never frees the inputs here, so memory grows over the run; it stays far below
the 4 GiB a wasm32 memory can reach.)

Fresh instantiation, per call: a Store + `InstancePre.instantiate` + `_initialize` on the raw
engine; the same through `Linker.instantiate` (imports resolved each time); and a Store with
fuel, limits and WASI (the backend's engine config) + instantiate, the part of a backend call
before the module runs, on the on-demand engine and in the pool engine's slots.

Each measure: a warm-up, then `--repeats` runs of `--iterations` calls; the median run counts. The backend
call and the raw call take their runs in turn, so that the machine's other load weighs on both alike.
Prints µs per call for each line, then the ratio (backend / raw call, echo) last.

Run: `.venv/bin/python bench/wasm.py [--iterations N] [--repeats R] [--modules DIR]`
"""
from __future__ import annotations

import argparse
import importlib.metadata
import base64
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import wasmtime

from neira_factory.backends.base import ExecContext
from neira_factory.backends.wasm import WasmBackend
from neira_factory.backends.wasm_runtime import runtime, wasi_config
from neira_factory.domain.templates import NodeTemplate

ROOT = Path(__file__).resolve().parents[1]
IMAGE = bytes((x * 7 + y * 13) % 256 for y in range(32) for x in range(32 * 4))
WORKLOADS = [
    ("echo", {"text": "hello, wasm", "n": 3}),
    ("grayscale", {"width": 32, "height": 32, "rgba": base64.b64encode(IMAGE).decode()}),
]


def build(out: Path) -> Path:
    subprocess.run([str(ROOT / "scripts" / "build_wasm.sh"), str(out)], check=True)
    return out


def measure(fn: Callable[[], Any], iterations: int, repeats: int, warmup: int) -> float:
    """µs per call: the median of `repeats` runs of `iterations` calls, after `warmup` calls."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(iterations):
            fn()
        runs.append((time.perf_counter() - started) / iterations * 1e6)
    return statistics.median(runs)


def measure_pair(a: Callable[[], Any], b: Callable[[], Any], iterations: int, repeats: int,
                 warmup: int) -> tuple[float, float]:
    """µs per call of `a` and of `b`: their runs of `iterations` calls taken in turn (a, b, a, b, …), so that
    the machine's other load weighs on both alike; the median run of each, after `warmup` calls of each."""
    runs: tuple[list[float], list[float]] = ([], [])
    for fn in (a, b):
        for _ in range(warmup):
            fn()
    for _ in range(repeats):
        for fn, out in zip((a, b), runs):
            started = time.perf_counter()
            for _ in range(iterations):
                fn()
            out.append((time.perf_counter() - started) / iterations * 1e6)
    return statistics.median(runs[0]), statistics.median(runs[1])


class Raw:
    """The module instantiated once on a plain engine; `call` runs the export like the ABI says."""

    def __init__(self, path: Path):
        self.engine = wasmtime.Engine()
        self.module = wasmtime.Module.from_file(self.engine, str(path))
        self.linker = wasmtime.Linker(self.engine)
        self.linker.define_wasi()
        self.pre = self.linker.instantiate_pre(self.module)
        self.store = wasmtime.Store(self.engine)
        self.store.set_wasi(wasmtime.WasiConfig())
        exports = self.linker.instantiate(self.store, self.module).exports(self.store)
        self.memory, self.alloc, self.run = exports["memory"], exports["neira_alloc"], exports["neira_run"]
        exports["_initialize"](self.store)

    def call(self, data: Any) -> Any:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        ptr = self.alloc(self.store, len(payload))
        self.memory.write(self.store, payload, ptr)
        packed = self.run(self.store, ptr, len(payload)) & 0xFFFFFFFFFFFFFFFF
        out = self.memory.read(self.store, packed >> 32, (packed >> 32) + (packed & 0xFFFFFFFF))
        return json.loads(bytes(out))

    def fresh_pre(self) -> None:
        store = wasmtime.Store(self.engine)
        store.set_wasi(wasmtime.WasiConfig())
        self.pre.instantiate(store).exports(store)["_initialize"](store)
        store.close()

    def fresh_linker(self) -> None:
        store = wasmtime.Store(self.engine)
        store.set_wasi(wasmtime.WasiConfig())
        self.linker.instantiate(store, self.module).exports(store)["_initialize"](store)
        store.close()


def sandboxed_instance(engine: wasmtime.Engine, pre: wasmtime.InstancePre) -> Callable[[], None]:
    """A Store as the backend makes one (fuel, memory cap, epoch deadline, WASI captures) + instantiate."""

    def fresh() -> None:
        store = wasmtime.Store(engine)
        store.set_fuel(10_000_000)
        store.set_limits(memory_size=64 * 2**20)
        store.set_wasi(wasi_config(b""))
        store.set_epoch_deadline(1000)
        pre.instantiate(store).exports(store)["_initialize"](store)
        store.close()

    return fresh


def template(path: Path, name: str) -> NodeTemplate:
    return NodeTemplate(id=f"analysis.bench_{name}.v1", version="0.1.0", analysis_type=f"bench_{name}",
                        wasm={"module": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--modules", type=Path, help="a build_wasm.sh output dir (default: build into a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="neira-wasm-bench-") as tmp:
        modules = (args.modules or build(Path(tmp))).resolve()
        os.environ.setdefault("NEIRA_WASM_PATH", str(modules))  # module files must lie in a module directory
        backend = WasmBackend()
        print(f"wasmtime-py {importlib.metadata.version('wasmtime')}, "
              f"{args.repeats} runs of {args.iterations} calls (median run), epoch tick {runtime().ticker.tick_ms} ms")
        ratios: dict[str, float] = {}
        for name, data in WORKLOADS:
            path = modules / f"{name}.wasm"
            t = template(path, name)
            raw = Raw(path)
            expected = raw.call(data)
            assert backend.run(t, data, ExecContext(False, lambda i: None, None)) == expected, name

            def through_backend() -> None:
                ctx = ExecContext(False, lambda i: None, None, deadline=time.monotonic() + 1)
                if backend.run(t, data, ctx) != expected:
                    raise AssertionError(name)

            def raw_call() -> None:
                if raw.call(data) != expected:
                    raise AssertionError(name)

            n, r, w = args.iterations, args.repeats, args.warmup
            us_backend, us_raw = measure_pair(through_backend, raw_call, n, r, w)
            ratios[name] = us_backend / us_raw
            print(f"{name:10} backend call (fresh instance) {us_backend:9.1f} µs   raw call (instance reused) "
                  f"{us_raw:8.1f} µs   overhead {us_backend - us_raw:8.1f} µs   ratio {ratios[name]:5.2f}x")
            rt = backend.runtime
            compiled = rt.compiled(backend.reader.read(t.wasm))
            us_pre = measure(raw.fresh_pre, n, r, w)
            us_linker = measure(raw.fresh_linker, n, r, w)
            us_sandboxed = measure(sandboxed_instance(rt.engine, compiled.pre), n, r, w)
            us_pooled = measure(sandboxed_instance(rt.pool_engine, rt.pooled(compiled)), n, r, w)
            print(f"{'':10} fresh instance per call: InstancePre {us_pre:7.1f} µs   Linker.instantiate "
                  f"{us_linker:7.1f} µs   with fuel+limits+epoch+WASI captures {us_sandboxed:7.1f} µs, "
                  f"in a pool slot {us_pooled:7.1f} µs")
        print(f"ratio (backend / raw wasmtime-py call, echo): {ratios['echo']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
