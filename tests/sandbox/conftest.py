"""The sandbox suite runs on a real `neira-factory serve`: tests/e2e's `start_server` fixture (through
tests/e2e_fixtures.py), re-exported for function-scoped use; `module_server` runs the very same fixture
code once per module (through `__wrapped__`), so that one server meets the whole table of hostile nodes
in a row.
"""
from __future__ import annotations

import inspect

import pytest

from e2e_fixtures import start_server  # tests/ is on sys.path (tests/conftest.py)


@pytest.fixture(scope="module")
def module_server(tmp_path_factory):
    """`start_server` (tests/e2e/conftest.py) with module scope: yields its `start(...)`; the servers it
    started stop at the end of the module."""
    starts = inspect.unwrap(start_server)(tmp_path_factory)
    yield next(starts)
    next(starts, None)
