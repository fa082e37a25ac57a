"""Rhai value model on top of Python objects (their text forms are in ``text``).

Mapping: ``()``→None, bool→bool, i64→int, f64→float, string→str, char→``Char``
(a one-character ``str`` subclass), array→list, map→dict, blob→bytearray,
ranges→``RhaiRange``, function pointers→``FnPtr``, timestamps→``Timestamp``.
Arrays, maps and BLOBs have value semantics in Rhai, so storing one copies it (``copy``).
"""

from __future__ import annotations

from ..errors import ErrorMismatchDataType

INT_MIN = -(1 << 63)
INT_MAX = (1 << 63) - 1


class Char(str):
    """A Rhai ``char``: a one-character string with its own type."""

    __slots__ = ()


class RhaiRange:
    """An integer range ``start..end`` or, when ``inclusive``, ``start..=end``."""

    __slots__ = ("start", "end", "inclusive")

    def __init__(self, start: int, end: int, inclusive: bool):
        self.start, self.end, self.inclusive = start, end, inclusive

    def as_range(self) -> range:
        return range(self.start, self.end + 1 if self.inclusive else self.end)

    def __eq__(self, other):
        return (
            type(other) is RhaiRange
            and (self.start, self.end, self.inclusive) == (other.start, other.end, other.inclusive)
        )

    def __hash__(self):
        return hash((self.start, self.end, self.inclusive))


class FnPtr:
    """A Rhai function pointer: a function name, curried arguments and, for
    closures, the compiled Python function implementing it."""

    __slots__ = ("name", "curry", "fn")

    def __init__(self, name: str, curry: list | None = None, fn=None):
        self.name, self.curry, self.fn = name, curry or [], fn

    def with_curry(self, extra: list) -> "FnPtr":
        return FnPtr(self.name, self.curry + extra, self.fn)

    def __eq__(self, other):
        return type(other) is FnPtr and self.name == other.name and self.curry == other.curry

    def __hash__(self):
        return hash(self.name)


class Timestamp:
    """A monotonic instant, the only clock a script can read."""

    __slots__ = ("t",)

    def __init__(self, t: float):
        self.t = t


TYPE_NAMES = {
    int: "i64",
    float: "f64",
    bool: "bool",
    str: "string",
    Char: "char",
    list: "array",
    dict: "map",
    type(None): "()",
    FnPtr: "Fn",
    bytearray: "blob",
    Timestamp: "timestamp",
}


def type_name(v) -> str:
    t = type(v)
    if t is RhaiRange:
        return "range=" if v.inclusive else "range"
    return TYPE_NAMES.get(t, t.__name__)


CONTAINERS = (list, dict, bytearray)  # mutable values: copied when stored (Rhai's value semantics)


NESTED = frozenset(CONTAINERS)


def copy(c, v):
    """Deep copy of arrays, maps and BLOBs (Rhai value semantics); other values are immutable.
    A flat array or map (the common case) is copied at C speed.  The work is charged to
    the run ``c`` (see ``Context.spans``)."""
    t = type(v)
    if t is list:
        if NESTED.isdisjoint(map(type, v)):
            c.charge_bulk(len(v))
            return v[:]
        out = []
        for lo, hi in c.spans(len(v)):
            out += [copy(c, x) if type(x) in CONTAINERS else x for x in v[lo:hi]]
        return out
    if t is dict:
        if NESTED.isdisjoint(map(type, v.values())):
            c.charge_bulk(len(v))
            return v.copy()
        items = list(v.items())
        out = {}
        for lo, hi in c.spans(len(items)):
            out.update({k: copy(c, x) if type(x) in CONTAINERS else x for k, x in items[lo:hi]})
        return out
    if t is bytearray:
        c.charge_bulk(len(v))
        return bytearray(v)
    return v


def to_python(v):
    """Convert a Rhai value to plain Python for the host (without recursion: a script
    can nest arrays and maps deeper than Python's recursion limit)."""
    t = type(v)
    if t is not list and t is not dict:
        return _plain(v)
    out = [] if t is list else {}
    stack = [(v, out)]
    while stack:
        src, dst = stack.pop()
        for k, x in enumerate(src) if type(src) is list else src.items():
            tx = type(x)
            if tx is list or tx is dict:
                y = [] if tx is list else {}
                stack.append((x, y))
            else:
                y = _plain(x)
            if type(dst) is list:
                dst.append(y)
            else:
                dst[k] = y
    return out


def _plain(v):
    t = type(v)
    if t is Char:
        return str(v)
    if t is bytearray:
        return bytes(v)
    return v


def from_python(v):
    """Convert a host value into a Rhai value; reject what Rhai cannot hold."""
    t = type(v)
    if v is None or t in (bool, float, str, Char, FnPtr, RhaiRange, Timestamp):
        return v
    if t is int:
        if not INT_MIN <= v <= INT_MAX:
            raise ErrorMismatchDataType(f"integer out of i64 range: {v}")
        return v
    if t in (list, tuple):
        return [from_python(x) for x in v]
    if t is dict:
        return {str(k): from_python(x) for k, x in v.items()}
    if t in (bytes, bytearray):
        return bytearray(v)
    if isinstance(v, int):
        return from_python(int(v))
    raise ErrorMismatchDataType(f"cannot pass a {t.__name__} into a script")
