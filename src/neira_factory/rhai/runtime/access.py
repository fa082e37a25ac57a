"""Indexing (``x[i]``) and property access (``x.name``) on runtime values.

Setters return the (possibly new) container: strings and integers are
immutable in Python, so the compiled code writes a changed container back.
Copying a value in and slicing or rebuilding a string is charged to the run ``c``.
Storing the very object a slot already holds (the write-back after ``a.x += [1]``
grew ``a.x`` in place) leaves the slot as it is instead of copying it again.
With data-size limits, compiled code uses the ``*_sized`` setters, which report
each store to the run's ``Context`` (see ``sizes``) and check the container.
"""

from __future__ import annotations

from ..errors import (ErrorArrayBounds, ErrorBitFieldBounds, ErrorDotExpr, ErrorIndexingType,
                      ErrorPropertyNotFound, ErrorStringBounds)
from .calls import UNBOUND, get_native
from .values import INT_MAX, Char, RhaiRange, copy, type_name


_ABSENT = object()


def _norm(i, n, err, what):
    j = i + n if i < 0 else i
    if not 0 <= j < n:
        raise err(f"{what} index {i} out of bounds (length {n})")
    return j


def clamp_start(i: int, n: int) -> int:
    """A start position as Rhai reads it: negative counts from the end; clamped to 0..n."""
    return max(n + i, 0) if i < 0 else min(i, n)


def start_of(seq, i: int) -> int:
    """`clamp_start` of a position in a string or array."""
    return clamp_start(i, len(seq))


def tail_from(seq, start: int):
    """`seq` from `start` on (strings' sub_string, arrays' extract)."""
    return seq[start_of(seq, start):]


def span(seq, start: int, length: int):
    """`length` items of `seq` from `start` (clamped; a negative length is empty)."""
    a = start_of(seq, start)
    return seq[a:a + max(length, 0)]


def within(seq, r: RhaiRange):
    """The part of `seq` a range selects."""
    a, b = slice_bounds(r, len(seq))
    return seq[a:b]


def slice_bounds(r: RhaiRange, n: int):
    """Clamp a range used as a string/array index the way Rhai does."""
    start, end = r.start, r.end + (1 if r.inclusive else 0)
    if start < 0:
        start = max(n + start, 0)
    if end < 0 or (r.inclusive and r.end < 0):
        end = max(n + r.end + (1 if r.inclusive else 0), 0)
    start, end = min(start, n), min(end, n)
    return start, max(start, end)


def _bit_range(x: RhaiRange):
    start, end = x.start, x.end + (1 if x.inclusive else 0)
    if start < 0 or start > 64 or end > 64 or end < start:
        raise ErrorBitFieldBounds(f"bit-field range {x.start}..{x.end} out of bounds")
    return start, end


def get_index(c, target, idx):
    t, ti = type(target), type(idx)
    if t is list:
        if ti is int:
            return target[_norm(idx, len(target), ErrorArrayBounds, "array")]
        if ti is RhaiRange:
            a, b = slice_bounds(idx, len(target))
            c.charge_bulk(b - a)
            return target[a:b]
    elif t is dict:
        if ti is str or ti is Char:
            return target.get(idx)
    elif t is str:
        if ti is int:
            return Char(target[_norm(idx, len(target), ErrorStringBounds, "string")])
        if ti is RhaiRange:
            a, b = slice_bounds(idx, len(target))
            c.charge_bulk(b - a)
            return target[a:b]
    elif t is int:
        if ti is int:
            if not -64 <= idx < 64:
                raise ErrorBitFieldBounds(f"bit index {idx} out of bounds")
            return bool((target >> (idx % 64)) & 1)
        if ti is RhaiRange:
            a, b = _bit_range(idx)
            return (target >> a) & ((1 << (b - a)) - 1)
    elif t is bytearray:
        if ti is int:
            return target[_norm(idx, len(target), ErrorArrayBounds, "blob")]
    elif target is None:
        raise ErrorIndexingType("cannot index into ()")
    if t in (list, dict, str, int, bytearray):
        raise ErrorIndexingType(f"cannot index {type_name(target)} with {type_name(idx)}")
    raise ErrorIndexingType(f"cannot index into {type_name(target)}")


