"""Rhai operators on runtime values: arithmetic (checked i64), comparison,
membership, and the strict boolean checks used by conditions.

Compiled code inlines the number fast paths; these functions are the general case.
Binary operators take the run ``c`` first and charge it for work that grows with
their operands (string concatenation and comparison, array and map copies and
comparisons); a string result is sized before it is built.
"""

from __future__ import annotations

import math
import sys

from ..errors import ErrorArithmetic, ErrorMismatchDataType, fn_not_found
from .text import display
from .values import INT_MAX, INT_MIN, Char, RhaiRange, Timestamp, copy, type_name

NUM = (int, float)
EPSILON = sys.float_info.epsilon


def no_op(op, *args):
    return fn_not_found(f"{op} ({', '.join(type_name(a) for a in args)})")


def native_op(c, op, a, b):
    """Operator overloads registered by packages (e.g. timestamp arithmetic)."""
    ov = c.natives.resolve(op, [a, b])
    if ov is None:
        raise no_op(op, a, b)
    return ov.fn(a, b)


def overflow(op="arithmetic"):
    raise ErrorArithmetic(f"arithmetic overflow in {op}")


def ci(r, op="+"):
    """Check an int result is within i64."""
    if INT_MIN <= r <= INT_MAX:
        return r
    raise ErrorArithmetic(f"arithmetic overflow: {op}")


def _nums(a, b):
    ta, tb = type(a), type(b)
    return (ta is int or ta is float) and (tb is int or tb is float)


def _is_text(v):
    t = type(v)
    return t is str or t is Char


def concat(c, a, b):
    """``a + b`` of two strings, refused before it is built when too long."""
    n = len(a) + len(b)
    c.fits(chars=n)
    c.charge_bulk(n)
    return str.__add__(a, b)


