"""Array package: mutation (push, insert, remove, ...), queries and the
higher-order functions (map, filter, reduce, sort, ...) that call back into
script functions.  Callbacks get the element as ``this`` and, when they accept
them, the element and its index as arguments.

Work is charged per element: copies (``values.copy``), moves of the elements
after a position (``insert``, ``shift``, ``remove``, ``splice``), comparisons and
sorting, and each callback (``calls.callback``).  ``pad`` sizes what it adds
before adding it."""

from __future__ import annotations

from functools import cmp_to_key

from itertools import repeat

from ..errors import ErrorDataTooLarge, ErrorFunctionNotFound, ErrorMismatchDataType
from ..runtime.access import slice_bounds, span, start_of, tail_from, within
from ..runtime.calls import arity_of, bind, direct
from ..runtime.ops import contains as has
from ..runtime.ops import eq
from ..runtime.sizes import MEASURED, measure_any
from ..runtime.values import CONTAINERS, Char, FnPtr, copy, type_name
from .package import ANY, ARGS, RESULT, Package
from .types import ARR, FNP, INT, RNG

ARRAYS = Package("arrays")

MAX_PAD = 1 << 24


def _fn(f):
    """A callback given as a function pointer or a function name."""
    return FnPtr(f) if type(f) is str else f


def _put_this(c, arr, i, this):
    """Store back element ``i`` as a callback left its ``this``, and check ``arr`` (the
    callback may also have grown the element in place)."""
    old = arr[i]
    if this is not old:
        arr[i] = this
        c.stored(arr, (this,), (old,))
    elif c.sizes is not None:
        c.sizes.check(arr)


def _pred(c, call, arr, i):
    """Call the predicate ``call`` (see ``calls.bind``) on element ``i``."""
    x = arr[i]
    r, this = call(x, x, i)
    if this is not arr[i] or c.sizes is not None:
        _put_this(c, arr, i, this)
    if type(r) is not bool:
        raise _not_bool(r)
    return r


def _not_bool(r):
    return ErrorMismatchDataType(f"Boolean expected from callback, found {type_name(r)}")


ARRAYS.native("len", ARR, getter=True)(len)


@ARRAYS.native("is_empty", ARR, getter=True)
def is_empty(arr):
    return not arr


@ARRAYS.native("push", ARR, ANY, ctx=True, aliases=("append",))
def push(c, d, arr, v, at=None):
    """Add ``v`` at the end (or at position ``at``): a container as a copy; a string or the like
    is measured with ``arr``, a number or the like is one more slot (only the length counts)."""
    t = type(v)
    if t is list or t is dict:
        v = copy(c, v)
    if at is None:
        arr.append(v)
    else:
        arr.insert(at, v)
    if c.sizes is not None:
        if t in MEASURED:
            c.stored(arr, (v,))
        else:
            c.stored(arr, (v,), check=False)
            c.check_length(arr)


@ARRAYS.native("append", ARR, ARR, ctx=True, aliases=("extend",))
def append(c, d, arr, other):
    n = len(arr)
    arr.extend(copy(c, other))
    c.stored(arr, arr[n:])


@ARRAYS.native("insert", ARR, INT, ANY, ctx=True)
def insert(c, d, arr, i, v):
    j = start_of(arr, i)
    c.charge_bulk(len(arr) - j)
    push(c, d, arr, v, j)


@ARRAYS.native("pop", ARR)
def pop(arr):
    return arr.pop() if arr else None


@ARRAYS.native("shift", ARR, ctx=True)
def shift(c, d, arr):
    c.charge_bulk(len(arr))
    return arr.pop(0) if arr else None


@ARRAYS.native("remove", ARR, INT, ctx=True)
def remove(c, d, arr, i):
    n = len(arr)
    j = n + i if i < 0 else i
    c.charge_bulk(n - j)
    return arr.pop(j) if 0 <= j < n else None


@ARRAYS.native("clear", ARR)
def clear(arr):
    arr.clear()


@ARRAYS.native("truncate", ARR, INT)
def truncate(arr, n):
    del arr[max(n, 0):]


