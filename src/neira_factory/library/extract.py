"""``regex_extract``: the matches of a regular expression from an untrusted template.

Params: ``pattern``, ``group`` (number or name, default 0: the whole match)
and ``flags`` (letters from ``ims``). Input ``{text}`` → ``{matches, match,
truncated}``: every match's group (null where the group took no part), the
first one (null when none) and whether matches were left off.

Patterns come from templates nobody has to trust, so:

* before compiling, ``expanded_size`` bounds what the pattern unrolls to
  (the ``regex`` module expands counted repeats at compile time, so
  ``((a{100}){100}){100}`` would take gigabytes); over ``MAX_PATTERN_SIZE``
  is ``ImplError("bad_params")``. To keep that measure sound, verbose mode
  (``#`` comments) and ``V1`` (nested sets) are refused, since text they
  hide or nest could fool it, and so is a pattern whose groups it cannot
  balance;
* matching runs on the ``regex`` module with one ``REGEX_TIMEOUT_S`` deadline
  over the whole scan, so catastrophic backtracking ends in
  ``ImplError("timeout")``; the GIL is released while it runs;
* the text is capped at ``MAX_TEXT_CHARS`` and the result at ``MAX_MATCHES``.
"""

from __future__ import annotations

import regex

from neira_factory.library.core import About, ImplContext, ImplError, define, require_param
from neira_factory.library.text import TEXT_INPUT

MAX_MATCHES = 1_000
MAX_PATTERN_SIZE = 50_000
REGEX_TIMEOUT_S = 0.25
_FLAGS = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL}
_UNMEASURABLE = regex.compile(r"\(\?[a-zA-Z^-]*(?:x|V1)")  # verbose comments, nested sets
_TOKEN = regex.compile(
    r"""
      \(\?\#(?:\\.|[^)\\])*\)                   # a comment: one atom
    | \\.                                       # an escape: one atom
    | \[\^?\]?(?:\\.|\[:\^?\w+:\]|[^\]\\])*\]   # a character class (V0 rules): one atom
    | \{(\d*),?(\d*)\}                          # a counted repeat of the atom before
    | [()]                                      # a group opens or closes
    | .                                         # anything else: one atom
    """,
    regex.VERBOSE | regex.DOTALL,
)


def expanded_size(pattern: str) -> int | None:
    """An upper estimate of the atoms ``pattern`` unrolls to, counted repeats multiplied out.

    ``None`` when its groups do not balance: then it cannot be measured.
    """
    stack = [[0, 0]]  # per open group: [its size so far, the size of its last atom]
    for token in _TOKEN.finditer(pattern):
        frame = stack[-1]
        if token.group(1) is not None:
            bound = max(int(token.group(1) or 0), int(token.group(2) or 0), 1)
            frame[0] += frame[1] * (bound - 1)
            frame[1] *= bound
        elif token.group() == "(":
            stack.append([0, 0])
        elif token.group() == ")":
            if len(stack) == 1:
                return None
            size = stack.pop()[0]
            stack[-1][0] += size
            stack[-1][1] = size
        else:
            frame[0] += 1
            frame[1] = 1
    return stack[0][0] if len(stack) == 1 else None


def _measured(pattern: str) -> str:
    """``pattern`` when it is safe to compile, else ``ImplError("bad_params")``."""
    if _UNMEASURABLE.search(pattern):
        reason = "inline flags x (verbose) and V1 are not supported"
    elif (size := expanded_size(pattern)) is None:
        reason = "bad pattern: unbalanced parentheses"
    elif size > MAX_PATTERN_SIZE:
        reason = f"pattern unrolls to {size} atoms, more than {MAX_PATTERN_SIZE}"
    else:
        return pattern
    raise ImplError("bad_params", reason, "params.pattern")


def _compile(params: dict) -> tuple[regex.Pattern, int | str]:
    pattern = _measured(require_param(params, "pattern", str, "a non-empty regular expression"))
    flags = params["flags"]
    if not isinstance(flags, str) or any(letter not in _FLAGS for letter in flags):
        raise ImplError("bad_params", f"flags must be letters from {''.join(_FLAGS)}, got {flags!r}", "params.flags")
    try:
        compiled = regex.compile(pattern, sum(_FLAGS[letter] for letter in set(flags)))
    except regex.error as error:
        raise ImplError("bad_params", f"bad pattern: {error}", "params.pattern") from error
    group = require_param(params, "group", (int, str), "a group number or name")
    group = int(group) if isinstance(group, str) and group.isdigit() else group
    if group not in compiled.groupindex and not (isinstance(group, int) and 0 <= group <= compiled.groups):
        raise ImplError("bad_params", f"pattern has no group {group!r}", "params.group")
    return compiled, group


def _regex_extract(input: dict, params: dict, ctx: ImplContext) -> dict:
    compiled, group = _compile(params)
    matches: list[str | None] = []
    truncated = False
    try:
        for found in compiled.finditer(input["text"], timeout=REGEX_TIMEOUT_S, concurrent=True):
            if len(matches) == MAX_MATCHES:
                truncated = True
                break
            matches.append(found.group(group))
    except TimeoutError as error:
        raise ImplError("timeout", f"pattern ran longer than {REGEX_TIMEOUT_S}s", "params.pattern") from error
    return {"matches": matches, "match": matches[0] if matches else None, "truncated": truncated}


IMPLS = (
    define(
        "regex_extract",
        _regex_extract,
        input_schema=TEXT_INPUT,
        output_schema={
            "type": "object",
            "properties": {
                "matches": {"type": "array", "items": {"type": ["string", "null"]}},
                "match": {"type": ["string", "null"]},
                "truncated": {"type": "boolean"},
            },
            "required": ["matches", "match", "truncated"],
        },
        description="Extracts the matches of a regular expression (size-bounded, time-boxed, capped).",
        params={"pattern": {"value": ""}, "group": {"value": 0}, "flags": {"value": ""}},
        about=About(
            ru="Извлекает из текста совпадения регулярного выражения: номера, даты, адреса почты, ссылки, коды.",
            en="Extracts the matches of a regular expression from a text: numbers, dates, e-mail addresses, "
               "links, codes.",
            words=("регулярное выражение", "регулярка", "извлечь", "извлекать", "вытащить", "выдернуть",
                   "выделить", "найти", "находить", "шаблон", "паттерн", "совпадение", "почта", "email", "телефон",
                   "дата", "ссылка",
                   "regex", "regexp", "regular expression", "extract", "pull out", "find", "pattern", "match",
                   "matches", "grep", "email", "e-mail", "phone", "date", "url", "link"),
            example={"text": "заказ 42 от 7 мая"},
            needs=("pattern",),
        ),
    ),
)
