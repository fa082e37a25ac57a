"""Shared helpers for the library tests."""

from __future__ import annotations

import pytest

from neira_factory.library import ImplContext, get


@pytest.fixture
def call():
    """``call(name, input, params=None, ctx=dry-run)`` → output of that implementation."""

    def run(name: str, input, params=None, ctx: ImplContext | None = None) -> dict:
        return get(name).func(input, params, ctx or ImplContext(side_effects=False))

    return run
