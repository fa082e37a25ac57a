"""The names compiled scripts can see: the globals dictionary every generated
module starts from.  Nothing here exposes host objects to scripts; generated
code only calls these helpers."""

from __future__ import annotations

from ..errors import (ErrorAssignmentToConstant, ErrorDataRace, ErrorFor, ErrorMismatchDataType, ErrorRuntime,
                      ErrorStackOverflow, ErrorDataTooLarge, ErrorTooManyVariables,
                      ErrorUnboundThis, ErrorVariableNotFound, RhaiError)
from . import access, calls, modules, ops
from .text import brief, joined
from .values import INT_MAX, INT_MIN, Char, FnPtr, RhaiRange, copy


def scope_get(S, name):
    try:
        return S.values[name]
    except KeyError:
        raise ErrorVariableNotFound(f"Variable not found: {name}") from None


def scope_set(S, name, value):
    if name not in S.values:
        raise ErrorVariableNotFound(f"Variable not found: {name}")
    if name in S.constants:
        raise ErrorAssignmentToConstant(f"Cannot modify constant: {name}")
    S.values[name] = value


def const_error(name):
    raise ErrorAssignmentToConstant(f"Cannot modify constant: {name}")


def no_var(name):
    raise ErrorVariableNotFound(f"Variable not found: {name}")


def unbound():
    raise ErrorUnboundThis("'this' is not bound")


def overflow():
    ops.overflow()


def too_many_vars():
    raise ErrorTooManyVariables("too many variables")


def stack_overflow():
    raise ErrorStackOverflow("stack overflow: too many nested function calls")


def scope_const(c, name):
    """A name no declaration binds, read in a function: a constant of the run's scope."""
    if name in c.scope_constants:
        return c.constants[name]
    raise ErrorVariableNotFound(f"Variable not found: {name}")


def global_const(c, name):
    try:
        return c.constants[name]
    except KeyError:
        raise ErrorVariableNotFound(f"Variable not found: global::{name}") from None


def iterate(c, v):
    """The sequence a ``for`` loop walks (a string's characters one at a time, as the loop
    asks for them)."""
    t = type(v)
    if t is list:
        return copy(c, v)  # each loop variable is a value of its own (nested containers too)
    if t is RhaiRange:
        return v.as_range()
    if t is str:
        return map(Char, v)
    if t is bytearray:
        return bytes(v)
    if t is range:
        return v
    raise ErrorFor(f"cannot iterate over {type(v).__name__ if t not in (dict, int, float) else brief(v)}")


def iterate_values(c, v):
    """``iterate`` for a loop that only reads its variable: an array's elements are not copied
    (the array itself is, shallowly, so that the loop walks it as it was)."""
    if type(v) is list:
        c.charge_bulk(len(v))
        return v[:]
    return iterate(c, v)


def int_range(a, b, inclusive):
    if type(a) is int and type(b) is int:
        return range(a, b + 1 if inclusive else b)
    raise ops.no_op("..=" if inclusive else "..", a, b)


def same(c, a, b):
    """Switch-case match: same type and equal (floats exactly: Rhai matches cases by hash)."""
    t = type(a)
    return t is type(b) and (a == b if t is float else ops.eq(c, a, b))


def interp(c, *parts):
    """A back-tick string: the display texts of its parts, within the string limit."""
    texts, n = [], 0
    for p in parts:
        t = type(p)
        if t is str:
            texts.append(p)
        elif t is int:
            p = str(p)
            texts.append(p)
        else:
            return joined(c, parts)
        n += len(p)
    c.fits(chars=n)
    c.charge_bulk(n)
    return "".join(texts)


def charged(c, text):
    """A string that compiled code built at C speed, charged to the run ``c`` by its length."""
    c.charge_bulk(len(text))
    return text


def throw(value):
    """A script's ``throw value``: its message quotes the value, cut short."""
    raise ErrorRuntime(brief(value), value=value)


