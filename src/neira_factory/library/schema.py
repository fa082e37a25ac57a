"""The small JSON Schema subset the library speaks, and link compatibility.

Each implementation declares its input and output as JSON Schema. Only a
subset is used, and only that subset is checked here: ``type`` (a name or a
list of names), ``properties``, ``required``, ``anyOf`` of ``required``
alternatives ("either ``text`` or ``normalized``"), ``maxLength`` and
``items``. ``problems`` checks one value against a schema; ``link_problems``
says why the output of one node cannot feed the input of the next.
"""

from __future__ import annotations

from typing import Any

ANY_OBJECT: dict = {"type": "object"}  # free JSON object: checked only at run time

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "object": (dict,),
    "array": (list,),
    "boolean": (bool,),
    "null": (type(None),),
    "number": (int, float),
    "integer": (int,),
}


def _type_names(schema: dict) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        return []
    return [declared] if isinstance(declared, str) else list(declared)


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("number", "integer"):
        return False
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _PY_TYPES[name])


def problems(value: Any, schema: dict, where: str = "input") -> list[str]:
    """Return what is wrong with ``value`` under ``schema`` (empty when valid)."""
    names = _type_names(schema)
    if names and not any(_is_type(value, name) for name in names):
        return [f"{where}: expected {' or '.join(names)}, got {type(value).__name__}"]
    found: list[str] = []
    if isinstance(value, str) and len(value) > schema.get("maxLength", len(value)):
        found.append(f"{where}: longer than {schema['maxLength']} characters")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += problems(item, schema["items"], f"{where}[{index}]")
    if isinstance(value, dict):
        found += [f"{where}.{key}: required" for key in schema.get("required", []) if key not in value]
        alternatives = [alt["required"] for alt in schema.get("anyOf", []) if "required" in alt]
        if alternatives and not any(all(key in value for key in alt) for alt in alternatives):
            options = " or ".join("+".join(alt) for alt in alternatives)
            found.append(f"{where}: one of {options} is required")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                found += problems(value[key], sub, f"{where}.{key}")
    return found


def link_problems(output_schema: dict, input_schema: dict) -> list[str]:
    """Say why a producer with ``output_schema`` cannot feed ``input_schema``.

    A required input field must be an output property (for ``anyOf``, every
    field of at least one alternative), and a field both sides type must have
    overlapping types. An output that declares no properties (free JSON)
    is accepted: it can only be checked at run time.
    """
    produced = output_schema.get("properties")
    if produced is None:
        return []
    found = [f"input field {key!r} is not produced" for key in input_schema.get("required", []) if key not in produced]
    alternatives = [alt["required"] for alt in input_schema.get("anyOf", []) if "required" in alt]
    if alternatives and not any(all(key in produced for key in alt) for alt in alternatives):
        found.append("none of " + ", ".join("+".join(alt) for alt in alternatives) + " is produced")
    for key, wanted in input_schema.get("properties", {}).items():
        have, need = _type_names(produced.get(key, {})), _type_names(wanted)
        if have and need and not _types_overlap(have, need):
            found.append(f"field {key!r}: produced as {'/'.join(have)}, expected {'/'.join(need)}")
    return found


def _types_overlap(have: list[str], need: list[str]) -> bool:
    widened = set(need) | ({"integer"} if "number" in need else set())
    return bool(set(have) & widened)
