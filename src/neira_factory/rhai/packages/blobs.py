"""BLOB package (Rhai's ``BasicBlobPackage``): a BLOB is a packed array of bytes (``bytearray``).

Creation (``blob``), conversion (``to_array``, ``as_string``, a string's ``to_blob``), editing
(``push``, ``insert``, ``extract``, ``drain``, ``splice``, ...) and reading or writing numbers
and strings at a position (``parse_le_int``, ``write_be``, ``write_utf8``, ...).  A byte value
keeps its low 8 bits.  Positions follow Rhai's rules: a negative start counts from the end
(clamped to the start), a start past the end selects nothing, a length is clamped to what is
left; a range ``a..b`` is the start ``max(a, 0)`` and the length ``b - a``.

A BLOB counts towards ``max_array_size`` by its bytes; every growth is reported to the run
(``Context.stored``) and checked, and ``blob(n)``/``pad`` size what they would build before
building it.  Copying and moving bytes is charged by their number (``cost``)."""

from __future__ import annotations

import struct

from ..errors import ErrorDataTooLarge
from ..runtime.values import INT_MAX
from . import arrays
from .package import ARGS, RESULT, Package
from .types import BLB, FLT, INT, RNG, STR, TXT

BLOBS = Package("blobs")

MAX_UNLIMITED = 1 << 24  # bytes one call may create when max_array_size is unlimited
INT_BYTES = 8


def _grow(c, blob, n):
    """Report ``n`` bytes added at the end of ``blob`` and check the size limits."""
    if c.sizes is not None:
        c.stored(blob, blob[len(blob) - n:] if n else b"")
    return blob


def _fits(c, n):
    """Refuse building a BLOB of ``n`` bytes that the limits (or, unlimited, the cap) refuse."""
    lim = c.limits.max_array_size
    if n > (lim or MAX_UNLIMITED):
        raise ErrorDataTooLarge("size of BLOB too large")


def offset_len(n: int, start: int, length: int):
    """Rhai's ``calc_offset_len``: (start, length) clamped to a BLOB of ``n`` bytes."""
    if start < 0:
        start = n - min(-start, n)
    elif start >= n:
        return n, 0
    if length <= 0:
        return start, 0
    return start, min(length, n - start)


def range_span(r):
    """(start, length) of a range argument, as Rhai's range overloads compute them."""
    start = max(r.start, 0)
    if r.inclusive:
        end = min(max(r.end, start), INT_MAX - 1)
        return start, end - start + 1
    return start, max(r.end, start) - start


def both(name, *rest, **kw):
    """Add ``fn`` as ``name(blob, start, len, *rest)`` and as ``name(blob, range, *rest)``."""

    def deco(fn):
        BLOBS.native(name, BLB, INT, INT, *rest, **kw)(fn)
        if kw.get("ctx"):
            def by_range(c, d, blob, r, *more):
                return fn(c, d, blob, *range_span(r), *more)
        else:
            def by_range(blob, r, *more):
                return fn(blob, *range_span(r), *more)
        BLOBS.native(name, BLB, RNG, *rest, **kw)(by_range)
        return fn

    return deco


# -- creation and conversion -------------------------------------------------------
@BLOBS.native("blob")
def blob():
    return bytearray()


@BLOBS.native("blob", INT, ctx=True)
def blob_of(c, d, n, value=0):
    """``n`` bytes (none if ``n`` <= 0) of the low 8 bits of ``value``; sized before built."""
    n = max(n, 0)
    _fits(c, n)
    c.charge_bulk(n)
    return bytearray((value & 0xFF,)) * n


BLOBS.native("blob", INT, INT, ctx=True)(blob_of)


@BLOBS.native("to_array", BLB, ctx=True)
def to_array(c, d, b):
    c.fits(items=len(b))
    c.charge_bulk(len(b))
    return list(b)


@BLOBS.native("as_string", BLB, cost=ARGS)
def as_string(b):
    """The bytes as UTF-8 text, each invalid sequence replaced by U+FFFD."""
    return b.decode("utf-8", errors="replace")


@BLOBS.native("to_blob", STR, cost=ARGS)
def to_blob(s):
    """A string's UTF-8 bytes (checked against the limits as any value a call returns)."""
    return bytearray(s.encode("utf-8"))


# -- queries -------------------------------------------------------------------------
BLOBS.native("len", BLB, getter=True)(len)
BLOBS.native("is_empty", BLB, getter=True)(arrays.is_empty)


@BLOBS.native("contains", BLB, INT, cost=ARGS)
def contains(b, v):
    return (v & 0xFF) in b


@BLOBS.native("get", BLB, INT)
def get(b, i):
    """The byte at ``i`` (negative: from the end, clamped to the first); 0 past the end."""
    i, _ = offset_len(len(b), i, 0)
    return b[i] if i < len(b) else 0


@BLOBS.native("set", BLB, INT, INT)
def set_(b, i, v):
    i, _ = offset_len(len(b), i, 0)
    if i < len(b):
        b[i] = v & 0xFF


# -- growing -------------------------------------------------------------------------
@BLOBS.native("push", BLB, INT, ctx=True, aliases=("append",))
def push(c, d, b, v):
    b.append(v & 0xFF)
    _grow(c, b, 1)


@BLOBS.native("append", BLB, BLB, ctx=True)
def append(c, d, b, other):
    n = len(other)  # ``other`` may be ``b`` itself
    c.charge_bulk(n)
    b += other
    _grow(c, b, n)


