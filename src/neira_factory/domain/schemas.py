"""Does one JSON Schema fit another? Static io compatibility of nodes, no I/O.

``schema_fits(produced, expected)`` answers "is every value valid under
``produced`` acceptable to ``expected``?", e.g. one node's output schema feeding
another's input schema. It speaks a small subset of JSON Schema and is sound
within it, with one documented leniency:

* ``{}`` (or ``true``) means anything; ``false`` means nothing.
* ``type``: a name or a list of names; ``integer`` is a kind of ``number``.
  A schema without ``type`` gets one from its keywords: ``const``/``enum``
  give the types of their values, ``properties``/``required``/
  ``additionalProperties`` give ``object``, ``items`` gives ``array``;
  otherwise it may be anything, which does not fit an expected type.
* ``enum``/``const``: every value produced must be allowed.
* objects: properties both sides declare are compared recursively; a property
  ``produced`` declares and ``expected`` forbids (``additionalProperties:
  false``) or constrains through an ``additionalProperties`` schema is checked.
* arrays: ``items`` (one schema for all items) recursively.

The leniency: a field is taken as present when ``produced`` declares it (in
``properties``, required or not, or in ``required``), and as *possibly* present
when ``produced`` declares no fields at all (an open object such as
``{"type": "object"}``). So a required field of ``expected`` is reported missing
only when ``produced`` declares fields without it (or closes itself with
``additionalProperties: false``). A field ``produced`` does not declare is not compared either: its
presence and type are left to run-time validation. Keywords outside the subset
(``minimum``, ``maxLength``, ``pattern``, ``format``, ``anyOf``, …) are not
compared.

``signature(schema)`` is a cheap key for indexes; ``signatures_compatible`` on two
keys (taken apart by ``parse_signature``) is a necessary condition of
``schema_fits``: when it is false the schemas cannot fit, so an index may skip
them without calling ``schema_fits``.
"""
from __future__ import annotations

from typing import Any, NamedTuple

_TYPES_OF_PY = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
                (type(None), "null"), (list, "array"), (dict, "object"))
_OBJECT_KEYWORDS = ("properties", "required", "additionalProperties")
_NOTHING = "false"  # signature of the schema `false`, which produces nothing and so fits anything


def schema_fits(produced: dict | bool, expected: dict | bool) -> list[str]:
    """Why values valid under ``produced`` may be rejected by ``expected``; empty when they fit."""
    return _fits(produced, expected, "")


def signature(schema: dict | bool) -> frozenset[str]:
    """Index key of a schema: ``type:T`` per top-level type, ``prop:P`` per declared property, ``req:R`` per required one."""
    schema = _as_schema(schema)
    if schema is None:
        return frozenset({_NOTHING})
    types = _types(schema) or ()
    return frozenset(
        [f"type:{t}" for t in types]
        + [f"prop:{p}" for p in _properties(schema)]
        + [f"req:{r}" for r in schema.get("required", ())]
    )


class SignatureParts(NamedTuple):
    """A signature taken apart once, so that `signatures_compatible` is a few set operations."""

    types: frozenset[str]  # declared or implied top-level types; empty: any
    accepts: frozenset[str]  # the types values may have to be accepted (`number` takes `integer` too)
    present: frozenset[str]  # fields declared (in properties or required)
    required: frozenset[str]
    nothing: bool  # the schema `false`


def parse_signature(sig: frozenset[str]) -> SignatureParts:
    """Take a `signature` apart (once per schema, where an index stores it)."""
    types = _tokens(sig, "type:")
    accepts = types | {"integer"} if "number" in types else types
    required = _tokens(sig, "req:")
    return SignatureParts(types, accepts, _tokens(sig, "prop:") | required, required, _NOTHING in sig)


def signatures_compatible(produced: SignatureParts, expected: SignatureParts) -> bool:
    """False only when schemas with these signatures cannot fit (the type or a required field clashes)."""
    if produced.nothing:
        return True
    if expected.types and not (produced.types and produced.types <= expected.accepts):
        return False
    may_be_object = (not produced.types or "object" in produced.types) and (not expected.types or "object" in expected.types)
    return not (may_be_object and produced.present and not expected.required <= produced.present)


