"""Object-map package: keys, values, contains, remove, mixin, ... (keys are
listed in sorted order, as Rhai's BTreeMap does)."""

from __future__ import annotations

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


@native("values", MAP)
def values(m):
    return [m[k] for k in sorted(m)]


@native("contains", MAP, TXT)
def contains(m, k):
    return str(k) in m


@native("get", MAP, TXT)
def get(m, k):
    return m.get(str(k))


@native("set", MAP, TXT, ANY, ctx=True)
def set_(c, d, m, k, v):
    m[str(k)] = copy(v)
    c.check_size(m)


@native("remove", MAP, TXT)
def remove(m, k):
    return m.pop(str(k), None)


@native("clear", MAP)
def clear(m):
    m.clear()


@native("mixin", MAP, MAP, ctx=True, aliases=("+=",))
def mixin(c, d, m, other):
    m.update(copy(other))
    c.check_size(m)


@native("fill_with", MAP, MAP, ctx=True)
def fill_with(c, d, m, other):
    for k, v in other.items():
        m.setdefault(k, copy(v))
    c.check_size(m)


@native("filter", MAP, FNP, ctx=True)
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
