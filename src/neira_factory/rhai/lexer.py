"""Tokenizer for Rhai source text.

Produces ``Token`` objects with a kind (``INT``, ``FLOAT``, ``STR``, ``CHAR``,
``ISTR`` for back-tick strings with ``${}`` interpolation, ``IDENT``, ``EOF`` or the
punctuation symbol itself) and a 1-based line/column.  Comments (line, nested
block and doc comments) are skipped.

Character classes follow Rhai (built without ``unicode-xid-ident``): numbers and
identifiers are ASCII only, whitespace is Unicode ``White_Space`` (Rust's
``char::is_whitespace``).  Python's ``str.isdigit``/``isalnum``/``isspace`` accept
more (superscripts, other scripts' digits, U+001C..U+001F) and are not used.
"""

from __future__ import annotations

import re
import string

from .errors import parse_error

METER_EVERY = 256

SYMBOLS = sorted(
    """
    #{ ?. ?[ ?? ??= :: => -> ..= .. **= ** <<= >>= << >> <= >= == != && || += -= *= /= %= &= |= ^= !in
    + - * / % & | ^ ! = < > ( ) [ ] { } , ; : . ? @ #
    """.split(),
    key=len,
    reverse=True,
)

RESERVED = frozenset(
    """var static shared goto exit match case public protected new use with module package super
    spawn thread go sync async await yield default void null nil""".split()
)

KEYWORDS = frozenset(
    """let const if else switch while loop do until for in break continue return throw try catch
    fn private import export as true false this global""".split()
)


class Token:
    __slots__ = ("kind", "value", "line", "col")

    def __init__(self, kind, value, line, col):
        self.kind, self.value, self.line, self.col = kind, value, line, col

    def __repr__(self):
        return f"Token({self.kind!r}, {self.value!r}, {self.line}:{self.col})"


DIGITS = frozenset(string.digits)
DEC_WORD = DIGITS | {"_"}
LETTERS = frozenset(string.ascii_letters)
WORD = LETTERS | DEC_WORD
HEX = frozenset(string.hexdigits)
RADIX = {"x": (16, HEX), "o": (8, frozenset(string.octdigits)), "b": (2, frozenset("01"))}
WHITESPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                       "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
BY_FIRST: dict[str, list[str]] = {}  # symbols by their first character, longest first
for _sym in SYMBOLS:
    BY_FIRST.setdefault(_sym[0], []).append(_sym)
# Runs scanned at C speed: whitespace, identifier characters, the plain part of a string.
SPACE = re.compile("[" + "".join(sorted(WHITESPACE)) + "]+")
WORD_RUN = re.compile("[A-Za-z0-9_]*")
DEC_RUN = re.compile("[0-9_]*")
PLAIN = {'"': re.compile('[^"\\\\\n]+'), "'": re.compile("[^'\\\\\n]+"), "`": re.compile("[^`$\\\\\n]+")}

_ESC = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0", "`": "`", "$": "$"}


