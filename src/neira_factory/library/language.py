"""Which language a text is in: an explicit tag, or a guess from its script.

An explicit ``lang`` wins; it must look like a language tag (``ru``, ``en``,
``en-us``, ``pt_BR``) and is returned lower-case with ``-`` separators.
Without one the text's letters decide: more Cyrillic than Latin letters means
``ru``, anything else (Latin, digits only, other scripts) means ``en``.
"""

from __future__ import annotations

import re

from neira_factory.library.core import ImplError

_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
_CYRILLIC = re.compile(r"[\u0400-\u04FF\u0500-\u052F]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")


def resolve_lang(lang: str | None, text: str) -> str:
    """The language tag to use for ``text``."""
    if lang is None:
        return "ru" if len(_CYRILLIC.findall(text)) > len(_LATIN.findall(text)) else "en"
    tag = lang.strip().lower().replace("_", "-")
    if not _TAG.fullmatch(tag):
        raise ImplError("bad_input", f"lang {lang!r} is not a language tag such as 'ru' or 'en'", "input.lang")
    return tag


def primary(tag: str) -> str:
    """``en-us`` → ``en``."""
    return tag.split("-", 1)[0]
