"""A run's own copy of a kept module (a resolver builds a module once and serves it to every run).

A module's exported values and global constants are copied for the importing run, and every closure
inside them is re-made on fresh copies of the variables it captured (closures captured in a closure,
curried or nested in arrays and maps included; closures that shared a variable still share its copy;
the variables ``eval`` declared, which a closure reads by name, and the modules it reaches by alias too).
Without this, a closure such as ``let n = 0; let inc = || { n += 1; n }; export inc;`` or a method call
on a constant (``global::K.push(x)`` in a module function) would carry state, and data, from one run
(one node) to the next.  The copies are charged to the run (``copy``)."""

from __future__ import annotations

import copy as shallow
from types import CellType, FunctionType

from .scope import Scope
from .values import FnPtr, copy


class Detacher:
    """Copies values for one run, re-making each closure (and each captured variable) once; a module
    a closure captured (an ``import`` alias) becomes ``local(module)``, the run's own copy of it."""

    def __init__(self, c, module_type, local):
        self.c, self.memo, self.todo = c, {}, []
        self.module_type, self.local = module_type, local

    def value(self, v):
        """A detached copy of ``v``."""
        box = [copy(self.c, v) if type(v) in (list, dict, bytearray) else v]
        self.todo.append(box)
        while self.todo:
            x = self.todo.pop()
            if type(x) is tuple:
                self._fill(*x)
                continue
            vals = x.values() if type(x) is dict else x
            kinds = set(map(type, vals))
            if FnPtr not in kinds and list not in kinds and dict not in kinds:
                continue
            for k, y in list(x.items() if type(x) is dict else enumerate(x)):
                if type(y) is FnPtr:
                    x[k] = self._ptr(y)
                elif type(y) is list or type(y) is dict:
                    self.todo.append(y)
        return box[0]

    def _ptr(self, p):
        curry = list(p.curry)
        self.todo.append(curry)
        return FnPtr(p.name, curry, self._fn(p.fn))

    def _fn(self, fn):
        if type(fn) is not FunctionType or not fn.__closure__:
            return fn
        new = self.memo.get(id(fn))
        if new is None:
            cells = tuple(self.memo.setdefault(id(cell), CellType()) for cell in fn.__closure__)
            new = self.memo[id(fn)] = FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, cells)
            self.c.charge(len(cells))
            self.todo.append((fn.__closure__, cells))
        return new

    def _scope(self, sc):
        new = shallow.copy(sc)
        new.values = self._copies(sc.values)
        new.exported = self._copies(sc.exported)
        new.constants = set(sc.constants)
        if hasattr(sc, "declared"):  # a scope lent to ``eval`` (``Lent``)
            new.declared = set(sc.declared)
        return new

    def _copies(self, values):
        """A copy of the dict ``values``, its arrays, maps and BLOBs copied, its closures re-made."""
        out = {k: copy(self.c, v) if type(v) in (list, dict, bytearray) else v for k, v in values.items()}
        self.todo.append(out)
        return out

    def _fill(self, olds, news):
        """Fill the new cells (each once) with detached copies of what the old ones hold."""
        for old, cell in zip(olds, news):
            try:
                cell.cell_contents
                continue  # filled already (another closure captured the same variable)
            except ValueError:
                pass
            try:
                x = old.cell_contents
            except ValueError:  # declared but not yet set
                continue
            t = type(x)
            if t is list or t is dict or t is bytearray:
                x = copy(self.c, x)
                if t is not bytearray:
                    self.todo.append(x)
            elif t is FnPtr:
                x = self._ptr(x)
            elif t is self.module_type:
                x = self.local(x)
            elif isinstance(x, Scope):  # the variables ``eval`` declared, which the closure reads by name
                x = self._scope(x)
            else:
                x = self._fn(x)
            cell.cell_contents = x