@ARRAYS.native("chop", ARR, INT)
def chop(arr, n):
    """Keep the last ``n`` elements (none when ``n`` <= 0, as in Rhai)."""
    del arr[:max(len(arr) - n, 0) if n > 0 else len(arr)]


@ARRAYS.native("reverse", ARR, cost=ARGS)
def reverse(arr):
    arr.reverse()


@ARRAYS.native("pad", ARR, INT, ANY, ctx=True)
def pad(c, d, arr, n, v):
    """Grow ``arr`` to ``n`` elements with copies of ``v``; what the copies hold together
    (``v`` measured once, times their number) is checked before any is made."""
    start = len(arr)
    k = n - start
    if k <= 0:
        return
    if n > MAX_PAD and not c.limits.max_array_size:
        raise ErrorDataTooLarge("size of array too large")
    if c.sizes is not None:
        a, m, chars = measure_any(v, c.clock)
        c.sizes.raise_over(n + k * a, k * m, k * chars)
    if type(v) in CONTAINERS:
        for lo, hi in c.spans(k):
            arr.extend([copy(c, v) for _ in range(hi - lo)])
    else:
        c.charge_bulk(k)
        arr.extend(repeat(v, k))
    c.stored(arr, arr[start:])


@ARRAYS.native("get", ARR, INT, shares=True)
def get(arr, i):
    n = len(arr)
    j = n + i if i < 0 else i
    return arr[j] if 0 <= j < n else None


@ARRAYS.native("set", ARR, INT, ANY, ctx=True)
def set_(c, d, arr, i, v):
    n = len(arr)
    j = n + i if i < 0 else i
    if 0 <= j < n:
        old, arr[j] = arr[j], copy(c, v)
        c.stored(arr, (arr[j],), (old,))


@ARRAYS.native("first", ARR, shares=True)
def first(arr):
    return arr[0] if arr else None


@ARRAYS.native("last", ARR, shares=True)
def last(arr):
    return arr[-1] if arr else None


@ARRAYS.native("contains", ARR, ANY, ctx=True)
def contains(c, d, arr, v):
    return has(c, arr, v)


@ARRAYS.native("index_of", ARR, ANY, ctx=True, calls=True)
def index_of(c, d, arr, v):
    return index_of_from(c, d, arr, v, 0)


@ARRAYS.native("index_of", ARR, ANY, INT, ctx=True, calls=True)
def index_of_from(c, d, arr, v, start):
    start = start_of(arr, start)
    if type(v) in (FnPtr, str) and (type(v) is FnPtr or ((v, 1) in c.fns)):
        for i in range(start, len(arr)):
            if _pred(c, bind(c, d, _fn(v)), arr, i):
                return i
        return -1
    for i in range(start, len(arr)):
        c.charge(1)
        if eq(c, arr[i], v):
            return i
    return -1


ARRAYS.native("extract", ARR, INT, shares=True, cost=RESULT)(tail_from)
ARRAYS.native("extract", ARR, INT, INT, shares=True, cost=RESULT)(span)
ARRAYS.native("extract", ARR, RNG, shares=True, cost=RESULT)(within)


@ARRAYS.native("split", ARR, INT, cost=RESULT)
def split(arr, i):
    a = start_of(arr, i)
    tail = arr[a:]
    del arr[a:]
    return tail


@ARRAYS.native("splice", ARR, INT, INT, ARR, ctx=True)
def splice(c, d, arr, start, n, items):
    a = start_of(arr, start)
    b = a + max(n, 0)
    c.charge_bulk(len(arr) - a)
    removed, new = arr[a:b], copy(c, items)
    arr[a:b] = new
    c.stored(arr, new, removed)


@ARRAYS.native("dedup", ARR, ctx=True)
def dedup(c, d, arr):
    out = arr[:1]
    for lo, hi in c.spans(len(arr)):
        out += [arr[i] for i in range(max(lo, 1), hi) if not eq(c, arr[i], arr[i - 1])]
    arr[:] = out


@ARRAYS.native("zip", ARR, ARR, FNP, ctx=True, shares=True, calls=True)
def zip_(c, d, a, b, f):
    call = bind(c, d, f)
    return [call(None, x, y)[0] for x, y in zip(a, b)]


