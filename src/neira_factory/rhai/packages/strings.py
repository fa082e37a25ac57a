"""String and char package.  Mutating methods (``strmut``) return
``(new_string, result)`` so the caller can write the new string back.

Scanning and copying strings is charged by their characters (``cost``); a result
that can be many times longer than the arguments (``pad``, ``replace``, ``split``
into many parts, ``chars``, ``join``, ``append``) is sized before it is built."""

from __future__ import annotations

from ..errors import ErrorDataTooLarge
from ..runtime.access import span, start_of, tail_from, within
from ..runtime.text import joined
from ..runtime.values import Char
from .package import ANY, ARGS, RESULT, Package
from .types import ARR, CHR, INT, RNG, STR, TXT

STRINGS = Package("strings")

MAX_PAD = 1 << 24


STRINGS.native("len", STR, getter=True)(len)


@STRINGS.native("is_empty", STR, getter=True)
def is_empty(s):
    return not s


@STRINGS.native("contains", STR, TXT, cost=ARGS)
def contains(s, sub):
    return sub in s


@STRINGS.native("starts_with", STR, TXT, ctx=True)
def starts_with(c, d, s, p):
    c.charge_bulk(len(p))
    return s.startswith(p)


@STRINGS.native("ends_with", STR, TXT, ctx=True)
def ends_with(c, d, s, p):
    c.charge_bulk(len(p))
    return s.endswith(p)


@STRINGS.native("index_of", STR, TXT, cost=ARGS)
def index_of(s, sub):
    return s.find(sub)


@STRINGS.native("index_of", STR, TXT, INT, cost=ARGS)
def index_of_from(s, sub, start):
    if start >= len(s):
        return -1
    return s.find(sub, start_of(s, start))


STRINGS.native("sub_string", STR, INT, cost=RESULT)(tail_from)
STRINGS.native("sub_string", STR, INT, INT, cost=RESULT)(span)
STRINGS.native("sub_string", STR, RNG, cost=RESULT)(within)


def _split_empty(c, s, n=None):
    """Rust's ``str::splitn(n, "")``: an empty match before every char and at the end."""
    if n is None or n >= len(s) + 2:
        return ["", *_each(c, s), ""]
    if n < 2:
        return [s]
    return ["", *_each(c, s[: n - 2]), s[n - 2 :]]


def _each(c, s, kind=str):
    """The characters of ``s`` as an array of one-character strings or (``kind``) chars,
    sized before it is built."""
    c.fits(items=len(s))
    out = []
    for lo, hi in c.spans(len(s)):
        out += s[lo:hi] if kind is str else map(kind, s[lo:hi])
    return out


def _segments(n):
    # Rhai: fewer than one segment means one (the whole string).
    return max(n, 1)


def _parts(c, cut, s, sep, n=None):
    """``cut(s, sep, n - 1)`` (``str.split`` or ``str.rsplit``), stopped one part past the
    array limit so that no more parts than that are ever made."""
    lim = c.limits.max_array_size
    most = n - 1 if n is not None else -1
    if lim and not 0 <= most < lim:
        most = lim
    parts = cut(s, sep, most)
    c.fits(items=len(parts))
    c.charge_bulk(len(parts) + len(s))
    return parts


@STRINGS.native("split", STR, TXT, ctx=True)
def split(c, d, s, sep):
    return _parts(c, str.split, s, sep) if sep else _split_empty(c, s)


@STRINGS.native("split", STR, TXT, INT, ctx=True)
def split_n(c, d, s, sep, n):
    n = _segments(n)
    return _parts(c, str.split, s, sep, n) if sep else _split_empty(c, s, n)


@STRINGS.native("split", STR, ctx=True)
def split_ws(c, d, s):
    return _parts(c, str.split, s, None)


@STRINGS.native("split", STR, INT, cost=ARGS)
def split_at(s, i):
    a = start_of(s, i)
    return [s[:a], s[a:]]


@STRINGS.native("split_rev", STR, TXT, ctx=True)
def split_rev(c, d, s, sep):
    return (_parts(c, str.split, s, sep) if sep else _split_empty(c, s))[::-1]


@STRINGS.native("split_rev", STR, TXT, INT, ctx=True)
def split_rev_n(c, d, s, sep, n):
    n = _segments(n)
    if sep:
        return _parts(c, str.rsplit, s, sep, n)[::-1]
    # rsplitn(n, "") mirrors splitn(n, "") on the reversed string.
    return [part[::-1] for part in _split_empty(c, s[::-1], n)]


@STRINGS.native("to_upper", STR, cost=RESULT)
def to_upper(s):
    return s.upper()


@STRINGS.native("to_lower", STR, cost=RESULT)
def to_lower(s):
    return s.lower()


