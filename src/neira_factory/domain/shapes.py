"""Reading the shapes Neira's clients send: flat template, `{template}`, `{tpl}`, `{spec}`.

All of them mean the same FabricationRequest; pydantic's errors become one
BadInput whose `field` points at the first culprit and `errors` lists them all.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from . import json_values
from .errors import BadInput
from .templates import REQUEST_FIELDS, FabricationRequest, NodeTemplate, OrganTemplate

TEMPLATE_KEYS = ("template", "tpl")


def bad_input_from(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> BadInput:
    """One BadInput from a pydantic error: the first problem leads, all are listed."""
    errors = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in (*prefix, *err["loc"]))
        errors.append({"field": loc or "body", "reason": err["msg"]})
    first = errors[0] if errors else {"field": "body", "reason": "invalid"}
    return BadInput(f"{first['field']}: {first['reason']}", field=first["field"], errors=errors)


def validate(model: type[BaseModel], data: Any, prefix: tuple[str | int, ...] = ()) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_input_from(exc, prefix) from None


def plain_json(data: Any, root: str) -> None:
    """BadInput unless `data` is plain JSON that can be stored and read back (domain/json_values)."""
    found = json_values.problem(data, root)
    if found is not None:
        field = found[0] or "body"
        raise BadInput(f"{field}: {found[1]}", field=field)


def parse_fabrication(body: Any) -> FabricationRequest:
    """Normalise any accepted body shape into a FabricationRequest."""
    if not isinstance(body, dict):
        raise BadInput("body: expected a JSON object", field="body")
    plain_json(body, "")
    body = dict(body)
    request = {k: body.pop(k) for k in REQUEST_FIELDS if k in body}
    backend = body.pop("backend", None)
    prefix: tuple[str, ...] = ()
    if "spec" in body:
        spec = body.pop("spec")
        if not isinstance(spec, dict) or not isinstance(spec.get("template"), dict):
            raise BadInput("spec: expected {backend, template}", field="spec")
        unknown = set(spec) - {"backend", "template"}
        if unknown:
            raise BadInput(f"spec: unknown fields {sorted(unknown)}", field="spec")
        template, prefix = dict(spec["template"]), ("spec", "template")
        if backend is not None and spec.get("backend") not in (None, backend):
            raise BadInput("backend: differs from spec.backend", field="backend")
        backend = spec.get("backend", backend)
    elif any(k in body for k in TEMPLATE_KEYS):
        key = next(k for k in TEMPLATE_KEYS if k in body)
        template, prefix = body.pop(key), (key,)
        if not isinstance(template, dict):
            raise BadInput(f"{key}: expected a template object", field=key)
        template = dict(template)
    else:
        template = body
        body = {}
    if body:
        raise BadInput(f"body: unknown fields {sorted(body)}", field=sorted(body)[0] or "body")
    if backend is not None:
        if template.get("backend") not in (None, backend):
            raise BadInput("backend: differs from the template's own backend", field="backend")
        template["backend"] = backend
    parsed = validate(NodeTemplate, template, prefix)
    return validate(FabricationRequest, {"template": parsed, **request})


def parse_organ(data: Any) -> OrganTemplate:
    if not isinstance(data, dict):
        raise BadInput("organ_template: expected a JSON object", field="organ_template")
    plain_json(data, "organ_template")
    return validate(OrganTemplate, data, ("organ_template",))
