"""``TokenCursor``: the parser's position in the token list and what every part of it shares:
looking at and consuming tokens (charging an ``eval`` text's meter as they go), syntax errors,
the expression depth limit and identifier checks."""

from __future__ import annotations

from ..errors import parse_error
from ..lexer import KEYWORDS, METER_EVERY, RESERVED


class TokenCursor:
    """Token access, errors and depth accounting for ``Parser``."""

    def __init__(self, tokens, limits, disabled=frozenset(), meter=None):
        self.toks = tokens
        self.meter = meter
        self.metered = 0  # tokens consumed as of the last charge
        self.p = 0
        self.limits = limits
        self.max_depth = limits.max_expr_depth
        self.depth = 0
        self.loops = 0
        self.in_fn = False
        self.functions = {}
        self.private: set = set()
        self.scoped = False
        self.disabled = disabled

    @property
    def tok(self):
        return self.toks[self.p]

    def peek(self, k=1):
        return self.toks[min(self.p + k, len(self.toks) - 1)]

    def at(self, kind, value=None):
        t = self.toks[self.p]
        return t.kind == kind and (value is None or t.value == value)

    def at_kw(self, word):
        t = self.toks[self.p]
        return t.kind == "IDENT" and t.value == word

    def next(self):
        t = self.toks[self.p]
        if t.kind != "EOF":
            self.p += 1
            if self.p - self.metered >= METER_EVERY and self.meter is not None:
                self.meter(self.p - self.metered)
                self.metered = self.p
        return t

    def error(self, inner, msg, tok=None):
        t = tok or self.tok
        return parse_error(inner, msg, t.line, t.col)

    def expect(self, kind):
        if self.tok.kind != kind:
            raise self.error("MissingToken", f"expecting '{kind}', found {self.describe()}")
        return self.next()

    def describe(self):
        t = self.tok
        return "end of script" if t.kind == "EOF" else repr(t.value)

    def pos(self, t=None):
        t = t or self.tok
        return (t.line, t.col)

    def enter(self):
        self.depth += 1
        if self.max_depth and self.depth > self.max_depth:
            raise self.error("ExprTooDeep", "expression nested too deeply")

    def ident(self, what="variable name"):
        t = self.tok
        if t.kind != "IDENT":
            raise self.error("VariableExpected", f"expecting {what}, found {self.describe()}")
        self.check_name(t)
        return self.next().value

    def check_name(self, t):
        if t.value in RESERVED:
            raise self.error("Reserved", f"'{t.value}' is a reserved keyword", t)
        if t.value in KEYWORDS or t.value in self.disabled:
            raise self.error("VariableExpected", f"'{t.value}' is a keyword", t)
