"""Fixtures of the selector tests."""
from __future__ import annotations

import pytest

from neira_factory.selector import NodeEntry, SelectorIndex


@pytest.fixture
def index_of():
    """`index_of(*entries)` → a SelectorIndex holding them."""

    def build(*entries: NodeEntry) -> SelectorIndex:
        index = SelectorIndex()
        for entry in entries:
            index.upsert(entry)
        return index

    return build