@STRINGS.native("to_upper", CHR)
def char_upper(ch):
    u = ch.upper()
    return Char(u) if len(u) == 1 else ch


@STRINGS.native("to_lower", CHR)
def char_lower(ch):
    u = ch.lower()
    return Char(u) if len(u) == 1 else ch


@STRINGS.native("chars", STR, ctx=True, aliases=("to_chars",))
def chars(c, d, s):
    return _each(c, s, Char)


@STRINGS.native("chars", STR, RNG, ctx=True)
def chars_range(c, d, s, r):
    return _each(c, within(s, r), Char)


@STRINGS.native("bytes", STR, getter=True, cost=ARGS)
def utf8_len(s):
    if s.isascii():
        return len(s)
    return len(s.encode("utf-8", "surrogatepass"))


@STRINGS.native("get", STR, INT)
def get_char(s, i):
    n = len(s)
    j = i + n if i < 0 else i
    return Char(s[j]) if 0 <= j < n else None


@STRINGS.native("to_int", CHR)
def char_code(ch):
    return ord(ch)


@STRINGS.native("to_char", INT)
def to_char(i):
    return Char(chr(i)) if 0 <= i <= 0x10FFFF else Char("\ufffd")


@STRINGS.native("is_alphabetic", CHR)
def is_alphabetic(ch):
    return ch.isalpha()


@STRINGS.native("is_digit", CHR)
def is_digit(ch):
    return ch.isdigit()


@STRINGS.native("is_whitespace", CHR)
def is_whitespace(ch):
    return ch.isspace()


# -- mutating methods: return (new_string, result) ----------------------------
@STRINGS.native("replace", STR, TXT, TXT, strmut=True, ctx=True)
def replace(c, d, s, find, sub):
    """Sized from the number of matches before the new string is built."""
    c.charge_bulk(len(s))
    if len(sub) > len(find):
        c.fits(chars=len(s) + s.count(find) * (len(sub) - len(find)))
    out = s.replace(find, sub)
    c.charge_bulk(len(out))
    return out, None


@STRINGS.native("trim", STR, strmut=True, cost=RESULT)
def trim(s):
    return s.strip(), None


@STRINGS.native("trim_start", STR, strmut=True, cost=RESULT)
def trim_start(s):
    return s.lstrip(), None


@STRINGS.native("trim_end", STR, strmut=True, cost=RESULT)
def trim_end(s):
    return s.rstrip(), None


@STRINGS.native("make_upper", STR, strmut=True, cost=RESULT)
def make_upper(s):
    return s.upper(), None


@STRINGS.native("make_lower", STR, strmut=True, cost=RESULT)
def make_lower(s):
    return s.lower(), None


@STRINGS.native("clear", STR, strmut=True)
def clear(s):
    return "", None


@STRINGS.native("truncate", STR, INT, strmut=True, cost=RESULT)
def truncate(s, n):
    return s[:max(n, 0)], None


@STRINGS.native("pad", STR, INT, TXT, strmut=True, ctx=True)
def pad(c, d, s, n, fill):
    if len(s) >= n or not fill:
        return s, None
    if n > MAX_PAD and not c.limits.max_string_size:
        raise ErrorDataTooLarge("length of string too large")
    c.fits(chars=n)
    c.charge_bulk(n)
    need = n - len(s)
    return s + (fill * (need // len(fill) + 1))[:need], None


@STRINGS.native("append", STR, ANY, strmut=True, ctx=True, aliases=("push", "+="))
def append(c, d, s, item):
    return joined(c, (s, item)), None


@STRINGS.native("remove", STR, TXT, strmut=True, cost=RESULT)
def remove(s, sub):
    return s.replace(sub, "", 1), None


@STRINGS.native("pop", STR, strmut=True, cost=RESULT)
def pop(s):
    return (s[:-1], Char(s[-1])) if s else (s, None)


@STRINGS.native("pop", STR, INT, strmut=True, cost=RESULT)
def pop_n(s, n):
    if n <= 0:
        return s, ""
    if n >= len(s):
        return "", s
    return s[:-n], s[-n:]


@STRINGS.native("crop", STR, INT, strmut=True, cost=RESULT)
def crop_from(s, start):
    return tail_from(s, start), None


@STRINGS.native("crop", STR, INT, INT, strmut=True, cost=RESULT)
def crop(s, start, length):
    return span(s, start, length), None


@STRINGS.native("crop", STR, RNG, strmut=True, cost=RESULT)
def crop_range(s, r):
    return within(s, r), None


@STRINGS.native("reverse", STR, strmut=True, cost=RESULT)
def reverse(s):
    return s[::-1], None


@STRINGS.native("join", ARR, TXT, ctx=True)
def join(c, d, arr, sep):
    return joined(c, arr, str(sep))

