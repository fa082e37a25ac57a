"""Core package: type_of, is_shared, print/debug (captured to the run log), conversions,
function pointers (Fn, call, curry), is_def_fn, eval, timestamps and range()."""

from __future__ import annotations

import math
import time

from ..errors import ErrorArithmetic, ErrorFunctionNotFound
from ..runtime.calls import UNBOUND, call_ptr
from ..runtime.text import debug, display
from ..runtime.values import INT_MAX, FnPtr, RhaiRange, Timestamp, type_name
from ..runtime.modules import eval_in
from ..scope import Scope
from .package import ANY, ARGS, Package
from .types import FNP, INT, NUM, STR, TS

CORE = Package("core")

MAX_ARGS = 10


@CORE.native("type_of", ANY)
def type_of(v):
    return type_name(v)


@CORE.native("is_shared", ANY)
def is_shared(v):
    """A value passed on is never shared; the compiler answers for a variable a closure captured."""
    return False


@CORE.native("print", ANY, ctx=True)
def print_(c, d, v):
    c.print(display(c, v))


@CORE.native("debug", ANY, ctx=True)
def debug_(c, d, v):
    c.print(debug(c, v))


@CORE.native("to_string", ANY, ctx=True)
def to_string(c, d, v):
    return display(c, v)


@CORE.native("to_debug", ANY, ctx=True)
def to_debug(c, d, v):
    return debug(c, v)


@CORE.native("Fn", STR, ctx=True, cost=ARGS)
def make_fn(c, d, name):
    if not name.isidentifier() or not name.isascii():
        raise ErrorFunctionNotFound(f"invalid function name: {name!r}")
    return FnPtr(name)


@CORE.native("is_def_fn", STR, INT, ctx=True)
def is_def_fn(c, d, name, arity):
    return (name, arity) in c.fns


@CORE.native("name", FNP, getter=True)
def fn_name(f):
    return f.name


@CORE.native("is_anonymous", FNP, getter=True)
def is_anonymous(f):
    return f.fn is not None


def _register_variadic():
    for n in range(MAX_ARGS + 1):
        types = (FNP,) + (ANY,) * n

        def call(c, d, f, *args):
            return call_ptr(c, d, f, list(args), UNBOUND)[0]

        def curry(c, d, f, *args):
            c.charge_bulk(len(f.curry))
            return f.with_curry(list(args))

        CORE.native("call", *types, ctx=True, calls=True)(call)
        if n:
            CORE.native("curry", *types, ctx=True)(curry)


_register_variadic()


@CORE.native("timestamp", ctx=True)
def timestamp(c, d):
    return Timestamp(time.monotonic())


@CORE.native("elapsed", TS, getter=True)
def elapsed(ts):
    return time.monotonic() - ts.t


@CORE.native("+", TS, NUM)
def ts_add(ts, secs):
    return Timestamp(ts.t + secs)


@CORE.native("-", TS, NUM)
def ts_sub(ts, secs):
    return Timestamp(ts.t - secs)


@CORE.native("-", TS, TS)
def ts_diff(a, b):
    return a.t - b.t


@CORE.native("eval", STR, ctx=True, calls=True)
def eval_(c, d, script):
    """Evaluate script text in a fresh scope (called through a pointer or with a name the
    compiler could not see; a direct ``eval(text)`` call runs in the caller's scope)."""
    return eval_in(c, d, Scope(), script)


@CORE.native("range", INT, INT)
def range2(a, b):
    return RhaiRange(a, b, False)


@CORE.native("range", NUM, NUM, NUM, ctx=True)
def range3(c, d, a, b, step):
    """The numbers from ``a`` towards ``b`` (excluded) by ``step``, as an array: its length
    is known, and checked, before it is built."""
    if step == 0:
        raise ErrorArithmetic("step value cannot be zero")
    if type(a) is int and type(b) is int and type(step) is int:
        n = max(0, (b - a + step - 1) // step if step > 0 else (a - b - step - 1) // -step)
        c.fits(items=n)
        c.charge_bulk(n)
        return list(range(a, b, step))
    n = (b - a) / step
    if not n > 0:  # empty (or NaN)
        return []
    steps = math.ceil(n) + 1 if n < math.inf else math.inf  # one more than the count, however floats round
    c.fits(items=steps - 1)
    out, x = [], float(a)
    while ((x < b) if step > 0 else (x > b)) and len(out) < steps:
        out.append(x)
        x += step
        c.charge(1)
    return out


@CORE.native("start", (RhaiRange,), getter=True)
def range_start(r):
    return r.start


@CORE.native("end", (RhaiRange,), getter=True)
def range_end(r):
    return r.end


@CORE.native("is_inclusive", (RhaiRange,), getter=True)
def range_inclusive(r):
    return r.inclusive


@CORE.native("is_exclusive", (RhaiRange,), getter=True)
def range_exclusive(r):
    return not r.inclusive


@CORE.native("is_empty", (RhaiRange,), getter=True)
def range_empty(r):
    return range_len(r) == 0


@CORE.native("len", (RhaiRange,), getter=True)
def range_len(r):
    return min(max(r.end + (1 if r.inclusive else 0) - r.start, 0), INT_MAX)


@CORE.native("contains", (RhaiRange,), INT)
def range_contains(r, x):
    return x in r.as_range()

