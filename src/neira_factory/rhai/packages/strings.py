"""String and char package.  Mutating methods (``strmut``) return
``(new_string, result)`` so the caller can write the new string back."""

from __future__ import annotations

from ..errors import ErrorDataTooLarge
from ..runtime.access import span, start_of, tail_from, within
from ..runtime.values import Char, to_display
from .registry import ANY, native
from .types import ARR, CHR, INT, RNG, STR, TXT

MAX_PAD = 1 << 24


native("len", STR, getter=True)(len)


@native("is_empty", STR, getter=True)
def is_empty(s):
    return not s


@native("contains", STR, TXT)
def contains(s, sub):
    return sub in s


@native("starts_with", STR, TXT)
def starts_with(s, p):
    return s.startswith(p)


@native("ends_with", STR, TXT)
def ends_with(s, p):
    return s.endswith(p)


@native("index_of", STR, TXT)
def index_of(s, sub):
    return s.find(sub)


@native("index_of", STR, TXT, INT)
def index_of_from(s, sub, start):
    if start >= len(s):
        return -1
    return s.find(sub, start_of(s, start))


native("sub_string", STR, INT)(tail_from)
native("sub_string", STR, INT, INT)(span)
native("sub_string", STR, RNG)(within)


def _split_empty(s, n=None):
    """Rust's ``str::splitn(n, "")``: an empty match before every char and at the end."""
    if n is None or n >= len(s) + 2:
        return ["", *s, ""]
    if n < 2:
        return [s]
    return ["", *s[: n - 2], s[n - 2 :]]


def _segments(n):
    # Rhai: fewer than one segment means one (the whole string).
    return max(n, 1)


@native("split", STR, TXT)
def split(s, sep):
    return s.split(sep) if sep else _split_empty(s)


@native("split", STR, TXT, INT)
def split_n(s, sep, n):
    n = _segments(n)
    return s.split(sep, n - 1) if sep else _split_empty(s, n)


@native("split", STR)
def split_ws(s):
    return s.split()


@native("split", STR, INT)
def split_at(s, i):
    a = start_of(s, i)
    return [s[:a], s[a:]]


@native("split_rev", STR, TXT)
def split_rev(s, sep):
    return (s.split(sep) if sep else _split_empty(s))[::-1]


@native("split_rev", STR, TXT, INT)
def split_rev_n(s, sep, n):
    n = _segments(n)
    if sep:
        return s.rsplit(sep, n - 1)[::-1]
    # rsplitn(n, "") mirrors splitn(n, "") on the reversed string.
    return [part[::-1] for part in _split_empty(s[::-1], n)]


@native("to_upper", STR)
def to_upper(s):
    return s.upper()


@native("to_lower", STR)
def to_lower(s):
    return s.lower()


@native("to_upper", CHR)
def char_upper(ch):
    u = ch.upper()
    return Char(u) if len(u) == 1 else ch


@native("to_lower", CHR)
def char_lower(ch):
    u = ch.lower()
    return Char(u) if len(u) == 1 else ch


@native("chars", STR)
def chars(s):
    return [Char(ch) for ch in s]


@native("chars", STR, RNG)
def chars_range(s, r):
    return [Char(ch) for ch in within(s, r)]


@native("bytes", STR, getter=True)
def utf8_len(s):
    return len(s.encode("utf-8", "surrogatepass"))


@native("get", STR, INT)
def get_char(s, i):
    n = len(s)
    j = i + n if i < 0 else i
    return Char(s[j]) if 0 <= j < n else None


@native("to_chars", STR)
def to_chars(s):
    return [Char(ch) for ch in s]


@native("to_int", CHR)
def char_code(ch):
    return ord(ch)


@native("to_char", INT)
def to_char(i):
    return Char(chr(i)) if 0 <= i <= 0x10FFFF else Char("\ufffd")


@native("is_alphabetic", CHR)
def is_alphabetic(ch):
    return ch.isalpha()


@native("is_digit", CHR)
def is_digit(ch):
    return ch.isdigit()


@native("is_whitespace", CHR)
def is_whitespace(ch):
    return ch.isspace()


# -- mutating methods: return (new_string, result) ----------------------------
@native("replace", STR, TXT, TXT, strmut=True)
def replace(s, find, sub):
    return s.replace(find, sub), None


@native("trim", STR, strmut=True)
def trim(s):
    return s.strip(), None


@native("trim_start", STR, strmut=True)
def trim_start(s):
    return s.lstrip(), None


@native("trim_end", STR, strmut=True)
def trim_end(s):
    return s.rstrip(), None


@native("make_upper", STR, strmut=True)
def make_upper(s):
    return s.upper(), None


@native("make_lower", STR, strmut=True)
def make_lower(s):
    return s.lower(), None


@native("clear", STR, strmut=True)
def clear(s):
    return "", None


@native("truncate", STR, INT, strmut=True)
def truncate(s, n):
    return s[:max(n, 0)], None


@native("pad", STR, INT, TXT, strmut=True, ctx=True)
def pad(c, d, s, n, fill):
    if n > MAX_PAD and not c.limits.max_string_size:
        raise ErrorDataTooLarge("length of string too large")
    if len(s) >= n or not fill:
        return s, None
    need = n - len(s)
    out = s + (fill * (need // len(fill) + 1))[:need]
    return c.check_size(out), None


@native("append", STR, ANY, strmut=True, aliases=("push", "+="))
def append(s, item):
    return s + to_display(item), None


@native("remove", STR, TXT, strmut=True)
def remove(s, sub):
    return s.replace(sub, "", 1), None


@native("pop", STR, strmut=True)
def pop(s):
    return (s[:-1], Char(s[-1])) if s else (s, None)


@native("pop", STR, INT, strmut=True)
def pop_n(s, n):
    if n <= 0:
        return s, ""
    if n >= len(s):
        return "", s
    return s[:-n], s[-n:]


@native("crop", STR, INT, strmut=True)
def crop_from(s, start):
    return tail_from(s, start), None


@native("crop", STR, INT, INT, strmut=True)
def crop(s, start, length):
    return span(s, start, length), None


@native("crop", STR, RNG, strmut=True)
def crop_range(s, r):
    return within(s, r), None


@native("reverse", STR, strmut=True)
def reverse(s):
    return s[::-1], None


@native("join", ARR, TXT)
def join(arr, sep):
    return sep.join(to_display(x) for x in arr)

