"""``parse``: a whole script (or, in expression-only mode, one expression) into a ``Script``,
with the ``Parser`` made of the token cursor and the statement, control and expression parts."""

from __future__ import annotations

from .. import ast as A
from ..errors import parse_error
from ..lexer import Lexer
from .control import ControlParser
from .cursor import TokenCursor
from .expressions import ExpressionParser
from .statements import StatementParser


class Parser(StatementParser, ControlParser, ExpressionParser, TokenCursor):
    """Parses one script (or one expression in expression-only mode)."""


def parse(source: str, limits, expression_only=False, disabled=frozenset(), meter=None) -> A.Script:
    """Parse ``source`` into a ``Script``; raise ``ErrorParsing`` on bad input.  ``meter``
    (a callable taking a count of tokens) is charged as lexing and parsing go."""
    tokens = Lexer(source, limits.max_string_size, limits.max_tokens, meter).tokenize()
    p = Parser(tokens, limits, disabled, meter)
    if expression_only:
        if p.at("EOF"):
            return A.Script([], {}, source)
        e = p.expr()
        if not p.at("EOF"):
            raise p.error("BadInput", f"unexpected {p.describe()} in expression")
        _check_expression(e)
        return A.Script([e], {}, source)
    stmts = p.parse_script()
    return A.Script(stmts, p.functions, source, frozenset(p.private), p.scoped)


def _check_expression(e):
    """Expression-only mode forbids statements (declarations, loops) anywhere inside, and
    blocks other than the one-expression bodies of ``if``, ``switch`` arms and closures."""
    bad = (A.Let, A.While, A.Loop, A.DoLoop, A.For, A.Assign, A.Try, A.Break, A.Continue, A.Return, A.Throw)
    stack = [e]
    bodies = set()  # ids of the blocks that are bodies
    while stack:
        n = stack.pop()
        if isinstance(n, bad):
            raise parse_error("BadInput", "statements are not allowed in expressions", n.line, n.col)
        if isinstance(n, A.Block) and (len(n.stmts) != 1 or id(n) not in bodies):
            raise parse_error("BadInput", "statement blocks are not allowed in expressions", n.line, n.col)
        if isinstance(n, (A.If, A.SwitchCase, A.Closure, A.Interp)):
            bodies.update(id(x) for x in (getattr(n, "then", None), getattr(n, "other", None),
                                          getattr(n, "body", None), *getattr(n, "parts", ())))
        if isinstance(n, A.If) and n.other is None:
            raise parse_error("BadInput", "if without else is not allowed in expressions", n.line, n.col)
        for f in n.fields:
            v = getattr(n, f)
            for item in v if isinstance(v, list) else [v]:
                if isinstance(item, tuple):
                    item = item[1]
                if isinstance(item, A.Node):
                    stack.append(item)
