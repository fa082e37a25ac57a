"""The end-to-end suite's server fixtures for the suites that reuse them (browser, scale, sandbox).

Importing this puts tests/e2e on sys.path, as pytest does for the e2e tests (so `e2e_support` and
`scale_support` import as they do there), and `start_server` is tests/e2e/conftest.py's fixture, loaded
once by path under a name of its own (pytest may load the same file as tests/e2e's conftest too).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

E2E = Path(__file__).resolve().parent / "e2e"
if str(E2E) not in sys.path:
    sys.path.insert(0, str(E2E))


def _e2e_conftest():
    name = "neira_tests_e2e_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, E2E / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


start_server = _e2e_conftest().start_server
