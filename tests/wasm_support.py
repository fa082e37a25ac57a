"""The WASM test modules: the C examples in examples/wasm/ built once per test session by
scripts/build_wasm.sh (unit, integration and e2e tests share the build)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support import ROOT


def build_modules(tmp_path_factory) -> Path:
    out = tmp_path_factory.getbasetemp() / "wasm-modules"
    if not (out / "SHA256SUMS").exists():
        proc = subprocess.run([str(ROOT / "scripts" / "build_wasm.sh"), str(out)], capture_output=True, text=True,
                              timeout=300)
        if proc.returncode != 0:
            pytest.fail(f"scripts/build_wasm.sh failed (./scripts/setup.sh installs clang, lld, wasi-libc, "
                        f"libclang-rt-dev-wasm32):\n{proc.stderr}", pytrace=False)
    return out
