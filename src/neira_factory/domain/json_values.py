"""Plain JSON values: what may cross the factory's boundaries (request bodies, node inputs and outputs).

JSON text can hold values the factory cannot carry any further, so they are refused where they come in:

* nesting deeper than `MAX_DEPTH` — pydantic's JSON parser and serializer stop at about 200 levels, and a
  stored template is read back with that parser, so a deeper value would be accepted once and break later;
* lone surrogates (the escape `"\\ud800"`): valid JSON text (RFC 8259 §8.2), not encodable as UTF-8;
* `NaN` / `Infinity`, which Python's `json` reads although they are not JSON, and non-finite floats;
* integers longer than Python's conversion limit (4300 digits), and text that is not UTF-8.

`parse` reads JSON text under these rules; `problem` says what is wrong with a Python value, if anything.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 100  # levels of arrays/objects; well inside pydantic's ~200
SURROGATE = re.compile("[\ud800-\udfff]")


class NotJSON(ValueError):
    """Why a text or value is not plain JSON; `path` names where (`body.input.text`), `pos` the character."""

    def __init__(self, reason: str, path: str, pos: int | None = None):
        super().__init__(f"{path}: {reason}")
        self.reason, self.path, self.pos = reason, path, pos


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(raw: bytes | str, root: str) -> Any:
    """The JSON value of `raw`; NotJSON when it is not UTF-8, not JSON, or holds what `problem` refuses."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotJSON(f"not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r})", root,
                          exc.start) from None
    try:
        value = json.loads(raw, parse_constant=_no_constant)
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
    stack: list[tuple[str, Any, int]] = [(root, value, 0)]
    while stack:
        path, v, depth = stack.pop()
        t = type(v)
        if v is None or t is bool or t is int:
            continue
        if t is str:
            if SURROGATE.search(v):
                return path, "a string with a lone surrogate (not encodable as UTF-8)"
        elif t is float:
            if not math.isfinite(v):
                return path, f"a non-finite number ({v})"
        elif t is dict or t is list or t is tuple:
            if depth >= MAX_DEPTH:
                return path, f"nested deeper than {MAX_DEPTH} levels"
            if t is dict:
                for k, x in v.items():
                    if type(k) is not str or SURROGATE.search(k):
                        return path, f"a key that is not a plain string ({k!r})"
                    stack.append((f"{path}.{k}" if path else k, x, depth + 1))
            else:
                stack.extend((f"{path}.{i}" if path else str(i), x, depth + 1) for i, x in enumerate(v))
        else:
            return path, describe(v) if describe else f"a {t.__name__}"
    return None
