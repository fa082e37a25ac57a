"""Text implementations: ``echo``, ``reverse``, ``text_normalize``.

* ``echo`` returns (a copy of) its input.
* ``reverse``: ``{text}`` → ``{text}`` with the code points in reverse order.
* ``text_normalize``: ``{text, lang?}`` → ``{normalized}``: trimmed, runs of
  whitespace collapsed to one space, lower-cased, numbers spelled out in the
  text's language (see ``numbers``; ``language`` picks it).

Every text input is capped at ``MAX_TEXT_CHARS``.
"""

from __future__ import annotations

import copy

from neira_factory.library.core import ImplContext, define
from neira_factory.library.language import resolve_lang
from neira_factory.library.numbers import spell_numbers
from neira_factory.library.schema import ANY_OBJECT

MAX_TEXT_CHARS = 100_000

TEXT_INPUT = {
    "type": "object",
    "properties": {"text": {"type": "string", "maxLength": MAX_TEXT_CHARS}},
    "required": ["text"],
}


def _echo(input: dict, params: dict, ctx: ImplContext) -> dict:
    return copy.deepcopy(input)


def _reverse(input: dict, params: dict, ctx: ImplContext) -> dict:
    return {"text": input["text"][::-1]}


def _normalize(input: dict, params: dict, ctx: ImplContext) -> dict:
    text = " ".join(input["text"].split()).lower()
    spelled = spell_numbers(text, resolve_lang(input.get("lang"), text))
    return {"normalized": " ".join(spelled.split())}


IMPLS = (
    define(
        "echo",
        _echo,
        input_schema=ANY_OBJECT,
        output_schema=ANY_OBJECT,
        description="Returns its input unchanged.",
    ),
    define(
        "reverse",
        _reverse,
        input_schema=TEXT_INPUT,
        output_schema={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
        description="Reverses a text by code points.",
    ),
    define(
        "text_normalize",
        _normalize,
        input_schema={
            "type": "object",
            "properties": {**TEXT_INPUT["properties"], "lang": {"type": "string"}},
            "required": ["text"],
        },
        output_schema={"type": "object", "properties": {"normalized": {"type": "string"}}, "required": ["normalized"]},
        description="Trims, collapses whitespace, lower-cases and spells numbers out (ru, en, …).",
    ),
)