# -- higher-order ----------------------------------------------------------------
def _results(c, d, f, arr, pred=False):
    """The callback ``f``'s results on each element (and its index, when it takes one), the
    closure called straight (see ``calls.direct``); None when it cannot be.  A ``pred``icate's
    results must be bools: the first that is not stops it (no later call runs, as in Rhai)."""
    fn = direct(c, f, (1, 2))
    if fn is None:
        return None
    out, d1, indexed = [], d + 1, arity_of(fn) == 2
    each = getattr(fn, "each", None)  # the closure's loop over a step, compiled (``batch_function``)
    for lo, hi in c.spans(len(arr)):
        part = arr[lo:hi]
        if each is not None:
            out += each(c, d1, part, pred)
            if pred and out and type(out[-1]) is not bool:
                raise _not_bool(out[-1])
        elif pred:
            for i, x in enumerate(part, lo):
                y = copy(c, x) if type(x) in CONTAINERS else x
                r = fn(c, d1, x, y, i) if indexed else fn(c, d1, x, y)
                if type(r) is not bool:
                    raise _not_bool(r)
                out.append(r)
        elif indexed:
            out += [fn(c, d1, x, copy(c, x) if type(x) in CONTAINERS else x, i) for i, x in enumerate(part, lo)]
        else:
            out += [fn(c, d1, x, copy(c, x) if type(x) in CONTAINERS else x) for x in part]
    return out


@ARRAYS.native("map", ARR, (FnPtr, str), ctx=True, shares=True, calls=True)
def map_(c, d, arr, f):
    out = _results(c, d, _fn(f), arr)
    if out is not None:
        return out
    call, out = bind(c, d, _fn(f)), []
    for i in range(len(arr)):
        x = arr[i]
        r, this = call(x, x, i)
        if this is not arr[i] or c.sizes is not None:
            _put_this(c, arr, i, this)
        out.append(r)
    return out


@ARRAYS.native("for_each", ARR, FNP, ctx=True, calls=True)
def for_each(c, d, arr, f):
    call = bind(c, d, f)
    for i in range(len(arr)):
        _put_this(c, arr, i, call(arr[i], i)[1])


@ARRAYS.native("filter", ARR, (FnPtr, str), ctx=True, shares=True, calls=True)
def filter_(c, d, arr, f):
    part, hits = arr[:], _results(c, d, _fn(f), arr, pred=True)
    if hits is not None:
        return [x for x, hit in zip(part, hits) if hit]
    call = bind(c, d, _fn(f))
    return [arr[i] for i in range(len(arr)) if _pred(c, call, arr, i)]



def _partition(c, d, f, arr):
    """(elements the predicate holds for, the others), each in order; one pass."""
    hit, rest, call = [], [], bind(c, d, f)
    for i, x in enumerate(arr):
        (hit if _pred(c, call, arr, i) else rest).append(x)
    return hit, rest


@ARRAYS.native("retain", ARR, (FnPtr, str), ctx=True, calls=True)
def retain(c, d, arr, f):
    kept, removed = _partition(c, d, _fn(f), arr)
    arr[:] = kept
    return removed


@ARRAYS.native("drain", ARR, (FnPtr, str), ctx=True, calls=True)
def drain(c, d, arr, f):
    drained, kept = _partition(c, d, _fn(f), arr)
    arr[:] = kept
    return drained


@ARRAYS.native("drain", ARR, RNG, cost=RESULT)
def drain_range(arr, r):
    a, b = slice_bounds(r, len(arr))
    out = arr[a:b]
    del arr[a:b]
    return out


@ARRAYS.native("some", ARR, (FnPtr, str), ctx=True, aliases=("any",), calls=True)
def some(c, d, arr, f):
    call = bind(c, d, _fn(f))
    return any(_pred(c, call, arr, i) for i in range(len(arr)))


@ARRAYS.native("all", ARR, (FnPtr, str), ctx=True, calls=True)
def all_(c, d, arr, f):
    call = bind(c, d, _fn(f))
    return all(_pred(c, call, arr, i) for i in range(len(arr)))


