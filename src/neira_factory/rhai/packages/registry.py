"""The native functions one engine calls: its registered packages' overloads, looked up by name,
arity and argument types (Rhai's global modules).

A ``Registry`` is built once, when its engine registers a package: the overloads of each name
and arity (the packages registered last first), and the sets of names that property reads
and the compiler consult (getters, string mutators, functions that may run script code).  ``resolve`` picks the overload for the
arguments' types and remembers it.  ``STANDARD`` is the registry of the standard package, the
one every ``Engine`` starts with; ``FUNCS`` is its table.
"""

from __future__ import annotations

from types import MappingProxyType

from .standard import StandardPackage


class Registry:
    """The overloads of some packages, by (name, arity), in the packages' order."""

    __slots__ = ("packages", "functions", "names", "getters", "callbacks", "str_mutators", "_resolved")

    def __init__(self, packages):
        self.packages = tuple(packages)
        table: dict = {}
        for package in self.packages:
            for name, ov in package.functions:
                table.setdefault((name, len(ov.types)), []).append(ov)
        self.functions = MappingProxyType({key: tuple(ovs) for key, ovs in table.items()})
        overloads = [(name, ov) for (name, _), ovs in table.items() for ov in ovs]
        self.names = frozenset(name for name, _ in table)
        self.getters = frozenset(name for name, ov in overloads if ov.getter)
        self.callbacks = frozenset(name for name, ov in overloads if ov.calls)
        self.str_mutators = frozenset(name for name, ov in overloads if ov.strmut)
        self._resolved: dict = {}

    def resolve(self, name, args):
        """The overload for ``name`` and these argument types, or None."""
        key = (name, *map(type, args))
        ov = self._resolved.get(key)
        if ov is None:
            for cand in self.functions.get((name, len(args)), ()):
                if cand.matches(args):
                    ov = cand
                    break
            else:
                return None
            self._resolved[key] = ov
        return ov


STANDARD = Registry((StandardPackage(),))
FUNCS = STANDARD.functions  # the standard overloads by (name, arity), read-only