class Lexer:
    """Turns source text into a list of tokens (one pass, no backtracking).  At most
    ``max_tokens`` tokens (0: no limit); every ``METER_EVERY`` tokens are reported to
    ``meter`` (a callable taking a count) when there is one."""

    def __init__(self, src: str, max_string_size: int = 0, max_tokens: int = 0, meter=None):
        self.src = src
        self.i = 0
        self.line = 1
        self.line_start = 0
        self.max_string_size = max_string_size
        self.max_tokens = max_tokens
        self.meter = meter
        self.count = 0

    def error(self, inner, msg, line=None, col=None):
        return parse_error(inner, msg, line or self.line, col or self.i - self.line_start + 1)

    def newline(self, at):
        self.line += 1
        self.line_start = at + 1

    def advance(self, j):
        """Move to ``j``, counting the lines passed."""
        src = self.src
        k = src.count("\n", self.i, j)
        if k:
            self.line += k
            self.line_start = src.rfind("\n", self.i, j) + 1
        self.i = j

    def counted(self, line, col):
        """One more token: enforce ``max_tokens``, report to the meter."""
        self.count += 1
        if self.max_tokens and self.count > self.max_tokens:
            raise self.error("ScriptTooLarge", f"script too large: more than {self.max_tokens} tokens", line, col)
        if self.meter is not None and self.count % METER_EVERY == 0:
            self.meter(METER_EVERY)

    def tokenize(self, in_interp=False) -> list:
        toks = []
        src, n = self.src, len(self.src)
        depth = 0
        while True:
            self.skip_space()
            if self.i >= n:
                if in_interp:
                    raise self.error("MissingSymbol", "unterminated string interpolation")
                toks.append(Token("EOF", None, self.line, self.i - self.line_start + 1))
                return toks
            c = src[self.i]
            line, col = self.line, self.i - self.line_start + 1
            self.counted(line, col)
            if in_interp:
                if c == "{" or src.startswith("#{", self.i):
                    depth += 1
                elif c == "}":
                    if depth == 0:
                        self.i += 1
                        toks.append(Token("EOF", None, line, col))
                        return toks
                    depth -= 1
            if c in DIGITS:
                toks.append(self.number(line, col))
            elif c in WORD:
                j = WORD_RUN.match(src, self.i).end()
                word = src[self.i:j]
                if word != "_" and word.lstrip("_")[:1] not in LETTERS:
                    raise self.error("BadInput", f"invalid identifier: {word}", line, col)
                self.i = j
                toks.append(Token("IDENT", word, line, col))
            elif c == '"':
                toks.append(Token("STR", self.quoted('"', line, col), line, col))
            elif c == "'":
                s = self.quoted("'", line, col)
                if len(s) != 1:
                    raise self.error("MalformedChar", "a character literal must hold exactly one character", line, col)
                toks.append(Token("CHAR", s, line, col))
            elif c == "`":
                toks.append(Token("ISTR", self.backtick(line, col), line, col))
            elif c == "#" and src.startswith(('#"', "##"), self.i):
                toks.append(Token("STR", self.raw(line, col), line, col))
            else:
                for sym in BY_FIRST.get(c, ()):
                    if src.startswith(sym, self.i):
                        break
                else:
                    raise self.error("BadInput", f"unexpected character {c!r}", line, col)
                if sym == "!in" and self.i + 3 < n and src[self.i + 3] in WORD:
                    sym = "!"
                self.i += len(sym)
                toks.append(Token(sym, sym, line, col))

    def skip_space(self):
        src, n = self.src, len(self.src)
        while self.i < n:
            m = SPACE.match(src, self.i)
            if m is not None:
                self.advance(m.end())
            elif src.startswith("//", self.i):
                j = src.find("\n", self.i)
                self.i = n if j < 0 else j
            elif src.startswith("/*", self.i):
                self.block_comment()
            else:
                return

    def block_comment(self):
        """Skip a (nested) block comment starting at ``i``."""
        src = self.src
        line, col = self.line, self.i - self.line_start + 1
        level, j = 0, self.i
        while True:
            opens, closes = src.find("/*", j), src.find("*/", j)
            if closes < 0:
                raise self.error("UnterminatedComment", "unterminated block comment", line, col)
            if 0 <= opens < closes:
                level, j = level + 1, opens + 2
            else:
                level, j = level - 1, closes + 2
                if level == 0:
                    break
        self.advance(j)

    def number(self, line, col):
        src, n, start = self.src, len(self.src), self.i
        if src.startswith(("0x", "0X", "0o", "0O", "0b", "0B"), start):
            base, allowed = RADIX[src[start + 1].lower()]
            j = WORD_RUN.match(src, start + 2).end()
            text = src[start + 2:j].replace("_", "")
            self.i = j
            if j < n and src[j] == "." and j + 1 < n and src[j + 1] in DIGITS:
                raise self.error("MalformedNumber", "malformed number", line, col)
            if not text or not allowed.issuperset(text):
                raise self.error("MalformedNumber", f"malformed number: {src[start:j]}", line, col)
            v = int(text, base)
            if v >= 1 << 64:
                raise self.error("MalformedNumber", f"number too large: {src[start:j]}", line, col)
            return Token("INT", v - (1 << 64) if v >= 1 << 63 else v, line, col)
        j = DEC_RUN.match(src, start).end()
        is_float = False
        if j < n and src[j] == "." and (j + 1 >= n or src[j + 1] != "."):
            k = j + 1
            if k < n and src[k] in DIGITS:
                is_float = True
                j = DEC_RUN.match(src, k).end()
            elif k >= n or not (src[k] in LETTERS or src[k] == "_"):
                is_float = True
                j = k
        if j < n and src[j] in "eE":
            k = j + 1
            if k < n and src[k] in "+-":
                k += 1
            if k < n and src[k] in DIGITS:
                is_float = True
                j = DEC_RUN.match(src, k).end()
        text = src[start:j].replace("_", "")
        self.i = j
        if j < n and (src[j] in WORD or (src[j] == "." and j + 1 < n and src[j + 1] in DIGITS)):
            raise self.error("MalformedNumber", f"malformed number: {src[start:j + 1]}", line, col)
        if is_float:
            return Token("FLOAT", float(text), line, col)
        v = int(text) if len(text.lstrip("0")) <= 19 else None  # int() refuses over 4300 digits
        if v is None or v > 1 << 63:
            raise self.error("MalformedNumber", f"integer literal too large: {text}", line, col)
        return Token("INT", v, line, col)

    def escape(self, line, col):
        src = self.src
        c = src[self.i] if self.i < len(src) else ""
        self.i += 1
        if c in _ESC:
            return _ESC[c]
        width = {"x": 2, "u": 4, "U": 8}.get(c)
        if width is None:
            raise self.error("MalformedEscapeSequence", f"invalid escape \\{c}", line, col)
        digits = src[self.i:self.i + width]
        code = int(digits, 16) if len(digits) == width and HEX.issuperset(digits) else -1
        if not (0 <= code < 0xD800 or 0xE000 <= code <= 0x10FFFF):  # a Rust char: no surrogates
            raise self.error("MalformedEscapeSequence", f"invalid escape \\{c}{digits}", line, col)
        self.i += width
        return chr(code)

    def check_size(self, s, line, col):
        """A literal's size is its UTF-8 bytes, as Rhai measures it when parsing."""
        limit = self.max_string_size
        if limit and len(s) > limit // 4 and len(s.encode("utf-8", "surrogatepass")) > limit:
            raise self.error("LiteralTooLarge", "string literal is too large", line, col)
        return s

    def quoted(self, quote, line, col):
        src, n = self.src, len(self.src)
        self.i += 1
        out = []
        plain = PLAIN[quote]
        while True:
            m = plain.match(src, self.i)
            if m is not None:
                out.append(m.group())
                self.i = m.end()
            if self.i >= n:
                raise self.error("UnterminatedString", "unterminated string literal", line, col)
            c = src[self.i]
            if c == quote:
                if quote == '"' and src.startswith('""', self.i):  # a doubled quote is one quote
                    out.append(quote)
                    self.i += 2
                    continue
                self.i += 1
                return self.check_size("".join(out), line, col)
            if c == "\\":
                self.i += 1
                if self.i < n and src[self.i] == "\n" and quote == '"':
                    self.newline(self.i)
                    self.i += 1
                    start = self.i
                    while self.i < n and src[self.i] in " \t\r":
                        self.i += 1
                    if self.i > start:
                        out.append(" ")
                    continue
                out.append(self.escape(line, col))
                continue
            if c == "\n":
                raise self.error("UnterminatedString", "unterminated string literal", line, col)
            out.append(c)
            self.i += 1

    def raw(self, line, col):
        src = self.src
        j = self.i
        while j < len(src) and src[j] == "#":
            j += 1
        hashes = j - self.i
        if j >= len(src) or src[j] != '"':
            raise self.error("BadInput", "malformed raw string", line, col)
        end = src.find('"' + "#" * hashes, j + 1)
        if end < 0:
            raise self.error("UnterminatedString", "unterminated raw string", line, col)
        body = src[j + 1:end]
        self.i = j + 1
        self.advance(end)
        self.i = end + 1 + hashes
        return self.check_size(body, line, col)

    def backtick(self, line, col):
        """Back-tick string: list of literal strings and token lists (``${...}``)."""
        src, n = self.src, len(self.src)
        self.i += 1
        for nl in ("\r\n", "\n"):
            if src.startswith(nl, self.i):
                self.i += len(nl)
                self.newline(self.i - 1)
                break
        parts, buf = [], []
        plain = PLAIN["`"]
        while True:
            m = plain.match(src, self.i)
            if m is not None:
                buf.append(m.group())
                self.i = m.end()
            if self.i >= n:
                raise self.error("UnterminatedString", "unterminated string literal", line, col)
            c = src[self.i]
            if src.startswith("``", self.i):
                buf.append("`")
                self.i += 2
                continue
            if src.startswith("\\${", self.i):
                buf.append("${")
                self.i += 3
                continue
            if c == "`":
                self.i += 1
                if buf or not parts:
                    parts.append("".join(buf))
                self.check_size("".join(p for p in parts if isinstance(p, str)), line, col)
                return parts
            if c == "$" and src.startswith("${", self.i):
                if buf:
                    parts.append("".join(buf))
                    buf = []
                self.i += 2
                parts.append(self.tokenize(in_interp=True))
                continue
            if c == "\n":
                self.newline(self.i)
            buf.append(c)
            self.i += 1


def tokenize(src: str, max_string_size: int = 0) -> list:
    return Lexer(src, max_string_size).tokenize()
