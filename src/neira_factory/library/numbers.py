"""Numbers to words, the way a reader would say them.

``spell_numbers("мне 42 года", "ru")`` → ``"мне сорок два года"``. Words
come from num2words (Russian, English and the other languages it knows):

* an integer (``42``) or a decimal with a dot (``3.5`` → ``три целых пять
  десятых`` / ``three point five``) becomes its cardinal;
* digit strings read digit by digit: those with a leading zero (``007``),
  those longer than ``MAX_CARDINAL_DIGITS`` (card and phone numbers) and
  dotted runs such as versions (``1.2.3`` → ``one.two.three``);
* a number glued to letters (``mp3``) is set apart by spaces.
"""

from __future__ import annotations

import re
from decimal import Decimal

from num2words import CONVERTER_CLASSES, num2words

from neira_factory.library.core import ImplError
from neira_factory.library.language import primary

MAX_CARDINAL_DIGITS = 15
_NUMBER = re.compile(r"\d+(?:\.\d+)*")


def num2words_lang(tag: str) -> str:
    """The num2words language for a tag (``en-in`` → ``en_IN``, ``ru-ru`` → ``ru``)."""
    parts = tag.split("-")
    regional = "_".join([parts[0], *(part.upper() for part in parts[1:2])])
    for candidate in (regional, primary(tag)):
        if candidate in CONVERTER_CLASSES:
            return candidate
    raise ImplError("bad_input", f"no number words for language {tag!r}", "input.lang")


def spell_numbers(text: str, tag: str) -> str:
    """``text`` with every number written out in words of language ``tag``."""
    lang = num2words_lang(tag)

    def spoken(match: re.Match) -> str:
        words = _say(match.group(), lang)
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end()] if match.end() < len(text) else " "
        return (" " if before.isalpha() else "") + words + (" " if after.isalpha() else "")

    return _NUMBER.sub(spoken, text)


def _say(number: str, lang: str) -> str:
    parts = number.split(".")
    if len(parts) > 2:
        return ".".join(_say(part, lang) for part in parts)
    if len(parts[0]) > MAX_CARDINAL_DIGITS or (len(parts[0]) > 1 and parts[0].startswith("0")):
        return ".".join(_digit_by_digit(part, lang) for part in parts)
    value = Decimal(number) if len(parts) == 2 else int(number)
    try:
        return num2words(value, lang=lang)
    except (OverflowError, NotImplementedError):
        return _digit_by_digit(number.replace(".", ""), lang)


def _digit_by_digit(digits: str, lang: str) -> str:
    return " ".join(num2words(int(digit), lang=lang) for digit in digits)
