"""Plain JSON values: what may cross the factory's boundaries (request bodies, node inputs and outputs).

JSON text can hold values the factory cannot carry any further, so they are refused where they come in:

* nesting deeper than `MAX_DEPTH` — pydantic's JSON parser and serializer stop at about 200 levels, and a
  stored template is read back with that parser, so a deeper value would be accepted once and break later;
* lone surrogates (the escape `"\\ud800"`): valid JSON text (RFC 8259 §8.2), not encodable as UTF-8;
* `NaN` / `Infinity`, which Python's `json` reads although they are not JSON, and non-finite floats;
* integers longer than Python's conversion limit (4300 digits), and text that is not UTF-8.

`parse` reads JSON text under these rules; `problem` says what is wrong with a Python value, if anything.

A value built in memory can share references (`[s, s, s]` holds one string three times), so what it costs
to serialise can be far more than the memory it takes: `serialized_size` counts it the way JSON text would,
every reference each time, and stops as soon as the count passes a cap — so measuring an 800 MB value
against a 4 MiB cap costs about what measuring 4 MiB does. `problem` scans each long string object once,
however often it is referenced.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 100  # levels of arrays/objects; well inside pydantic's ~200
SURROGATE = re.compile("[\ud800-\udfff]")
SCAN_ONCE = 256  # a string at least this long is scanned for surrogates once per `problem`, however shared
FLOAT_CHARS = 24  # the longest repr of a float ("-2.2250738585072014e-308")
SCALAR_CHARS = {type(None): 4, bool: 5, float: FLOAT_CHARS}


class NotJSON(ValueError):
    """Why a text or value is not plain JSON; `path` names where (`body.input.text`), `pos` the character."""

    def __init__(self, reason: str, path: str, pos: int | None = None):
        super().__init__(f"{path}: {reason}")
        self.reason, self.path, self.pos = reason, path, pos


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # json.loads given a keyword builds one per call


def parse(raw: bytes | str, root: str) -> Any:
    """The JSON value of `raw`; NotJSON when it is not UTF-8, not JSON, or holds what `problem` refuses."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotJSON(f"not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r})", root,
                          exc.start) from None
    try:
        if raw.startswith("\ufeff"):  # what json.loads refuses before it decodes
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", raw, 0)
        value = _DECODER.decode(raw)
    except json.JSONDecodeError as exc:
        raise NotJSON(f"malformed JSON at character {exc.pos}: {exc.msg}", root, exc.pos) from None
    except RecursionError:
        raise NotJSON(f"nested deeper than {MAX_DEPTH} levels", root) from None
    except ValueError as exc:  # NaN/Infinity, or an integer past the digit limit
        raise NotJSON(str(exc), root) from None
    why = problem(value, root)
    if why is not None:
        raise NotJSON(why[1], why[0])
    return value


def problem(value: Any, root: str, describe: Callable[[Any], str] | None = None) -> tuple[str, str] | None:
    """(path, what is wrong) for the first thing in `value` that is not plain JSON, or None. Paths are
    dotted from `root` (which may be "": `metadata.x`).

    Lists and tuples are arrays, dicts with string keys objects. `describe` names a value of another
    type ("a function pointer"); without it, the type's name is used."""
    # each entry: (link, value, depth); a link is (parent's link, key), None at the root: the path is spelled
    # out only for what is wrong
    stack: list[tuple[Any, Any, int]] = [(None, value, 0)]
    scanned: set[int] = set()  # ids of the long strings scanned so far (all alive: `value` holds them)
    while stack:
        link, v, depth = stack.pop()
        t = type(v)
        if v is None or t is bool or t is int:
            continue
        if t is str:
            if _surrogate(v, scanned):
                return _path(root, link), "a string with a lone surrogate (not encodable as UTF-8)"
        elif t is float:
            if not math.isfinite(v):
                return _path(root, link), f"a non-finite number ({v})"
        elif t is dict or t is list or t is tuple:
            if depth >= MAX_DEPTH:
                return _path(root, link), f"nested deeper than {MAX_DEPTH} levels"
            if t is dict:
                for k, x in v.items():
                    if type(k) is not str or _surrogate(k, scanned):
                        return _path(root, link), f"a key that is not a plain string ({k!r})"
                    stack.append(((link, k), x, depth + 1))
            else:
                stack.extend(((link, i), x, depth + 1) for i, x in enumerate(v))
        else:
            return _path(root, link), describe(v) if describe else f"a {t.__name__}"
    return None


def _path(root: str, link: Any) -> str:
    """The dotted path of a `problem` stack link, from `root`."""
    keys: list[str] = []
    while link is not None:
        link, key = link
        keys.append(str(key))
    return ".".join([root, *reversed(keys)] if root else reversed(keys))


def _surrogate(text: str, scanned: set[int]) -> bool:
    """Whether `text` holds a lone surrogate; a long string whose id is in `scanned` was found clean."""
    if text.isascii():
        return False
    if len(text) >= SCAN_ONCE:
        if id(text) in scanned:
            return False
        scanned.add(id(text))
    return SURROGATE.search(text) is not None


class _Measured(tuple):
    """Stack marker: every part of the container (first) has been counted since the total was (second)."""


def serialized_size(value: Any, cap: int, known: dict[int, tuple[int, Any]] | None = None) -> int:
    """About how many characters `value` takes as compact JSON text, every shared reference counted each
    time: a string its length + 2, a number its digits (a float 24), each array or object its brackets and
    commas, each key its length + 3. Escapes and UTF-8 bytes beyond one per character are not counted.

    Stops as soon as the count passes `cap` and returns it (> cap), having walked no more than that. Sizes
    of containers already measured are taken from `known` (id -> (size, the container), which keeps it
    alive so its id stays its own) and every container measured whole is added to it."""
    known = {} if known is None else known
    total = 0
    stack: list[Any] = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is str:
            total += len(v) + 2
        elif t is int:
            total += v.bit_length() // 3 + 2
        elif t is _Measured:
            known[id(v[0])] = (total - v[1], v[0])
        elif t is list or t is tuple or t is dict:
            seen = known.get(id(v))
            if seen is not None:
                total += seen[0]
            else:  # its parts are counted as they come off the stack, then the marker records its size
                stack.append(_Measured((v, total)))
                stack.extend(v.values() if t is dict else v)
                total += len(v) + 2 + (3 * len(v) + _keys_size(v) if t is dict else 0)
        else:
            total += SCALAR_CHARS.get(t, FLOAT_CHARS)
        if total > cap:
            return total
    return total


def flat_size(value: Any) -> int | None:
    """`serialized_size` of a value of the commonest shape, an object of plain scalars (or a string), found plain
    JSON in the same pass (what `problem` would find nothing in); None for any other shape or for anything
    `problem` would name: the full walks then measure and check it."""
    t = type(value)
    if t is str:
        return len(value) + 2 if value.isascii() or SURROGATE.search(value) is None else None
    if t is not dict:
        return None
    total = 4 * len(value) + 2
    for k, v in value.items():
        t = type(v)
        if type(k) is not str or not k.isascii():
            return None
        if t is str:
            if not v.isascii():
                return None
            total += len(k) + len(v) + 2
        elif t is int:
            total += len(k) + v.bit_length() // 3 + 2
        elif v is None or t is bool or (t is float and math.isfinite(v)):
            total += len(k) + SCALAR_CHARS[t]
        else:
            return None
    return total


def _keys_size(obj: dict) -> int:
    try:
        return sum(map(len, obj))
    except TypeError:  # a key that is not a string: `problem` names it
        return len(obj) * FLOAT_CHARS
