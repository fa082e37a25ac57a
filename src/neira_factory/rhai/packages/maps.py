"""Object-map package: keys, values, contains, remove, mixin, ... (keys are
listed in sorted order, as Rhai's BTreeMap does).  Listing a map sorts its keys:
one operation per entry."""

from __future__ import annotations

from ..runtime.access import set_prop, set_prop_sized
from ..runtime.calls import callback
from ..runtime.values import copy
from .package import ANY, Package
from .types import FNP, MAP, TXT

MAPS = Package("maps")

MAPS.native("len", MAP, getter=True)(len)


@MAPS.native("is_empty", MAP, getter=True)
def is_empty(m):
    return not m


def _sorted(c, m):
    c.charge(len(m))
    return sorted(m)


@MAPS.native("keys", MAP, ctx=True)
def keys(c, d, m):
    return _sorted(c, m)


@MAPS.native("values", MAP, ctx=True, shares=True)
def values(c, d, m):
    return [m[k] for k in _sorted(c, m)]


@MAPS.native("contains", MAP, TXT)
def contains(m, k):
    return str(k) in m


@MAPS.native("get", MAP, TXT, shares=True)
def get(m, k):
    return m.get(str(k))


@MAPS.native("set", MAP, TXT, ANY, ctx=True)
def set_(c, d, m, k, v):
    if c.sizes is None:
        set_prop(c, m, str(k), v)
    else:
        set_prop_sized(c, m, str(k), v)


@MAPS.native("remove", MAP, TXT)
def remove(m, k):
    return m.pop(str(k), None)


@MAPS.native("clear", MAP)
def clear(m):
    m.clear()


@MAPS.native("mixin", MAP, MAP, ctx=True, aliases=("+=",))
def mixin(c, d, m, other):
    removed = [m[k] for k in other if k in m]
    keys = sum(len(k) for k in other if k not in m)
    new = copy(c, other)
    m.update(new)
    c.stored(m, list(new.values()), removed, chars=keys)


@MAPS.native("fill_with", MAP, MAP, ctx=True)
def fill_with(c, d, m, other):
    fresh = [k for k in other if k not in m]
    added = []
    for lo, hi in c.spans(len(fresh)):
        added += [m.setdefault(k, copy(c, other[k])) for k in fresh[lo:hi]]
    c.stored(m, added, chars=sum(map(len, fresh)))


def _pick(c, d, m, f, want):
    """The entries (sorted by key) for which the predicate ``f`` gives ``want``; ``m`` is
    checked after each call (its ``this`` is the value itself, which it may grow)."""
    out = {}
    for k, v in sorted(m.items()):
        if (callback(c, d, f, v, k, v)[0] is True) is want:
            out[k] = v
        c.check_size(m)
    return out


@MAPS.native("filter", MAP, FNP, ctx=True, shares=True, calls=True)
def filter_(c, d, m, f):
    return _pick(c, d, m, f, True)


@MAPS.native("drain", MAP, FNP, ctx=True, calls=True)
def drain(c, d, m, f):
    hit = _pick(c, d, m, f, True)
    for k in hit:
        del m[k]
    return hit


@MAPS.native("retain", MAP, FNP, ctx=True, calls=True)
def retain(c, d, m, f):
    gone = _pick(c, d, m, f, False)
    for k in gone:
        del m[k]
    return gone
