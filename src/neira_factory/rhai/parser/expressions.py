"""Expressions, for ``Parser``: binary operators by precedence, unary operators, postfix
indexing, properties and method calls, literals (numbers, strings, interpolation, arrays, object
maps), closures, variables and function calls.  Literal sizes are checked against the limits
(``LiteralTooLarge``)."""

from __future__ import annotations

from .. import ast as A
from ..errors import parse_error
from ..runtime.values import Char

PRECEDENCE = {
    "||": 30, "|": 30, "^": 30,
    "&&": 60, "&": 60,
    "==": 90, "!=": 90,
    "in": 110, "!in": 110,
    "<": 130, "<=": 130, ">": 130, ">=": 130,
    "??": 135,
    "..": 140, "..=": 140,
    "+": 150, "-": 150,
    "*": 180, "/": 180, "%": 180,
    "**": 190,
    "<<": 210, ">>": 210,
}


class ExpressionParser:
    """``Parser``'s expressions (a mixin)."""

    def expr(self):
        self.enter()
        e = self.binary(0)
        self.depth -= 1
        return e

    def binary(self, min_prec):
        lhs = self.unary()
        self.check_int_literal(lhs)
        levels = 0
        while True:
            t = self.tok
            op = t.kind if t.kind != "IDENT" else ("in" if t.value == "in" else None)
            prec = PRECEDENCE.get(op)
            if prec is None or prec < min_prec:
                break
            if op in self.disabled:
                raise self.error("UnknownOperator", f"'{op}' is disabled")
            self.next()
            self.enter()
            levels += 1
            if op in ("..", "..=") and self.at_range_end():
                lhs = A.Binary(self.pos(t), "..", lhs, A.Const(self.pos(t), (1 << 63) - 1))
                continue
            rhs = self.binary(prec if op == "**" else prec + 1)
            lhs = A.Binary(self.pos(t), op, lhs, rhs)
        self.depth -= levels
        return lhs

    def at_range_end(self):
        return self.tok.kind in ("]", ")", ",", "EOF", ";", "}")

    def unary(self):
        t = self.tok
        if t.kind in ("-", "+", "!"):
            self.next()
            self.enter()
            operand = self.unary()
            self.depth -= 1
            if t.kind == "-" and isinstance(operand, A.Const) and type(operand.value) in (int, float):
                return A.Const(self.pos(t), -operand.value)
            self.check_int_literal(operand)
            if t.kind == "+" and isinstance(operand, A.Const) and type(operand.value) in (int, float):
                return operand
            return A.Unary(self.pos(t), t.kind, operand)
        return self.postfix(self.primary())

    def check_int_literal(self, e):
        if isinstance(e, A.Const) and type(e.value) is int and e.value > (1 << 63) - 1:
            raise parse_error("MalformedNumber", f"integer literal too large: {e.value}", e.line, e.col)

    def args(self):
        self.expect("(")
        args = []
        while not self.at(")"):
            args.append(self.expr())
            if not self.at(")"):
                self.expect(",")
        self.next()
        return args

    def postfix(self, e):
        while True:
            t = self.tok
            if t.kind in ("[", "?["):
                self.next()
                self.enter()
                idx = self.expr()
                self.expect("]")
                self.depth -= 1
                self.check_literal_index(e, idx)
                e = A.Index(self.pos(t), e, idx, t.kind == "?[")
            elif t.kind in (".", "?."):
                self.next()
                name_tok = self.tok
                if name_tok.kind != "IDENT":
                    raise self.error("PropertyExpected", f"expecting property name, found {self.describe()}")
                self.next()
                if self.at("("):
                    e = A.MethodCall(self.pos(name_tok), e, name_tok.value, self.args(), t.kind == "?.")
                elif self.at("!") and self.peek().kind == "(":
                    raise self.error("MalformedCapture", "method calls cannot use '!'")
                else:
                    e = A.Prop(self.pos(name_tok), e, name_tok.value, t.kind == "?.")
            else:
                return e

    def check_literal_index(self, target, idx):
        """Indexing a literal with a constant of the wrong type is a parse error."""
        if isinstance(idx, A.Const):
            want = {A.ArrayLit: int, A.MapLit: str}.get(type(target))
            bad = type(idx.value) is not want
        else:
            want = A.MapLit if isinstance(target, A.MapLit) else None
            bad = want is not None and isinstance(idx, (A.Binary, A.Unary, A.ArrayLit, A.MapLit)) \
                and not (isinstance(idx, A.Binary) and idx.op == "+")
        if want is not None and bad:
            raise parse_error("MalformedIndexExpr", "invalid index type for a literal", idx.line, idx.col)

    def primary(self):
        t = self.tok
        k = t.kind
        pos = self.pos(t)
        if k in ("INT", "FLOAT", "STR"):
            self.next()
            return A.Const(pos, t.value)
        if k == "CHAR":
            self.next()
            return A.Const(pos, Char(t.value))
        if k == "ISTR":
            self.next()
            return self.interp(t)
        if k == "(":
            nxt = self.peek()
            if nxt.kind == ")":
                if nxt.line == t.line and nxt.col == t.col + 1:
                    self.p += 2
                    return A.Const(pos, None)
                raise self.error("BadInput", "expecting expression, found ')'", nxt)
            self.next()
            e = self.expr()
            self.expect(")")
            return e
        if k == "[":
            return self.array()
        if k == "#{":
            return self.map_lit()
        if k == "{":
            return self.block()
        if k in ("|", "||"):
            return self.closure()
        if k == "IDENT":
            return self.ident_expr(t)
        if k in ("..", "..="):
            self.next()
            end = A.Const(pos, (1 << 63) - 1) if self.at_range_end() else self.binary(PRECEDENCE[".."] + 1)
            return A.Binary(pos, k, A.Const(pos, 0), end)
        raise self.error("BadInput", f"expecting expression, found {self.describe()}")

    def interp(self, t):
        parts = []
        for part in t.value:
            if isinstance(part, str):
                parts.append(A.Const(self.pos(t), part))
            else:
                sub = type(self)(part, self.limits, self.disabled, self.meter)
                sub.depth, sub.max_depth, sub.in_fn = self.depth, self.max_depth, self.in_fn
                stmts = sub.statements()
                if not sub.at("EOF"):
                    raise sub.error("UnexpectedToken", f"unexpected {sub.describe()} in interpolation")
                parts.append(A.Block(self.pos(t), stmts))
        if len(parts) == 1 and isinstance(parts[0], A.Const):
            return parts[0]
        return A.Interp(self.pos(t), parts)

    def array(self):
        start = self.next()
        items = []
        while not self.at("]"):
            items.append(self.expr())
            if not self.at("]"):
                self.expect(",")
        self.next()
        lim = self.limits.max_array_size
        if lim and len(items) > lim:
            raise self.error("LiteralTooLarge", "array literal is too large", start)
        return A.ArrayLit(self.pos(start), items)

    def map_lit(self):
        start = self.next()
        items, seen = [], set()
        while not self.at("}"):
            kt = self.tok
            if kt.kind not in ("IDENT", "STR"):
                raise self.error("PropertyExpected", f"expecting property name, found {self.describe()}")
            self.next()
            if kt.value in seen:
                raise self.error("DuplicatedProperty", f"duplicated property '{kt.value}'", kt)
            seen.add(kt.value)
            self.expect(":")
            items.append((kt.value, self.expr()))
            if not self.at("}"):
                self.expect(",")
        self.next()
        lim = self.limits.max_map_size
        if lim and len(items) > lim:
            raise self.error("LiteralTooLarge", "object map literal is too large", start)
        return A.MapLit(self.pos(start), items)

    def closure(self):
        start = self.next()
        params = []
        if start.kind == "|":
            while not self.at("|"):
                params.append(self.ident("parameter name"))
                if not self.at("|"):
                    self.expect(",")
            self.next()
        saved = (self.loops, self.in_fn)
        self.loops, self.in_fn = 0, True
        body = self.statement()
        self.loops, self.in_fn = saved
        return A.Closure(self.pos(start), params, body)

    def ident_expr(self, t):
        w = t.value
        pos = self.pos(t)
        if w in self.disabled:
            raise self.error("UnknownOperator", f"'{w}' is disabled")
        if w in ("true", "false"):
            self.next()
            return A.Const(pos, w == "true")
        if w == "this":
            self.next()
            return A.This(pos)
        if w == "if":
            return self.if_expr()
        if w == "switch":
            return self.switch()
        if w == "while":
            self.next()
            cond = self.expr()
            return A.While(pos, cond, self.loop_body())
        if w == "loop":
            self.next()
            return A.Loop(pos, self.loop_body())
        if w == "do":
            self.next()
            body = self.loop_body()
            if not (self.at_kw("while") or self.at_kw("until")):
                raise self.error("MissingToken", "expecting 'while' or 'until'")
            until = self.next().value == "until"
            return A.DoLoop(pos, body, self.expr(), until)
        if w == "for":
            return self.for_loop()
        if w == "try":
            return self.try_catch()
        if w == "global" and self.peek().kind == "::":
            self.p += 2
            return A.GlobalVar(pos, self.ident())
        if w == "fn":
            raise self.error("WrongFnDefinition", "functions can only be defined at global level")
        if w in ("break", "continue", "return", "throw"):  # a jump used as a value: ``x ?? break 42``
            return A.Block(pos, [self.statement()])
        self.check_name(t)
        self.next()
        if self.at("::"):
            return self.module_path(pos, w)
        if self.at("("):
            return A.Call(pos, w, self.args())
        if self.at("!") and self.peek().kind == "(":
            self.next()
            self.scoped = True
            return A.ScopedCall(pos, w, self.args())
        return A.Var(pos, w)

    def module_path(self, pos, first):
        """``first::a::b`` (a module variable) or ``first::a::f(args)`` (a module function)."""
        path = [first]
        while self.at("::"):
            self.next()
            path.append(self.ident("name after '::'"))
        name = path.pop()
        if self.at("("):
            return A.ModCall(pos, path, name, self.args())
        return A.ModVar(pos, path, name)
