"""``Module``: the state shared by all functions of one compiled script (its constants, bindings,
temporaries and inferred types, the native functions it may call, the meter of an ``eval`` text)."""

from __future__ import annotations

from .. import ast as A
from ..lexer import METER_EVERY
from .borrow import borrowed
from .emitter import Constants
from .scopes import Binding, TypeTable

SPECIAL = frozenset({"int", "float", "bool", "str"})  # argument types a variant is compiled for


def plain(fn) -> bool:
    """Whether the script function ``fn`` may get a variant for typed arguments (see
    ``Module.callee``): no ``this``, closure, ``eval`` or ``name!()`` call in it."""
    return not A.finds(fn.body, lambda n: type(n) in (A.This, A.Closure, A.ScopedCall) or (
        type(n) is A.Call and n.name == "eval"))


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
        self.variants = False  # whether calls have typed results and typed calls variants (``callee``)
        self.plain = {key for key, fn in script.functions.items() if plain(fn)}

    def borrowed(self, key) -> frozenset:
        """Positions of the parameters the script function ``key`` only reads (see ``borrow``)."""
        found = self._borrowed.get(key)
        if found is None:
            found = self._borrowed[key] = borrowed(self.script.functions[key], self.script.functions)
        return found

    def ret_type(self, pyname):
        """The type of what the Python function ``pyname`` returns (the join of its results,
        see ``FnCompiler.emit_return``)."""
        return self.types.get(("ret", pyname)) if self.variants else "any"

    def variant_sig(self, key):
        """The parameter types of the variant ``I_name_arity`` of the script function ``key``
        (the join of the typed calls of the previous pass), or None when it has none."""
        sig = self.types.get(("sig", *key)) if self.variants and key in self.plain else None
        return sig if sig is not None and not SPECIAL.isdisjoint(sig) else None

    def callee(self, key, args) -> str:
        """The Python function a direct call of ``key`` with the compiled ``args`` calls: the
        variant compiled for the arguments' types when each is of the type its parameter has
        there (or unknown yet: a value of no type is never made), else ``F_name_arity``."""
        sig = tuple(v.ty for v in args)
        if not (self.variants and args and key in self.plain and all(t is None or t in SPECIAL for t in sig)):
            return f"F_{key[0]}_{key[1]}"
        self.types.assign_sig(("sig", *key), sig)
        known = self.variant_sig(key)
        if known is None or not all(t is None or k in ("any", t) for t, k in zip(sig, known)):
            return f"F_{key[0]}_{key[1]}"
        return f"I_{key[0]}_{key[1]}"

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
