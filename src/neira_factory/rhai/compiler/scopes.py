"""Compile-time variable scopes: bindings, their Python names and inferred types.

Static types are inferred flow-insensitively by compiling a function several
times until every binding's type (the join of all values assigned to it) is
stable; ``None`` is the optimistic bottom, ``"any"`` the top.
"""

from __future__ import annotations

SCALARS = frozenset({"int", "float", "bool", "str", "char", "unit", "fnptr", "range"})


def join(a, b):
    if a is None:
        return b
    if b is None or a == b:
        return a
    return "any"


class Binding:
    """One declared variable (``let``, ``const``, parameter, loop or catch variable)."""

    __slots__ = ("name", "py", "const", "key", "owner")

    def __init__(self, name, py, const, key, owner):
        self.name, self.py, self.const, self.key, self.owner = name, py, const, key, owner


class TypeTable:
    """Types of bindings across compile passes, keyed by declaration order."""

    def __init__(self):
        self.previous: dict = {}
        self.current: dict = {}

    def get(self, key):
        return self.previous.get(key)

    def assign(self, key, ty):
        self.current[key] = join(self.current.get(key), ty)

    def force(self, key):
        self.current[key] = "any"

    def assign_sig(self, key, sig):
        """Join the argument types ``sig`` of one call into the signature kept at ``key``."""
        old = self.current.get(key)
        self.current[key] = sig if old is None else tuple(map(join, old, sig))

    def next_pass(self) -> bool:
        """Start another pass; False once types are stable."""
        stable = self.current == self.previous
        self.previous, self.current = self.current, {}
        return not stable
