"""``json_map``: build an output object from JMESPath expressions.

Param ``map`` is ``{out_field: expression}``; each output field is the
expression evaluated against the whole input (``null`` when it selects
nothing). ``{"map": {"name": "user.name", "n": "length(items)"}}`` applied to
``{"user": {"name": "Ann"}, "items": [1, 2]}`` gives ``{"name": "Ann", "n": 2}``.

An expression that does not parse, is too long or nests too deeply, or calls
an unknown function or with the wrong number of arguments, is
``ImplError("bad_params")``; one that fails on this input (a function applied
to a value of the wrong type) is ``ImplError("bad_input")``. Searches are
bounded (``domain/bounded_jmespath``): one that builds too big a value or does
too much work is ``ImplError("limit")``, one past its deadline (the node's, set
by the adapter backend) ``ImplError("timeout")``. Compiled expressions are cached.
"""

from __future__ import annotations

from jmespath.exceptions import JMESPathError, JMESPathTypeError
from jmespath.parser import ParsedResult

from neira_factory.domain import bounded_jmespath
from neira_factory.library.core import About, ImplContext, ImplError, define, require_param
from neira_factory.library.schema import ANY_OBJECT


def _expressions(params: dict) -> dict[str, ParsedResult]:
    mapping = require_param(params, "map", dict, "an object {out_field: JMESPath expression}")
    compiled = {}
    for out_field, expression in mapping.items():
        where = f"params.map.{out_field}"
        if not isinstance(expression, str) or not expression.strip():
            raise ImplError("bad_params", f"expression for {out_field!r} must be a non-empty string", where)
        try:
            compiled[out_field] = bounded_jmespath.parse(expression)
        except JMESPathError as error:
            raise ImplError("bad_params", f"bad JMESPath for {out_field!r}: {error}", where) from error
    return compiled


def _json_map(input: dict, params: dict, ctx: ImplContext) -> dict:
    output = {}
    for out_field, expression in _expressions(params).items():
        try:
            output[out_field] = bounded_jmespath.search(expression, input)
        except bounded_jmespath.LimitExceeded as error:
            raise ImplError(error.kind, f"{out_field!r}: {error.reason}", f"params.map.{out_field}") from error
        except JMESPathTypeError as error:
            raise ImplError("bad_input", f"{out_field!r}: {error}", "input") from error
        except JMESPathError as error:
            raise ImplError("bad_params", f"{out_field!r}: {error}", f"params.map.{out_field}") from error
    return output


IMPLS = (
    define(
        "json_map",
        _json_map,
        input_schema=ANY_OBJECT,
        output_schema=ANY_OBJECT,
        description="Maps a JSON input to a new object with JMESPath expressions per output field.",
        params={"map": {"value": {}}},
        about=About(
            ru="Перекладывает JSON в новый объект: каждое поле выхода задано выражением JMESPath над входом; "
               "выбрать, переименовать, пересобрать поля.",
            en="Maps a JSON object to a new one, each output field a JMESPath expression over the input: "
               "select, rename, reshape fields.",
            words=("json", "jmespath", "маппинг", "отображение полей", "переложить", "переименовать поля",
                   "выбрать поля", "пересобрать", "поле", "объект", "структура", "map", "mapping", "reshape",
                   "transform json", "rename fields", "select fields", "pick fields", "field", "fields", "object",
                   "structure"),
            example={"user": {"name": "Ann"}},
            needs=("map",),
        ),
    ),
)
