"""Math and number-conversion package: abs, min/max, rounding, roots,
trigonometry, parse_int/parse_float, to_int/to_float, bit fields."""

from __future__ import annotations

import math

from ..errors import ErrorArithmetic, ErrorBitFieldBounds
from ..runtime.ops import ci
from ..runtime.values import INT_MAX, INT_MIN
from .package import ARGS, Package
from .types import BOOL, FLT, INT, NUM, RNG, STR

MATHS = Package("maths")


@MATHS.native("abs", INT)
def abs_int(x):
    return ci(abs(x), "abs")


MATHS.native("abs", FLT)(abs)


@MATHS.native("sign", INT)
def sign_int(x):
    return (x > 0) - (x < 0)


@MATHS.native("sign", FLT)
def sign_float(x):
    return 0 if x == 0 or x != x else (1 if x > 0 else -1)


@MATHS.native("min", INT, INT)
def min_int(a, b):
    return min(a, b)


@MATHS.native("max", INT, INT)
def max_int(a, b):
    return max(a, b)


@MATHS.native("min", NUM, NUM)
def min_num(a, b):
    return float(min(a, b))


@MATHS.native("max", NUM, NUM)
def max_num(a, b):
    return float(max(a, b))


def _float_fn(name, fn):
    def run(x):
        try:
            return fn(float(x))
        except (ValueError, ZeroDivisionError):
            return math.nan
        except OverflowError:
            return math.inf

    run.__name__ = name
    MATHS.native(name, NUM)(run)


for _name, _fn in {
    "sqrt": math.sqrt, "exp": math.exp, "ln": math.log, "log": math.log10,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos,
    "atan": math.atan, "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh,
    "asinh": math.asinh, "acosh": math.acosh, "atanh": math.atanh,
    "to_degrees": math.degrees, "to_radians": math.radians,
}.items():
    _float_fn(_name, _fn)


@MATHS.native("log", NUM, NUM)
def log_base(x, base):
    try:
        return math.log(float(x), float(base))
    except (ValueError, ZeroDivisionError):
        return math.nan


@MATHS.native("atan", NUM, NUM)
def atan2(y, x):
    return math.atan2(float(y), float(x))


@MATHS.native("hypot", NUM, NUM)
def hypot(x, y):
    return math.hypot(float(x), float(y))


@MATHS.native("PI")
def pi():
    return math.pi


@MATHS.native("E")
def e():
    return math.e


def _finite(x, what):
    if x != x or x in (math.inf, -math.inf):
        raise ErrorArithmetic(f"cannot {what} {x}")


@MATHS.native("floor", FLT, getter=True)
def floor(x):
    return float(math.floor(x)) if math.isfinite(x) else x


@MATHS.native("ceiling", FLT, getter=True)
def ceiling(x):
    return float(math.ceil(x)) if math.isfinite(x) else x


@MATHS.native("round", FLT, getter=True)
def round_(x):
    if not math.isfinite(x):
        return x
    return float(math.floor(x + 0.5)) if x >= 0 else float(math.ceil(x - 0.5))


@MATHS.native("int", FLT, getter=True)
def int_part(x):
    return float(math.trunc(x)) if math.isfinite(x) else x


@MATHS.native("fraction", FLT, getter=True)
def fraction(x):
    return x - math.trunc(x) if math.isfinite(x) else x


@MATHS.native("is_nan", FLT, getter=True)
def is_nan(x):
    return x != x


@MATHS.native("is_finite", FLT, getter=True)
def is_finite(x):
    return math.isfinite(x)


@MATHS.native("is_infinite", FLT, getter=True)
def is_infinite(x):
    return math.isinf(x)


@MATHS.native("is_even", INT, getter=True)
def is_even(x):
    return x % 2 == 0


@MATHS.native("is_odd", INT, getter=True)
def is_odd(x):
    return x % 2 == 1


@MATHS.native("is_zero", NUM, getter=True)
def is_zero(x):
    return x == 0


@MATHS.native("to_int", INT)
def int_to_int(x):
    return x


@MATHS.native("to_int", FLT)
def to_int(x):
    _finite(x, "convert to integer")
    v = math.trunc(x)
    if not INT_MIN <= v <= INT_MAX:
        raise ErrorArithmetic(f"integer overflow converting {x}")
    return v