def add(c, a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return ci(a + b)
    if _nums(a, b):
        return float(a) + float(b)
    if _is_text(a) and _is_text(b):
        return concat(c, a, b)
    if ta is str and b is not None and tb not in (list, dict):
        return concat(c, a, display(c, b))
    if tb is str and a is not None and ta not in (list, dict):
        return concat(c, display(c, a), b)
    if ta is str and b is None:
        return a
    if tb is str and a is None:
        return b
    if ta is list and tb is list:
        # A new value: nested arrays/maps of either side are copied, not shared.
        c.fits(items=len(a) + len(b))
        r = copy(c, a)
        r.extend(copy(c, b))
        return r
    if ta is dict and tb is dict:
        r = copy(c, a)
        r.update(copy(c, b))
        return r
    if ta is bytearray and tb is bytearray:
        c.fits(items=len(a) + len(b))
        c.charge_bulk(len(a) + len(b))
        return a + b
    return native_op(c, "+", a, b)


def add_assign(c, a, b):
    """``a += b``: arrays grow in place (appending ``b`` or its elements)."""
    ta = type(a)
    if ta is list:
        if type(b) is list:
            a.extend(copy(c, b))
        else:
            a.append(copy(c, b))
        return a
    if ta is dict and type(b) is dict:
        a.update(copy(c, b))
        return a
    if ta is bytearray:
        if type(b) is int:
            a.append(b & 0xFF)
        elif type(b) is bytearray:
            c.charge_bulk(len(b))
            a.extend(b)
        elif _is_text(b):
            c.charge_bulk(len(b))
            a.extend(b.encode("utf-8"))
        else:
            raise no_op("+=", a, b)
        return a
    return add(c, a, b)


def add_assign_sized(c, a, b):
    """``add_assign`` reporting what an array or map gained to ``c`` and checking the
    data-size limits."""
    ta = type(a)
    if ta is list:
        n = len(a)
        add_assign(c, a, b)
        c.stored(a, a[n:])
        return a
    if ta is dict and type(b) is dict:
        removed = [a[k] for k in b if k in a]
        keys = sum(len(k) for k in b if k not in a)
        add_assign(c, a, b)
        c.stored(a, [a[k] for k in b], removed, chars=keys)
        return a
    if ta is bytearray:
        n = len(a)
        add_assign(c, a, b)
        c.stored(a, a[n:])
        return a
    return c.check_size(add_assign(c, a, b))


def sub(c, a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return ci(a - b, "-")
    if _nums(a, b):
        return float(a) - float(b)
    if ta is str and _is_text(b):
        c.charge_bulk(len(a))
        return a.replace(b, "")
    return native_op(c, "-", a, b)


def mul(c, a, b):
    if type(a) is int and type(b) is int:
        return ci(a * b, "*")
    if _nums(a, b):
        return float(a) * float(b)
    raise no_op("*", a, b)


def div(c, a, b):
    if type(a) is int and type(b) is int:
        if b == 0:
            raise ErrorArithmetic("division by zero")
        q = abs(a) // abs(b)
        return ci(q if (a < 0) == (b < 0) else -q, "/")
    if _nums(a, b):
        a, b = float(a), float(b)
        if b == 0.0:
            if a == 0.0 or a != a:
                return math.nan
            return math.copysign(math.inf, a) * math.copysign(1.0, b)
        return a / b
    raise no_op("/", a, b)


def mod(c, a, b):
    if type(a) is int and type(b) is int:
        if b == 0:
            raise ErrorArithmetic("modulo by zero")
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    if _nums(a, b):
        a, b = float(a), float(b)
        return math.fmod(a, b) if b != 0.0 else math.nan
    raise no_op("%", a, b)


def power(c, a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if b < 0:
            raise ErrorArithmetic(f"integer raised to a negative power: {a} ** {b}")
        if a in (0, 1) or b == 0:
            return 1 if b == 0 else a
        if a == -1:
            return 1 if b % 2 == 0 else -1
        if b >= 64:
            overflow("**")
        return ci(a ** b, "**")
    if _nums(a, b):
        try:
            return math.pow(float(a), float(b))
        except OverflowError:
            return math.inf
        except ValueError:
            return math.nan
    raise no_op("**", a, b)


def _wrap(v):
    v &= (1 << 64) - 1
    return v - (1 << 64) if v > INT_MAX else v


def shl(c, a, b):
    if type(a) is int and type(b) is int:
        if b < 0:
            return shr(c, a, -b)
        if b >= 64:
            raise ErrorArithmetic(f"shift overflow: {a} << {b}")
        return _wrap(a << b)
    raise no_op("<<", a, b)


def shr(c, a, b):
    if type(a) is int and type(b) is int:
        if b < 0:
            return shl(c, a, -b)
        if b >= 64:
            raise ErrorArithmetic(f"shift overflow: {a} >> {b}")
        return a >> b
    raise no_op(">>", a, b)


def _bitwise(op, fn):
    def run(c, a, b):
        ta, tb = type(a), type(b)
        if (ta is int and tb is int) or (ta is bool and tb is bool):
            return fn(a, b)
        raise no_op(op, a, b)

    run.__name__ = f"bit_{fn.__name__}"
    return run


band = _bitwise("&", lambda a, b: a & b)
bor = _bitwise("|", lambda a, b: a | b)
bxor = _bitwise("^", lambda a, b: a ^ b)


def neg(a):
    t = type(a)
    if t is int:
        return ci(-a, "-")
    if t is float:
        return -a
    raise no_op("-", a)


def pos(a):
    if type(a) in NUM:
        return a
    raise no_op("+", a)


def not_(a):
    if type(a) is bool:
        return not a
    raise no_op("!", a)


def truth(v):
    """A condition value: must be a bool."""
    if type(v) is bool:
        return v
    raise ErrorMismatchDataType(f"Boolean expected, found {type_name(v)}")


# -- comparison ------------------------------------------------------------
def _comparable(c, a, b):
    """Normalise a pair for ordering; None when Rhai has no ordering for the pair."""
    ta, tb = type(a), type(b)
    if _is_text(a) and _is_text(b):
        c.charge_bulk(min(len(a), len(b)))
        return (a, b) if ta is tb else (str(a), str(b))
    if ta is tb and ta in (int, float, bool):
        return a, b
    if _nums(a, b):
        return a, b
    if ta is tb is Timestamp:
        return a.t, b.t
    return None


def float_cmp(a, b):
    """-1, 0 or 1 comparing two numbers of which one is a float, as Rhai does: equal when they
    differ by less than the float epsilon scaled to the larger magnitude (the bare epsilon when
    one is zero); None when one is NaN."""
    a, b = float(a), float(b)
    if a == b:
        return 0
    d = a - b
    if d != d:
        return None
    tol = EPSILON if a == 0.0 or b == 0.0 else max(abs(a), abs(b)) * EPSILON
    if abs(d) < tol:
        return 0
    return 1 if d > 0 else -1


def eq(c, a, b):
    ta, tb = type(a), type(b)
    if (ta is float or tb is float) and _nums(a, b):
        return float_cmp(a, b) == 0
    if ta is tb:
        if ta is list:
            return len(a) == len(b) and all(
                eq(c, x, y) for lo, hi in c.spans(len(a)) for x, y in zip(a[lo:hi], b[lo:hi]))
        if ta is dict:
            if len(a) != len(b) or a.keys() != b.keys():
                return False
            keys = list(a)
            return all(eq(c, a[k], b[k]) for lo, hi in c.spans(len(keys)) for k in keys[lo:hi])
        if ta is str and len(a) == len(b) and a is not b:
            c.charge_bulk(len(a))
        return a == b
    if _is_text(a) and _is_text(b):
        if len(a) == len(b):
            c.charge_bulk(len(a))
        return a == b
    if _nums(a, b):
        return a == b
    return False


def ne(c, a, b):
    return not eq(c, a, b)


def _ordering(op, test):
    def run(c, a, b):
        if (type(a) is float or type(b) is float) and _nums(a, b):
            r = float_cmp(a, b)
            return r is not None and test(r, 0)
        pair = _comparable(c, a, b)
        if pair is None:
            return False
        return test(*pair)

    run.__name__ = op
    return run


lt = _ordering("lt", lambda a, b: a < b)
le = _ordering("le", lambda a, b: a <= b)
gt = _ordering("gt", lambda a, b: a > b)
ge = _ordering("ge", lambda a, b: a >= b)


def contains(c, container, item):
    """``item in container``."""
    t = type(container)
    if t is list:
        return any(eq(c, x, item) for lo, hi in c.spans(len(container)) for x in container[lo:hi])
    if t is dict:
        if _is_text(item):
            return str(item) in container
        raise no_op("contains", container, item)
    if t is str:
        if _is_text(item):
            c.charge_bulk(len(container))
            return item in container
        raise no_op("contains", container, item)
    if t is RhaiRange:
        if type(item) is int:
            return item in container.as_range()
        raise no_op("contains", container, item)
    if t is bytearray and type(item) is int:
        c.charge_bulk(len(container))
        return (item & 0xFF) in container
    raise no_op("contains", container, item)


def make_range(a, b, inclusive):
    if type(a) is int and type(b) is int:
        return RhaiRange(a, b, inclusive)
    raise no_op("..=" if inclusive else "..", a, b)

