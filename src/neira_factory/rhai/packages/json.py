"""JSON package: parse_json and to_json (function pointers serialise as their
name, or [name, curried args...]).

``to_json`` is built within the string limit as it goes (see ``runtime.text``).
``parse_json`` refuses, before parsing, a text with more elements and entries than
the array and map limits allow together (each comma outside a string separates
two of them), so the values it builds stay about as large as the limits.
"""

from __future__ import annotations

import json as _json
import re

from ..errors import ErrorDataTooLarge, ErrorRuntime
from ..runtime.text import to_json
from ..runtime.values import INT_MAX, INT_MIN
from .package import ANY, Package
from .types import STR

JSON = Package("json")

STRING = re.compile('"[^"]*"')  # a JSON string once its escaped backslashes and quotes are gone
LONG_INT = re.compile(r"\d{19}")


@JSON.native("to_json", ANY, ctx=True)
def to_json_(c, d, v):
    return to_json(c, v)


def _int(text):
    """An integer literal: beyond i64 it becomes a float, as in Rhai."""
    v = int(text)
    return v if INT_MIN <= v <= INT_MAX else float(v)


@JSON.native("parse_json", STR, ctx=True)
def parse_json(c, d, s):
    c.charge_bulk(len(s))
    limits = c.limits
    if limits.max_array_size or limits.max_map_size:
        commas = STRING.sub("", s.replace("\\\\", "").replace('\\"', "")).count(",")
        if commas > (limits.max_array_size or commas) + (limits.max_map_size or commas):
            raise ErrorDataTooLarge("size of array too large")
    try:
        return _json.loads(s, parse_constant=lambda name: None,
                           parse_int=_int if LONG_INT.search(s) else None)
    except ValueError as e:
        raise ErrorRuntime(f"invalid JSON: {e}", value=f"invalid JSON: {e}") from None