def caught(e):
    """Value bound by ``catch (err)``; re-raise what scripts cannot catch."""
    if isinstance(e, RecursionError):
        raise ErrorStackOverflow("stack overflow") from e
    if isinstance(e, MemoryError):
        raise ErrorDataTooLarge("out of memory") from e
    if not isinstance(e, RhaiError):
        raise e
    if not e.catchable:
        raise e
    inner = e
    while getattr(inner, "inner_error", None) is not None:
        inner = inner.inner_error
    if type(inner) is ErrorRuntime:
        return inner.value
    info = {"message": str(e.message), "error": e.kind}
    if e.line:
        info["line"], info["position"] = e.line, e.column
    return info


def data_race(f, cell):
    """``x.call(f, ...)`` where the closure ``f`` captured the variable ``x`` (its ``cell``):
    ``x`` would be both ``this`` and shared with the closure, Rhai's data race."""
    if type(f) is FnPtr and f.fn is not None and any(x is cell for x in f.fn.__closure__ or ()):
        raise ErrorDataRace("data race: the variable is both 'this' and captured by the closure")


def check_bool(v):
    if type(v) is bool:
        return v
    raise ErrorMismatchDataType(f"Boolean expected, found {brief(v)!r}")


PRELUDE = {
    "__builtins__": {},
    "_MIN": INT_MIN, "_MAX": INT_MAX,
    "_ci": ops.ci, "_ovf": overflow,
    "_add": ops.add, "_adda": ops.add_assign, "_addas": ops.add_assign_sized,
    "_sub": ops.sub, "_mul": ops.mul, "_div": ops.div,
    "_mod": ops.mod, "_pow": ops.power, "_shl": ops.shl, "_shr": ops.shr,
    "_band": ops.band, "_bor": ops.bor, "_bxor": ops.bxor,
    "_eq": ops.eq, "_ne": ops.ne, "_lt": ops.lt, "_le": ops.le, "_gt": ops.gt, "_ge": ops.ge,
    "_neg": ops.neg, "_pos": ops.pos, "_not": ops.not_, "_truth": ops.truth, "_bool": check_bool,
    "_in": ops.contains, "_range": ops.make_range, "_irange": int_range,
    "_getidx": access.get_index, "_setidx": access.set_index, "_setidxs": access.set_index_sized,
    "_getprop": access.get_prop, "_setprop": access.set_prop, "_setprops": access.set_prop_sized,
    "_cp": copy, "_SC": frozenset((int, float, bool, str, type(None))), "_call": calls.call_fn, "_callr": calls.call_fn_ref, "_cm": calls.call_method,
    "_cptr": calls.call_ptr, "_race": data_race, "_wrap": calls.wrap_fn_error, "_UNB": calls.UNBOUND,
    "_FnPtr": FnPtr, "_Char": Char, "_RhaiError": RhaiError,
    "_sget": scope_get, "_sset": scope_set, "_novar": no_var, "_cerr": const_error, "_unbound": unbound,
    "_tmv": too_many_vars, "_stk": stack_overflow, "_gconst": global_const, "_fconst": scope_const,
    "_iter": iterate, "_iterv": iterate_values, "_same": same, "_interp": interp, "_charged": charged, "_throw": throw, "_caught": caught,
    "type": type, "int": int, "str": str, "float": float, "bool": bool, "list": list, "dict": dict,
    "range": range, "enumerate": enumerate, "Exception": Exception, "IndexError": IndexError, "BaseException": BaseException,
    "locals": locals, "len": len,
    "_lend": modules.lend, "_reclaim": modules.reclaim, "_evalin": modules.eval_in,
    "_scall": modules.call_scoped, "_import": modules.import_module, "_gmod": modules.global_module,
    "_mvar": modules.module_var, "_mcall": modules.call_module, "_Scope": modules.Scope,
    "_NOSAVE": modules.NOSAVE,
}