@MATHS.native("to_float", NUM)
def to_float(x):
    return float(x)


@MATHS.native("parse_int", STR, cost=ARGS)
def parse_int(s):
    return parse_int_radix(s, 10)


@MATHS.native("parse_int", STR, INT, cost=ARGS)
def parse_int_radix(s, radix):
    if not 2 <= radix <= 36:
        raise ErrorArithmetic(f"invalid radix: {radix}")
    text = s.strip()
    try:
        if not text or "_" in text or text[0] in "+-" and len(text) > 1 and text[1] in "+-":
            raise ValueError
        v = int(text, radix)
    except ValueError:
        raise ErrorArithmetic(f"error parsing integer: {s!r}") from None
    return ci(v, "parse_int")


@MATHS.native("parse_float", STR, cost=ARGS)
def parse_float(s):
    text = s.strip()
    try:
        if not text or "_" in text or text.lower().strip("+-") in ("nan", "infinity"):
            raise ValueError
        return float(text)
    except ValueError:
        raise ErrorArithmetic(f"error parsing float: {s!r}") from None


def _radix_str(x, fmt):
    return format(x & ((1 << 64) - 1) if x < 0 else x, fmt)


@MATHS.native("to_hex", INT)
def to_hex(x):
    return _radix_str(x, "x")


@MATHS.native("to_octal", INT)
def to_octal(x):
    return _radix_str(x, "o")


@MATHS.native("to_binary", INT)
def to_binary(x):
    return _radix_str(x, "b")


# -- bit fields -------------------------------------------------------------------
# Positions as Rhai's bit-field package reads them: a negative bit counts from the MSB; a
# position outside the 64 bits is an error; a count is clamped to the bits left (a count
# <= 0 reads 0 and writes nothing); a range ``a..b`` starts at ``max(a, 0)``.
def _bit(i):
    j = i + 64 if i < 0 else i
    if not 0 <= j < 64:
        raise ErrorBitFieldBounds(f"bit-field index {i} out of bounds: only 64 bits in bit-field")
    return j


def _span(start, n):
    j = _bit(start)
    return j, min(n, 64 - j)


def _range(r):
    start = max(r.start, 0)
    if r.inclusive:
        return start, max(r.end, start - 1) - start + 1
    return start, max(r.end, start) - start


def _signed(r):
    r &= (1 << 64) - 1
    return r - (1 << 64) if r > INT_MAX else r


@MATHS.native("get_bit", INT, INT)
def get_bit(x, i):
    return bool((x >> _bit(i)) & 1)


@MATHS.native("set_bit", INT, INT, BOOL, strmut=True)
def set_bit(x, i, on):
    bit = 1 << _bit(i)
    return _signed(x | bit if on else x & ~bit), None


@MATHS.native("get_bits", INT, INT, INT)
def get_bits(x, start, n):
    if n <= 0:
        return 0
    start, n = _span(start, n)
    return x if n == 64 else (x >> start) & ((1 << n) - 1)


@MATHS.native("get_bits", INT, RNG)
def get_bits_range(x, r):
    return get_bits(x, *_range(r))


@MATHS.native("set_bits", INT, INT, INT, INT, strmut=True)
def set_bits(x, start, n, value):
    if n <= 0:
        return x, None
    start, n = _span(start, n)
    mask = ((1 << n) - 1) << start
    return _signed((x & ~mask) | ((value << start) & mask)), None


@MATHS.native("set_bits", INT, RNG, INT, strmut=True)
def set_bits_range(x, r, value):
    return set_bits(x, *_range(r), value)


@MATHS.native("bits", INT, INT, INT)
def bits(x, start, n):
    """The bits from ``start`` on (at most ``n``), lowest first, as booleans."""
    start, n = _span(start, max(n, 0))
    return [bool((x >> i) & 1) for i in range(start, start + n)]


@MATHS.native("bits", INT, INT)
def bits_from(x, start):
    return bits(x, start, 64)


@MATHS.native("bits", INT, RNG)
def bits_range(x, r):
    return bits(x, *_range(r))


@MATHS.native("bits", INT)
def all_bits(x):
    return bits(x, 0, 64)
