"""JSON package: parse_json and to_json (function pointers serialise as their
name, or [name, curried args...])."""

from __future__ import annotations

import json as _json
import math

from ..errors import ErrorRuntime
from ..runtime.values import INT_MAX, INT_MIN, Char, FnPtr, RhaiRange, to_display
from .registry import ANY, native
from .types import STR


def _jsonable(v):
    t = type(v)
    if t is list:
        return [_jsonable(x) for x in v]
    if t is dict:
        return {k: _jsonable(x) for k, x in v.items()}
    if t is FnPtr:
        return [v.name, *map(_jsonable, v.curry)] if v.curry else v.name
    if t is Char:
        return str(v)
    if t is float and not math.isfinite(v):
        return None
    if t in (RhaiRange, bytearray) or t.__name__ == "Timestamp":
        return to_display(v)
    return v


@native("to_json", ANY)
def to_json(v):
    return _json.dumps(_jsonable(v), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _from_json(v):
    t = type(v)
    if t is int and not INT_MIN <= v <= INT_MAX:
        return float(v)
    if t is list:
        return [_from_json(x) for x in v]
    if t is dict:
        return {k: _from_json(x) for k, x in v.items()}
    return v


@native("parse_json", STR)
def parse_json(s):
    try:
        return _from_json(_json.loads(s, parse_constant=lambda name: None))
    except ValueError as e:
        raise ErrorRuntime(f"invalid JSON: {e}", value=f"invalid JSON: {e}") from None
