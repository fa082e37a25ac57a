"""Rhai's standard package: every built-in package combined (what ``Engine()`` registers)."""

from __future__ import annotations

from .arrays import ARRAYS
from .core import CORE
from .json import JSON
from .maps import MAPS
from .maths import MATHS
from .package import Package
from .strings import STRINGS


class StandardPackage(Package):
    """The core, array, string, map, math and JSON packages (Rhai's ``StandardPackage``)."""

    def __init__(self):
        super().__init__("standard", CORE, ARRAYS, STRINGS, MAPS, MATHS, JSON)
