"""Core package: type_of, print/debug (captured to the run log), conversions,
function pointers (Fn, call, curry), is_def_fn, timestamps and range()."""

from __future__ import annotations

import time

from ..errors import ErrorArithmetic, ErrorFunctionNotFound
from ..runtime.calls import UNBOUND, call_ptr
from ..runtime.context import Context
from ..runtime.values import FnPtr, RhaiRange, Timestamp, to_debug, to_display, type_name
from .registry import ANY, native
from .types import FNP, INT, NUM, STR, TS

MAX_ARGS = 10


@native("type_of", ANY)
def type_of(v):
    return type_name(v)


@native("print", ANY, ctx=True)
def print_(c, d, v):
    c.check_size(text := to_display(v))
    c.log.append(text)


@native("debug", ANY, ctx=True)
def debug_(c, d, v):
    c.log.append(to_debug(v))


native("to_string", ANY)(to_display)
native("to_debug", ANY)(to_debug)


@native("Fn", STR, ctx=True)
def make_fn(c, d, name):
    if not name.isidentifier() or not name.isascii():
        raise ErrorFunctionNotFound(f"invalid function name: {name!r}")
    return FnPtr(name)


@native("is_def_fn", STR, INT, ctx=True)
def is_def_fn(c, d, name, arity):
    return (name, arity) in c.fns


@native("name", FNP, getter=True)
def fn_name(f):
    return f.name


@native("is_anonymous", FNP, getter=True)
def is_anonymous(f):
    return f.fn is not None


def _register_variadic():
    for n in range(MAX_ARGS + 1):
        types = (FNP,) + (ANY,) * n

        def call(c, d, f, *args):
            return call_ptr(c, d, f, list(args), UNBOUND)[0]

        def curry(f, *args):
            return f.with_curry(list(args))

        native("call", *types, ctx=True)(call)
        if n:
            native("curry", *types)(curry)


_register_variadic()


@native("timestamp", ctx=True)
def timestamp(c, d):
    return Timestamp(time.monotonic())


@native("elapsed", TS, getter=True)
def elapsed(ts):
    return time.monotonic() - ts.t


@native("+", TS, NUM)
def ts_add(ts, secs):
    return Timestamp(ts.t + secs)


@native("-", TS, NUM)
def ts_sub(ts, secs):
    return Timestamp(ts.t - secs)


@native("-", TS, TS)
def ts_diff(a, b):
    return a.t - b.t


@native("eval", STR, ctx=True)
def eval_(c, d, script):
    """Evaluate script text in a fresh scope (sharing functions, log and budget)."""
    from ..engine import Scope

    _, main, fns = c.engine.compile(script).compiled(c.limits)
    sub = Context(c.limits, {**c.fns, **fns}, c.engine, c.log, dict(c.constants))
    sub.ops, sub.deadline, sub.lim = c.ops, c.deadline, c.lim
    try:
        return main(sub, Scope(), d + 1)
    finally:
        c.ops = sub.ops


@native("range", INT, INT)
def range2(a, b):
    return RhaiRange(a, b, False)


@native("range", NUM, NUM, NUM)
def range3(a, b, step):
    if step == 0:
        raise ErrorArithmetic("step value cannot be zero")
    if type(a) is int and type(b) is int and type(step) is int:
        return list(range(a, b, step))
    out, x = [], float(a)
    while (x < b) if step > 0 else (x > b):
        out.append(x)
        x += step
    return out


@native("start", (RhaiRange,), getter=True)
def range_start(r):
    return r.start


@native("end", (RhaiRange,), getter=True)
def range_end(r):
    return r.end


@native("is_inclusive", (RhaiRange,), getter=True)
def range_inclusive(r):
    return r.inclusive


@native("is_exclusive", (RhaiRange,), getter=True)
def range_exclusive(r):
    return not r.inclusive


@native("is_empty", (RhaiRange,), getter=True)
def range_empty(r):
    return len(r.as_range()) == 0


@native("len", (RhaiRange,), getter=True)
def range_len(r):
    return len(r.as_range())


@native("contains", (RhaiRange,), INT)
def range_contains(r, x):
    return x in r.as_range()

