"""Text of Rhai values, built within the run's limits: the display form (``print``,
``to_string``, interpolation, ``join``, string ``+``), the debug form (``debug``,
``to_debug``) and JSON (``to_json``).

Text is built piece by piece (``Text``), never as one unbounded step: values are
walked without recursion, long strings are escaped in chunks, and the running
length is checked before each piece is added, so a text past ``max_string_size``
fails (ErrorDataTooLarge) as soon as it gets there, however many times a shared
string or container occurs in the value.  The work is charged to the run (one
operation per value written, plus the characters at C speed).  ``brief`` is the
same text cut short, for error messages.
"""

from __future__ import annotations

import re
from decimal import Decimal
from json.encoder import encode_basestring

from ..errors import ErrorDataTooLarge
from .values import Char, FnPtr, RhaiRange, Timestamp, type_name

CHUNK = 1 << 16  # characters escaped in one step
BRIEF = 200  # characters of a value quoted in an error message
PIECES_PER_CHARGE = 1024

_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\", "\0": "\\0"}


def _table(quote):
    table = {i: f"\\u{{{i:x}}}" for i in (*range(32), 127)}
    table.update({ord(k): v for k, v in _NAMED.items()})
    table[ord(quote)] = "\\" + quote
    return table


def _needs(quote):
    return re.compile("[\\x00-\\x1f\\x7f\\\\" + quote + "]")


ESCAPES = {'"': (_table('"'), _needs('"')), "'": (_table("'"), _needs("'"))}


class Raw(str):
    """Punctuation between the values of a container (written as it is)."""

    __slots__ = ()


class Cut(Exception):
    """A brief text is full."""


class Text:
    """The pieces of one text and their total length.  Past ``limit`` it raises
    ErrorDataTooLarge, or (``cut``) ends with "…"; work is charged to ``c`` (if any)."""

    __slots__ = ("c", "cut", "limit", "parts", "pieces", "size")

    def __init__(self, c, limit, cut=False):
        self.c, self.limit, self.cut = c, limit, cut
        self.parts: list[str] = []
        self.size = self.pieces = 0

    def put(self, s):
        self.size += len(s)
        if self.size > self.limit:
            self.full(s)
        self.parts.append(s)
        self.pieces += 1
        if self.pieces % PIECES_PER_CHARGE == 0 and self.c is not None:
            self.c.charge(PIECES_PER_CHARGE)

    def full(self, s):
        if not self.cut:
            raise ErrorDataTooLarge("length of string too large")
        self.parts.append(s[:len(s) - (self.size - self.limit)] + "…")
        raise Cut

    def escaped(self, s, quote):
        """``s`` between ``quote``s, escaped as Rhai's debug form does, a chunk at a time."""
        table, needs = ESCAPES[quote]
        self.put(quote)
        for i in range(0, len(s), CHUNK):
            chunk = s[i:i + CHUNK]
            if needs.search(chunk) is not None:
                if self.c is not None:
                    self.c.charge(len(chunk))  # escaping goes a character at a time
                chunk = chunk.translate(table)
            self.put(chunk)
        self.put(quote)

    def json_string(self, s):
        self.put('"')
        for i in range(0, len(s), CHUNK):
            self.put(encode_basestring(s[i:i + CHUNK])[1:-1])
        self.put('"')

    def value(self, items, scalar, v):
        """Write ``v``: containers through ``items`` (their pieces and values, in order),
        anything else through ``scalar``; no recursion, however deep ``v`` is nested."""
        stack = [iter((v,))]
        while stack:
            for x in stack[-1]:
                t = type(x)
                if t is Raw:
                    self.put(x)
                elif t is list or t is dict or (t is FnPtr and x.curry):
                    stack.append(items(x))
                    break
                else:
                    scalar(self, x)
            else:
                stack.pop()

    def text(self):
        s = "".join(self.parts)
        if self.c is not None:
            self.c.charge(self.pieces % PIECES_PER_CHARGE)
            self.c.charge_bulk(self.size)
        return s


# -- the debug form ----------------------------------------------------------------
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


LIST_OPEN, LIST_CLOSE, COMMA, MAP_OPEN, MAP_CLOSE, COLON = map(Raw, ("[", "]", ", ", "#{", "}", ": "))
CLOSE_CALL = Raw(")")


def _joined(items, open_, comma, close):
    """The pieces of a bracketed, separated sequence: `open_`, the items with `comma` between, `close`."""
    yield open_
    for i, x in enumerate(items):
        if i:
            yield comma
        yield x
    yield close