@BLOBS.native("append", BLB, TXT, ctx=True)
def append_text(c, d, b, s):
    data = s.encode("utf-8")
    c.charge_bulk(len(data))
    b += data
    _grow(c, b, len(data))


@BLOBS.native("insert", BLB, INT, INT, ctx=True)
def insert(c, d, b, i, v):
    i, _ = offset_len(len(b), i, 0)
    c.charge_bulk(len(b) - i)
    b.insert(i, v & 0xFF)
    _grow(c, b, 1)


@BLOBS.native("pad", BLB, INT, INT, ctx=True)
def pad(c, d, b, n, v):
    """Grow to ``n`` bytes with copies of ``v``; refused past ``max_array_size`` before growing."""
    if n <= len(b):
        return
    _fits(c, n)
    k = n - len(b)
    c.charge_bulk(k)
    b += bytes((v & 0xFF,)) * k
    _grow(c, b, k)


# -- shrinking -----------------------------------------------------------------------
@BLOBS.native("pop", BLB)
def pop(b):
    return b.pop() if b else 0


@BLOBS.native("shift", BLB, cost=ARGS)
def shift(b):
    return b.pop(0) if b else 0


@BLOBS.native("remove", BLB, INT, cost=ARGS)
def remove(b, i):
    """Remove and return the byte at ``i`` (negative: from the end); 0 when out of bounds."""
    j = i + len(b) if i < 0 else i
    return b.pop(j) if 0 <= j < len(b) else 0


BLOBS.native("clear", BLB)(arrays.clear)
BLOBS.native("truncate", BLB, INT)(arrays.truncate)
BLOBS.native("chop", BLB, INT)(arrays.chop)
BLOBS.native("reverse", BLB, cost=ARGS)(arrays.reverse)
BLOBS.native("split", BLB, INT, cost=RESULT)(arrays.split)  # cut at a position, return the tail


# -- portions (start, len) and ranges ------------------------------------------------------
@both("extract", cost=RESULT)
def extract(b, start, n):
    start, n = offset_len(len(b), start, n)
    return b[start:start + n]


@BLOBS.native("extract", BLB, INT, cost=RESULT)
def extract_tail(b, start):
    return extract(b, start, INT_MAX)


@both("drain", cost=RESULT)
def drain(b, start, n):
    start, n = offset_len(len(b), start, n)
    out = b[start:start + n]
    del b[start:start + n]
    return out


@both("retain", cost=ARGS)
def retain(b, start, n):
    """Keep only the portion; return the bytes removed."""
    if not b or n <= 0:
        return bytearray()
    start, n = offset_len(len(b), start, n)
    if n == 0:
        out = b[:]
        b.clear()
        return out
    out = b[:start] + b[start + n:]
    b[:] = b[start:start + n]
    return out


@both("splice", BLB, ctx=True)
def splice(c, d, b, start, n, other):
    """Replace the portion with ``other`` (appended when the portion is empty, as in Rhai)."""
    c.charge_bulk(len(b) + len(other))
    before = len(b)
    start, n = offset_len(len(b), start, n)
    if not b or n == 0:
        b += other
    else:
        b[start:start + n] = other
    _grow(c, b, max(len(b) - before, 0))


# -- numbers and strings at a position ----------------------------------------------------
def _window(b, start, n, width):
    """(start, byte count) of a read or write of at most ``width`` bytes, or None."""
    if not b or n <= 0:
        return None
    start, n = offset_len(len(b), start, n)
    return (start, min(n, width)) if n else None


def _parse(b, start, n, order):
    w = _window(b, start, n, INT_BYTES)
    if w is None:
        return 0
    start, n = w
    return int.from_bytes(bytes(b[start:start + n]) + bytes(INT_BYTES - n), order, signed=True)


def _parse_float(b, start, n, fmt):
    w = _window(b, start, n, INT_BYTES)
    if w is None:
        return 0.0
    start, n = w
    return struct.unpack(fmt, bytes(b[start:start + n]) + bytes(INT_BYTES - n))[0]


def _write(b, start, n, data):
    w = _window(b, start, n, len(data))
    if w is not None:
        start, n = w
        b[start:start + n] = data[:n]


both("parse_le_int")(lambda b, start, n: _parse(b, start, n, "little"))
both("parse_be_int")(lambda b, start, n: _parse(b, start, n, "big"))
both("parse_le_float")(lambda b, start, n: _parse_float(b, start, n, "<d"))
both("parse_be_float")(lambda b, start, n: _parse_float(b, start, n, ">d"))
both("write_le", INT)(lambda b, start, n, v: _write(b, start, n, v.to_bytes(INT_BYTES, "little", signed=True)))
both("write_be", INT)(lambda b, start, n, v: _write(b, start, n, v.to_bytes(INT_BYTES, "big", signed=True)))
both("write_le", FLT)(lambda b, start, n, v: _write(b, start, n, struct.pack("<d", v)))
both("write_be", FLT)(lambda b, start, n, v: _write(b, start, n, struct.pack(">d", v)))


@both("write_utf8", STR, cost=ARGS)
def write_utf8(b, start, n, s):
    _write(b, start, n, s.encode("utf-8"))


@both("write_ascii", STR, cost=ARGS)
def write_ascii(b, start, n, s):
    """Write the ASCII characters of ``s`` (the others are skipped)."""
    _write(b, start, n, s.encode("ascii", errors="ignore"))
