"""Packages of built-in (native) functions, as Rhai's packages: ``Package`` and its ``Overload``s.

A package module makes its ``Package`` and adds each function with the package's ``native``
decorator, which declares the parameter types (a Python type, a tuple of types, or ``ANY``).
``ctx`` functions receive the run ``Context`` and call depth first; ``strmut`` functions mutate
a string ``this`` and return ``(new_string, result)``.  ``getter`` functions can also be read as
a property (``x.len``).  ``shares`` functions may return an array or map that holds (or is) a
container also held by an argument (``first``, ``filter``, ``values``, ...): the caller gets a
deep copy, as Rhai's value semantics ask (see ``calls.call_native``).  ``calls`` functions may
run script code (callbacks, ``call``, ``eval``).

Every built-in does work in proportion to what it is charged: one call counts
one operation, and one whose work grows with its data says how it is charged.
``cost=ARGS`` charges C-speed work over its arguments and result, ``cost=RESULT``
over its result only (see ``work``); a ``ctx`` function charges itself (and, when
its result can outgrow its arguments many times over, sizes that result before
building it); the rest take a bounded time whatever they are given.

An engine calls the functions of the packages registered with it (see ``registry``).
"""

from __future__ import annotations

from ..runtime.context import BULK

ANY = None
ARGS = "args"
RESULT = "result"


def work(values) -> int:
    """Operations of C-speed work over these values: their characters and elements."""
    n = 0
    for v in values:
        t = type(v)
        if t is str or t is list or t is dict or t is bytearray:
            n += len(v)
    return n // BULK


class Overload:
    """One native function for one list of parameter types."""

    __slots__ = ("types", "fn", "ctx", "strmut", "shares", "cost", "getter", "calls")

    def __init__(self, types, fn, ctx, strmut, shares, cost, getter, calls):
        self.types, self.fn, self.ctx, self.strmut, self.shares = types, fn, ctx, strmut, shares
        self.cost, self.getter, self.calls = cost, getter, calls

    def matches(self, args) -> bool:
        for spec, a in zip(self.types, args):
            if spec is ANY:
                continue
            t = type(a)
            if isinstance(spec, tuple):
                if t not in spec:
                    return False
            elif t is not spec:
                return False
        return True

    def charge(self, c, args, r):
        """Charge the C-speed work of a call that returned ``r`` (``cost``)."""
        if self.cost is ARGS:
            c.charge(work((r, *args)))
        elif self.cost is RESULT:
            c.charge(work(r if self.strmut else (r,)))


class Package:
    """A named set of native functions: ``(name, Overload)`` pairs in the order they were
    added, from its module's ``native`` decorators or from the packages it combines."""

    def __init__(self, name: str, *packages: Package):
        self.name = name
        self.functions: list[tuple[str, Overload]] = [f for p in packages for f in p.functions]

    def native(self, name, *types, ctx=False, strmut=False, getter=False, aliases=(), shares=False,
               cost=None, calls=False):
        """Decorator adding ``fn`` to this package as the native function ``name(types...)``
        (and as each of its ``aliases``)."""

        def deco(fn):
            for n in (name, *aliases):
                self.functions.append((n, Overload(types, fn, ctx, strmut, shares, cost, getter, calls)))
            return fn

        return deco
