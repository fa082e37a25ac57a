"""``Module``: the state shared by all functions of one compiled script (its constants, bindings,
temporaries and inferred types, the native functions it may call, the meter of an ``eval`` text)."""

from __future__ import annotations

from ..lexer import METER_EVERY
from .borrow import borrowed
from .emitter import Constants
from .scopes import Binding, TypeTable


class Module:
    """State shared by all functions of one compiled script."""

    def __init__(self, script, limits, natives, types: TypeTable, all_any=False, meter=None):
        self.script = script
        self.limits = limits
        self.natives = natives
        self.types = types
        self.all_any = all_any
        self.meter = meter
        self.visits = 0
        self.consts = Constants()
        self.bindings = 0
        self.temps = 0
        self.closures = 0
        self.fn_names = {name for name, _ in script.functions}
        self._borrowed: dict = {}
        self.exported: list = []  # (alias, Python name) of the ``export``ed top-level variables

    def borrowed(self, key) -> frozenset:
        """Positions of the parameters the script function ``key`` only reads (see ``borrow``)."""
        found = self._borrowed.get(key)
        if found is None:
            found = self._borrowed[key] = borrowed(self.script.functions[key], self.script.functions)
        return found

    def visit(self):
        """One more syntax node compiled (charged to the meter every ``METER_EVERY``)."""
        self.visits += 1
        if self.visits % METER_EVERY == 0 and self.meter is not None:
            self.meter(METER_EVERY)

    def new_binding(self, name, const, owner):
        self.bindings += 1
        return Binding(name, f"v{self.bindings}_{name}", const, self.bindings, owner)

    def type_of(self, b: Binding):
        return "any" if self.all_any else self.types.get(b.key)