@ARRAYS.native("find", ARR, (FnPtr, str), ctx=True, shares=True, calls=True)
def find(c, d, arr, f):
    call = bind(c, d, _fn(f))
    for i in range(len(arr)):
        if _pred(c, call, arr, i):
            return arr[i]
    return None


@ARRAYS.native("find_map", ARR, (FnPtr, str), ctx=True, shares=True, calls=True)
def find_map(c, d, arr, f):
    call = bind(c, d, _fn(f))
    for i in range(len(arr)):
        r, this = call(arr[i], arr[i], i)
        _put_this(c, arr, i, this)
        if r is not None:
            return r
    return None


def _reduce(c, d, arr, f, acc, order):
    fn = direct(c, _fn(f), (2, 3))
    if fn is not None:
        d1, order, indexed = d + 1, list(order), arity_of(fn) == 3
        fold = getattr(fn, "fold", None)  # the closure's loop over a step, compiled (``batch_function``)
        for lo, hi in c.spans(len(order)):
            if fold is not None:
                acc = fold(c, d1, acc, [arr[i] for i in order[lo:hi]])
                continue
            for i in order[lo:hi]:
                x = arr[i]
                x = copy(c, x) if type(x) in CONTAINERS else x
                acc = fn(c, d1, arr[i], acc, x, i) if indexed else fn(c, d1, arr[i], acc, x)
        return acc
    call, sizes = bind(c, d, _fn(f), owned=1), c.sizes
    for i in order:
        x = arr[i]
        acc = call(x, acc, x, i)[0]
        if sizes is not None:
            sizes.check(arr)  # the callback's ``this`` is the element itself
    return acc


@ARRAYS.native("reduce", ARR, (FnPtr, str), ctx=True, shares=True, calls=True)
def reduce(c, d, arr, f):
    return _reduce(c, d, arr, f, None, range(len(arr)))


@ARRAYS.native("reduce", ARR, (FnPtr, str), ANY, ctx=True, shares=True, calls=True)
def reduce_init(c, d, arr, f, init):
    return _reduce(c, d, arr, f, init, range(len(arr)))


@ARRAYS.native("reduce_rev", ARR, (FnPtr, str), ctx=True, shares=True, calls=True)
def reduce_rev(c, d, arr, f):
    return _reduce(c, d, arr, f, None, range(len(arr) - 1, -1, -1))


@ARRAYS.native("reduce_rev", ARR, (FnPtr, str), ANY, ctx=True, shares=True, calls=True)
def reduce_rev_init(c, d, arr, f, init):
    return _reduce(c, d, arr, f, init, range(len(arr) - 1, -1, -1))


SORTABLE = frozenset({int, float, str, Char, bool})


@ARRAYS.native("sort", ARR, ctx=True)
def sort(c, d, arr):
    c.charge(len(arr))
    kinds = set(map(type, arr))
    if kinds <= SORTABLE and (len(kinds) <= 1 or kinds == {int, float}):
        arr.sort()
        return
    raise ErrorFunctionNotFound(f"cannot sort an array of {', '.join(sorted({type_name(x) for x in arr}))}")


@ARRAYS.native("sort", ARR, (FnPtr, str), ctx=True, calls=True)
def sort_by(c, d, arr, f):
    call, fn, d1 = bind(c, d, _fn(f)), direct(c, _fn(f), (2,)), d + 1

    def cmp(a, b):
        if fn is None:
            r = call(None, a, b)[0]
        else:  # one operation per comparison, as ``call`` charges it
            c.work += 1
            if c.work > c.wlim:
                c.charge(0)
            r = fn(c, d1, None, copy(c, a) if type(a) in CONTAINERS else a,
                   copy(c, b) if type(b) in CONTAINERS else b)
        if type(r) is bool:
            return -1 if r else 1
        if type(r) is not int:
            raise ErrorMismatchDataType(f"sort comparer must return an integer, found {type_name(r)}")
        return r

    arr.sort(key=cmp_to_key(cmp))


@ARRAYS.native("sort_desc", ARR, ctx=True)
def sort_desc(c, d, arr):
    sort(c, d, arr)
    arr.reverse()
