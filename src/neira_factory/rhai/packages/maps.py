"""Object-map package: keys, values, contains, remove, mixin, ... (keys are
listed in sorted order, as Rhai's BTreeMap does)."""

from __future__ import annotations

from ..runtime.access import set_prop, set_prop_sized
from ..runtime.calls import callback
from ..runtime.values import copy
from .registry import ANY, native
from .types import FNP, MAP, TXT

native("len", MAP, getter=True)(len)


@native("is_empty", MAP, getter=True)
def is_empty(m):
    return not m


@native("keys", MAP)
def keys(m):
    return sorted(m)


@native("values", MAP, shares=True)
def values(m):
    return [m[k] for k in sorted(m)]


@native("contains", MAP, TXT)
def contains(m, k):
    return str(k) in m


@native("get", MAP, TXT, shares=True)
def get(m, k):
    return m.get(str(k))


@native("set", MAP, TXT, ANY, ctx=True)
def set_(c, d, m, k, v):
    if c.sizes is None:
        set_prop(m, str(k), v)
    else:
        set_prop_sized(c, m, str(k), v)


@native("remove", MAP, TXT)
def remove(m, k):
    return m.pop(str(k), None)


@native("clear", MAP)
def clear(m):
    m.clear()


@native("mixin", MAP, MAP, ctx=True, aliases=("+=",))
def mixin(c, d, m, other):
    removed = [m[k] for k in other if k in m]
    new = copy(other)
    m.update(new)
    c.stored(m, list(new.values()), removed)


@native("fill_with", MAP, MAP, ctx=True)
def fill_with(c, d, m, other):
    added = [m.setdefault(k, copy(v)) for k, v in other.items() if k not in m]
    c.stored(m, added)


@native("filter", MAP, FNP, ctx=True, shares=True)
def filter_(c, d, m, f):
    return {k: v for k, v in sorted(m.items()) if callback(c, d, f, v, k, v)[0] is True}


@native("drain", MAP, FNP, ctx=True)
def drain(c, d, m, f):
    hit = {k: v for k, v in sorted(m.items()) if callback(c, d, f, v, k, v)[0] is True}
    for k in hit:
        del m[k]
    return hit


@native("retain", MAP, FNP, ctx=True)
def retain(c, d, m, f):
    gone = {k: v for k, v in sorted(m.items()) if callback(c, d, f, v, k, v)[0] is not True}
    for k in gone:
        del m[k]
    return gone