def _fits(produced: Any, expected: Any, path: str) -> list[str]:
    produced, expected = _as_schema(produced), _as_schema(expected)
    if produced is None or expected == {}:
        return []
    if expected is None:
        return [f"{_where(path)}: not accepted"]
    p_types, e_types = _types(produced), _types(expected)
    if e_types is not None:
        if p_types is None:
            return [f"{_where(path)}: produces any type, needs {_names(e_types)}"]
        wrong = [t for t in p_types if not _accepts(e_types, t)]
        if wrong:
            return [f"{_where(path)}: produces {_names(wrong)}, needs {_names(e_types)}"]
    found = _value_problems(produced, expected, path)
    if _both_may_be(p_types, e_types, "object"):
        found += _object_problems(produced, expected, path)
    if _both_may_be(p_types, e_types, "array") and "items" in expected:
        found += _fits(produced.get("items", {}), expected["items"], f"{path}[]")
    return found


def _required_choices(expected: dict) -> list[list[str]]:
    """`anyOf` / `oneOf` alternatives that only name required fields ("text or normalized")."""
    found = []
    for key in ("anyOf", "oneOf"):
        for alternative in expected.get(key, ()):
            if isinstance(alternative, dict) and set(alternative) == {"required"}:
                found.append(list(alternative["required"]))
    return found


def _value_problems(produced: dict, expected: dict, path: str) -> list[str]:
    allowed = _values(expected)
    if allowed is None:
        return []
    values = _values(produced)
    if values is None:
        return [f"{_where(path)}: produces any value, needs one of {allowed!r}"]
    return [f"{_where(path)}: produces {v!r}, needs one of {allowed!r}" for v in values if not _member(v, allowed)]


def _object_problems(produced: dict, expected: dict, path: str) -> list[str]:
    p_props, e_props = _properties(produced), _properties(expected)
    p_extra, e_extra = produced.get("additionalProperties", True), expected.get("additionalProperties", True)
    present = {*p_props, *produced.get("required", ())}
    declares = bool(present) or p_extra is False
    found = [f"missing required field {_join(path, r)!r}"
             for r in expected.get("required", ()) if declares and r not in present]
    choices = _required_choices(expected)
    if declares and choices and not any(set(choice) <= present for choice in choices):
        options = " or ".join("+".join(repr(_join(path, r)) for r in choice) for choice in choices)
        found.append(f"missing required field: needs {options}")
    for name, sub in e_props.items():
        if name in p_props:
            found += _fits(p_props[name], sub, _join(path, name))
        elif isinstance(p_extra, dict):
            found += _fits(p_extra, sub, _join(path, name))
    for name, sub in p_props.items():
        if name not in e_props and e_extra is not True:
            found += _fits(sub, e_extra, _join(path, name))
    return found


def _as_schema(schema: Any) -> dict | None:
    """``true`` → ``{}`` (anything), ``false`` → ``None`` (nothing)."""
    if schema is True:
        return {}
    if schema is False:
        return None
    return schema


def _types(schema: dict) -> list[str] | None:
    """Declared or implied top-level types; None when the schema allows any type."""
    declared = schema.get("type")
    if declared is not None:
        return [declared] if isinstance(declared, str) else list(declared)
    values = _values(schema)
    if values is not None:
        return list(dict.fromkeys(_type_of(v) for v in values))
    if any(k in schema for k in _OBJECT_KEYWORDS):
        return ["object"]
    if "items" in schema:
        return ["array"]
    return None


def _values(schema: dict) -> list | None:
    if "const" in schema:
        return [schema["const"]]
    return list(schema["enum"]) if "enum" in schema else None


def _type_of(value: Any) -> str:
    return next(name for py, name in _TYPES_OF_PY if isinstance(value, py))


def _member(value: Any, allowed: list) -> bool:
    """JSON equality: ``True`` is not ``1``."""
    return any(value == a and type(value) is type(a) or _is_num(value) and _is_num(a) and value == a for a in allowed)


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _accepts(expected_types, produced_type: str) -> bool:
    return produced_type in expected_types or (produced_type == "integer" and "number" in expected_types)


def _both_may_be(p_types: list[str] | None, e_types: list[str] | None, name: str) -> bool:
    return (p_types is None or name in p_types) and (e_types is None or name in e_types)


def _properties(schema: dict) -> dict:
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}


def _tokens(sig: frozenset[str], prefix: str) -> frozenset[str]:
    return frozenset(token[len(prefix):] for token in sig if token.startswith(prefix))


def _names(types) -> str:
    return " or ".join(types)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _where(path: str) -> str:
    return f"field {path!r}" if path else "top level"
