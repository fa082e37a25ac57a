"""``Scope``: the variables and constants a script's top level sees, kept across runs (Rhai's Scope)."""

from __future__ import annotations

from ..errors import ErrorAssignmentToConstant
from .values import from_python, to_python


class Scope:
    """Variables and constants visible to a script's top level; persists
    top-level ``let``/``const`` declarations across runs (like Rhai's Scope)."""

    def __init__(self, values=None, constants=None):
        self.values: dict = {}
        self.constants: set = set()
        self.exported: dict = {}  # ``export``ed top-level values by alias (a module's variables)
        for k, v in (values or {}).items():
            self.push(k, v)
        for k, v in (constants or {}).items():
            self.push_constant(k, v)

    def push(self, name, value):
        self.values[name] = from_python(value)
        self.constants.discard(name)
        return self

    def push_constant(self, name, value):
        self.values[name] = from_python(value)
        self.constants.add(name)
        return self

    def get_value(self, name):
        return to_python(self.values.get(name))

    def set_value(self, name, value):
        if name in self.constants:
            raise ErrorAssignmentToConstant(f"Cannot modify constant: {name}")
        self.values[name] = from_python(value)

    def contains(self, name):
        return name in self.values

    def clear(self):
        self.values.clear()
        self.constants.clear()

    def __len__(self):
        return len(self.values)

    def export(self, frame_locals, entries, exported=()):
        """Called by compiled code on exit: keep the top-level declarations (and the values
        ``export``ed, by alias)."""
        for alias, py in exported:
            if py in frame_locals:
                self.exported[alias] = frame_locals[py]
        for name, py, const in entries:
            if py in frame_locals:
                self.values[name] = frame_locals[py]
                if const:
                    self.constants.add(name)
                else:
                    self.constants.discard(name)
