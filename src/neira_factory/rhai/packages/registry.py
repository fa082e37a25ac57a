"""Registry of built-in (native) functions, keyed by name and arity.

Each overload declares its parameter types (a Python type, a tuple of types, or
``ANY``).  ``ctx`` functions receive the run ``Context`` and call depth first;
``strmut`` functions mutate a string ``this`` and return ``(new_string, result)``.
``shares`` functions may return an array or map that holds (or is) a container
also held by an argument (``first``, ``filter``, ``values``, ...): the caller
gets a deep copy, as Rhai's value semantics ask (see ``calls.call_native``).
"""

from __future__ import annotations

ANY = None


class Overload:
    __slots__ = ("types", "fn", "ctx", "strmut", "shares")

    def __init__(self, types, fn, ctx, strmut, shares=False):
        self.types, self.fn, self.ctx, self.strmut, self.shares = types, fn, ctx, strmut, shares

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


FUNCS: dict[tuple[str, int], list[Overload]] = {}
GETTERS: set[str] = set()
CALLBACK_NAMES: set[str] = set()


def native(name, *types, ctx=False, strmut=False, getter=False, aliases=(), shares=False):
    """Decorator registering ``fn`` as the native function ``name(types...)``."""

    def deco(fn):
        for n in (name, *aliases):
            FUNCS.setdefault((n, len(types)), []).append(Overload(types, fn, ctx, strmut, shares))
            if getter:
                GETTERS.add(n)
            if ctx:
                CALLBACK_NAMES.add(n)
        return fn

    return deco
