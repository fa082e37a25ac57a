"""Rhai value model on top of Python objects, plus display/debug formatting.

Mapping: ``()``→None, bool→bool, i64→int, f64→float, string→str, char→``Char``
(a one-character ``str`` subclass), array→list, map→dict, blob→bytearray,
ranges→``RhaiRange``, function pointers→``FnPtr``, timestamps→``Timestamp``.
Arrays and maps have value semantics in Rhai, so storing one copies it (``copy``).
"""

from __future__ import annotations

from decimal import Decimal

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


CONTAINERS = (list, dict)


NESTED = frozenset(CONTAINERS)


def copy(v):
    """Deep copy of arrays and maps (Rhai value semantics); other values are immutable.
    A flat array or map (the common case) is copied at C speed."""
    t = type(v)
    if t is list:
        if NESTED.isdisjoint(map(type, v)):
            return v[:]
        return [copy(x) if type(x) in CONTAINERS else x for x in v]
    if t is dict:
        if NESTED.isdisjoint(map(type, v.values())):
            return v.copy()
        return {k: copy(x) if type(x) in CONTAINERS else x for k, x in v.items()}
    if t is bytearray:
        return bytearray(v)
    return v


def format_float(f: float) -> str:
    """Format a float like Rhai: natural notation within 1e-13..1e13, else scientific."""
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "inf" if f > 0 else "-inf"
    a = abs(f)
    if a == 0:
        return "-0.0" if str(f).startswith("-") else "0.0"
    d = Decimal(repr(f))
    if a > 1e13 or a < 1e-13:
        sign, digits, exp = d.as_tuple()
        mant = "".join(map(str, digits)).rstrip("0") or "0"
        e = exp + len(digits) - 1
        body = mant[0] + ("." + mant[1:] if len(mant) > 1 else "")
        return ("-" if sign else "") + f"{body}e{e}"
    s = format(d, "f")
    return s if "." in s else s + ".0"


_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\", "\0": "\\0"}


def _escape(s: str, quote: str) -> str:
    out = []
    for ch in s:
        if ch == quote:
            out.append("\\" + ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return "".join(out)


def to_display(v) -> str:
    """``to_string`` / ``print`` formatting."""
    t = type(v)
    if t is str or t is Char:
        return str(v)
    if v is None:
        return ""
    return to_debug(v)


def to_debug(v) -> str:
    """``to_debug`` / ``debug`` formatting."""
    t = type(v)
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return format_float(v)
    if t is str:
        return '"' + _escape(v, '"') + '"'
    if t is Char:
        return "'" + _escape(v, "'") + "'"
    if v is None:
        return "()"
    if t is list:
        return "[" + ", ".join(to_debug(x) for x in v) + "]"
    if t is dict:
        return "#{" + ", ".join(f"{to_debug(k)}: {to_debug(v[k])}" for k in sorted(v)) + "}"
    if t is FnPtr:
        return f"Fn({v.name})" if not v.curry else f"Fn({v.name})({', '.join(map(to_debug, v.curry))})"
    if t is RhaiRange:
        return f"{v.start}..{'=' if v.inclusive else ''}{v.end}"
    if t is bytearray:
        return "[" + "".join(f"{b:02x}" for b in v) + "]"
    if t is Timestamp:
        return "<timestamp>"
    return f"<{type_name(v)}>"


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