def set_index(c, target, idx, value):
    """Store ``value`` at ``target[idx]``; return the container to write back."""
    t, ti, tv = type(target), type(idx), type(value)
    if t is list and ti is int:
        j = _norm(idx, len(target), ErrorArrayBounds, "array")
        if target[j] is not value:
            target[j] = copy(c, value)
        return target
    if t is dict and (ti is str or ti is Char):
        return set_prop(c, target, str(idx), value)
    if t is str:
        if ti is int and tv is Char:
            j = _norm(idx, len(target), ErrorStringBounds, "string")
            c.charge_bulk(len(target))
            return target[:j] + value + target[j + 1:]
        if ti is RhaiRange and (tv is str or tv is Char):
            a, b = slice_bounds(idx, len(target))
            c.charge_bulk(len(target) + len(value))
            return target[:a] + value + target[b:]
    if t is int:
        if ti is int and tv is bool:
            if not -64 <= idx < 64:
                raise ErrorBitFieldBounds(f"bit index {idx} out of bounds")
            bit = 1 << (idx % 64)
            r = (target | bit) if value else (target & ~bit)
        elif ti is RhaiRange and tv is int:
            a, b = _bit_range(idx)
            mask = ((1 << (b - a)) - 1) << a
            r = (target & ~mask) | ((value << a) & mask)
        else:
            raise ErrorIndexingType(f"cannot index {type_name(target)} with {type_name(idx)}")
        r &= (1 << 64) - 1
        return r - (1 << 64) if r > INT_MAX else r
    if t is bytearray and ti is int and tv is int:
        target[_norm(idx, len(target), ErrorArrayBounds, "blob")] = value & 0xFF
        return target
    raise ErrorIndexingType(f"cannot assign {type_name(value)} into {type_name(target)}[{type_name(idx)}]")


def get_prop(c, target, name):
    if type(target) is dict:
        if name in target:
            return target[name]
        if c.engine is not None and c.engine.fail_on_invalid_map_property:
            raise ErrorPropertyNotFound(f"property not found: {name}")
        return None
    r = get_native(c, name, target)
    if r is UNBOUND:
        raise ErrorDotExpr(f"unknown property '{name}' of {type_name(target)}")
    return r


def set_prop(c, target, name, value):
    if type(target) is dict:
        if target.get(name, _ABSENT) is not value:
            target[name] = copy(c, value)
        return target
    raise ErrorDotExpr(f"cannot set property '{name}' of {type_name(target)}")


def set_index_sized(c, target, idx, value):
    """``set_index`` reporting the store to ``c`` and checking the data-size limits."""
    t, ti = type(target), type(idx)
    if t is list and ti is int:
        j = _norm(idx, len(target), ErrorArrayBounds, "array")
        old = target[j]
        if old is value:
            return c.check_size(target)
        new = target[j] = copy(c, value)
        c.stored(target, (new,), (old,))
        return target
    if t is dict and (ti is str or ti is Char):
        return set_prop_sized(c, target, str(idx), value)
    return c.check_size(set_index(c, target, idx, value))


def set_prop_sized(c, target, name, value):
    """``set_prop`` reporting the store to ``c`` and checking the data-size limits."""
    if type(target) is not dict:
        return set_prop(c, target, name, value)
    old = target.get(name, _ABSENT)
    if old is value:
        return c.check_size(target)
    new = target[name] = copy(c, value)
    if old is _ABSENT:
        c.stored(target, (new,), chars=len(name))
    else:
        c.stored(target, (new,), (old,))
    return target