def _entries(m, open_, comma, colon, close):
    """The pieces of a map, its keys in order: `open_`, `key colon value` with `comma` between, `close`."""
    yield open_
    for i, k in enumerate(sorted(m)):
        if i:
            yield comma
        yield k
        yield colon
        yield m[k]
    yield close


def _debug_items(v):
    t = type(v)
    if t is list:
        return _joined(v, LIST_OPEN, COMMA, LIST_CLOSE)
    if t is dict:
        return _entries(v, MAP_OPEN, COMMA, COLON, MAP_CLOSE)
    return _joined(v.curry, Raw(f"Fn({v.name})("), COMMA, CLOSE_CALL)  # a function pointer with curried arguments


def _debug_scalar(out, v):
    t = type(v)
    if t is str:
        out.escaped(v, '"')
    elif t is Char:
        out.escaped(v, "'")
    else:
        out.put(scalar_debug(v))


def scalar_debug(v) -> str:
    """Debug text of a value that holds no other value."""
    t = type(v)
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return format_float(v)
    if v is None:
        return "()"
    if t is FnPtr:
        return f"Fn({v.name})"
    if t is RhaiRange:
        return f"{v.start}..{'=' if v.inclusive else ''}{v.end}"
    if t is bytearray:  # hex digits, a space after every 8 bytes (as Rhai prints a BLOB)
        return "[" + v.hex(" ", -8) + "]" if len(v) > 8 else "[" + v.hex() + "]"
    if t is Timestamp:
        return "<timestamp>"
    return f"<{type_name(v)}>"


def _write_debug(out, v):
    out.value(_debug_items, _debug_scalar, v)


def _write_display(out, v):
    t = type(v)
    if t is str or t is Char:
        out.put(str(v))
    elif v is not None:
        _write_debug(out, v)


def debug(c, v) -> str:
    """``to_debug`` / ``debug`` text of ``v``."""
    t = type(v)
    if t is int or t is bool or t is float:
        return scalar_debug(v)
    out = Text(c, c.max_string)
    _write_debug(out, v)
    return out.text()


def display(c, v) -> str:
    """``to_string`` / ``print`` text of ``v`` (a string is its own text)."""
    t = type(v)
    if t is str:
        return v
    if t is Char:
        return str(v)
    if v is None:
        return ""
    return debug(c, v)


def joined(c, items, sep="") -> str:
    """The display texts of ``items`` with ``sep`` between them, within the string limit."""
    out = Text(c, c.max_string)
    for i, x in enumerate(items):
        if i and sep:
            out.put(sep)
        _write_display(out, x)
    return out.text()


def brief(v) -> str:
    """The display text of ``v``, cut short after ``BRIEF`` characters (for messages)."""
    out = Text(None, BRIEF, cut=True)
    try:
        _write_display(out, v)
    except Cut:
        pass
    return "".join(out.parts)


# -- JSON ------------------------------------------------------------------------------
J_OPEN, J_CLOSE, J_COMMA, J_MAP_OPEN, J_MAP_CLOSE, J_COLON = map(Raw, ("[", "]", ",", "{", "}", ":"))


def _json_items(v):
    t = type(v)
    if t is dict:
        return _entries(v, J_MAP_OPEN, J_COMMA, J_COLON, J_MAP_CLOSE)
    items = v if t is list else (v.name, *v.curry)  # a curried function pointer: [name, args...]
    return _joined(items, J_OPEN, J_COMMA, J_CLOSE)


def _json_scalar(out, v):
    t = type(v)
    if t is str or t is Char:
        out.json_string(v)
    elif t is bool:
        out.put("true" if v else "false")
    elif t is int:
        out.put(str(v))
    elif t is float:
        out.put(float.__repr__(v) if v - v == 0 else "null")
    elif v is None:
        out.put("null")
    elif t is FnPtr:
        out.json_string(v.name)
    elif t is bytearray:  # a BLOB: the array of its byte values
        out.put("[")
        for i in range(0, len(v), CHUNK):
            out.put(("," if i else "") + ",".join(map(str, v[i:i + CHUNK])))
        out.put("]")
    else:  # ranges, timestamps: their display text
        out.json_string(scalar_debug(v))


def to_json(c, v) -> str:
    """Compact JSON of ``v`` (map keys sorted), within the string limit."""
    out = Text(c, c.max_string)
    out.value(_json_items, _json_scalar, v)
    return out.text()
