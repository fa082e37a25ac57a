"""Rhai standard packages; importing this registers every native function."""

from . import arrays, core, json, maps, maths, strings

__all__ = ["arrays", "core", "json", "maps", "maths", "strings"]
