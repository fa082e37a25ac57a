"""Rhai's standard package: every built-in package combined (what ``Engine()`` registers)."""

from __future__ import annotations

from .arrays import ARRAYS
from .blobs import BLOBS
from .core import CORE
from .json import JSON
from .maps import MAPS
from .maths import MATHS
from .package import Package
from .strings import STRINGS


class StandardPackage(Package):
    """The core, array, BLOB, string, map, math and JSON packages (Rhai's ``StandardPackage``)."""

    def __init__(self):
        super().__init__("standard", CORE, ARRAYS, BLOBS, STRINGS, MAPS, MATHS, JSON)
