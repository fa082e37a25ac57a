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

from neira_factory.library.core import About, ImplContext, define
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
        about=About(
            ru="Возвращает вход без изменений: эхо, повтор, заглушка для проверки связи.",
            en="Returns its input unchanged: an echo, a pass-through, a stub to test the wiring.",
            words=("эхо", "повторять", "повтор", "без изменений", "неизменный", "заглушка",
                   "проверка связи", "отражать", "пинг", "echo", "echo back", "send back", "repeat", "pass through",
                   "passthrough", "unchanged", "as is", "identity", "stub", "ping", "same", "parrot"),
            example={"text": "привет"},
        ),
    ),
    define(
        "reverse",
        _reverse,
        input_schema=TEXT_INPUT,
        output_schema={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
        description="Reverses a text by code points.",
        about=About(
            ru="Переворачивает текст задом наперёд: символы идут в обратном порядке, справа налево.",
            en="Reverses a text: its characters backwards, in reverse order, right to left.",
            words=("реверс", "разворот", "перевернуть", "переворачивать", "развернуть", "разворачивать",
                   "задом наперёд",
                   "обратный порядок", "наоборот", "справа налево", "зеркально", "строка", "reverse", "reversed",
                   "backwards", "backward", "flip", "invert", "reverse order", "right to left", "mirror", "string"),
            example={"text": "привет"},
        ),
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
        about=About(
            ru="Нормализует текст: обрезает и схлопывает пробелы, приводит к нижнему регистру, пишет числа "
               "словами (прописью).",
            en="Normalises a text: trims and collapses whitespace, lower-cases it and spells numbers out in words.",
            words=("нормализация", "нормализовать", "нормализатор", "очистить", "почистить", "чистить", "чистка",
                   "пробелы", "лишние пробелы", "нижний регистр", "строчные буквы", "маленькие буквы",
                   "числа прописью", "цифры словами", "normalize", "normalise", "normalizer", "clean",
                   "clean up", "tidy", "whitespace", "spaces", "lowercase", "lower case", "lower-case",
                   "spell out numbers", "numbers to words", "digits to words"),
            example={"text": " Привет,  Нейра 42 "},
        ),
    ),
)
