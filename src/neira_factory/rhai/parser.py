"""Recursive-descent parser: Rhai tokens → ``ast`` nodes.

Enforces the parse-time limits Rhai defines: expression nesting depth
(``ExprTooDeep``) and literal sizes (``LiteralTooLarge``), plus the script size
(``ScriptTooLarge``: at most ``max_tokens`` tokens, counted by the lexer).  Parsing
takes time linear in the tokens; with a ``meter`` (an ``eval`` text), every
``METER_EVERY`` tokens consumed are charged to it.
"""

from __future__ import annotations

from . import ast as A
from .errors import parse_error
from .lexer import KEYWORDS, METER_EVERY, RESERVED, Lexer
from .runtime.values import Char

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
ASSIGN_OPS = {"=": None, "+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "**=": "**",
              "<<=": "<<", ">>=": ">>", "&=": "&", "|=": "|", "^=": "^", "??=": "??"}
BLOCK_LIKE = (A.If, A.Switch, A.While, A.Loop, A.DoLoop, A.For, A.Try, A.Block, A.FnDef)
# Keywords that start a statement Rhai parses as a statement of its own (not an
# expression): nothing after it continues it -- no indexing, call, property,
# operator or assignment -- so `for x in a {} [1, 2]` is two statements.
STMT_KEYWORDS = frozenset(("if", "switch", "while", "loop", "do", "for", "try"))


class Parser:
    """Parses one script (or one expression in expression-only mode)."""

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
        self.disabled = disabled

    # -- token helpers -------------------------------------------------
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

    # -- statements ----------------------------------------------------
    def parse_script(self):
        stmts = self.statements(top=True)
        if not self.at("EOF"):
            raise self.error("UnexpectedToken", f"unexpected {self.describe()}")
        return stmts

    def statements(self, top=False):
        stmts = []
        while not self.at("EOF") and not self.at("}"):
            if self.at(";"):
                self.next()
                continue
            st = self.statement(top)
            if st is not None:
                stmts.append(st)
            if self.at(";"):
                self.next()
            elif not (self.at("EOF") or self.at("}") or isinstance(st, BLOCK_LIKE) or st is None):
                raise self.error("MissingToken", f"expecting ';' to terminate statement, found {self.describe()}")
        return stmts

    def block(self):
        start = self.expect("{")
        self.enter()
        stmts = self.statements()
        self.expect("}")
        self.depth -= 1
        return A.Block(self.pos(start), stmts)

    def statement(self, top=False):
        t = self.tok
        if t.kind == "IDENT":
            if t.value in self.disabled:
                raise self.error("UnknownOperator", f"'{t.value}' is disabled")
            w = t.value
            if w in ("let", "const"):
                return self.let()
            if w == "fn" or (w == "private" and self.peek().kind == "IDENT" and self.peek().value == "fn"):
                if not top:
                    raise self.error("WrongFnDefinition", "functions can only be defined at global level")
                self.fn_def()
                return None
            if w in ("break", "continue"):
                if not self.loops:
                    raise self.error("LoopBreak", f"'{w}' outside of a loop")
                self.next()
                if w == "continue":
                    return A.Continue(self.pos(t))
                return A.Break(self.pos(t), self.opt_value())
            if w in ("return", "throw"):
                self.next()
                return (A.Return if w == "return" else A.Throw)(self.pos(t), self.opt_value())
            if w in ("import", "export"):
                raise self.error("BadInput", f"'{w}' (modules) is not supported")
            if w in STMT_KEYWORDS:
                return self.statement_form()
        elif t.kind == "{":
            return self.statement_form()
        self.enter()
        expr = self.expr()
        if self.tok.kind in ASSIGN_OPS:
            op_tok = self.next()
            if op_tok.kind in self.disabled:
                raise self.error("UnknownOperator", f"'{op_tok.kind}' is disabled", op_tok)
            if not self.is_lvalue(expr):
                raise self.error("AssignmentToInvalidLHS", "cannot assign to this expression", op_tok)
            value = self.expr()
            if self.tok.kind in ASSIGN_OPS:
                raise self.error("AssignmentToInvalidLHS", "assignment is not an expression")
            expr = A.Assign(self.pos(op_tok), expr, ASSIGN_OPS[op_tok.kind], value)
        self.depth -= 1
        return expr

    def statement_form(self):
        """A block-ended statement (`if`, `for`, `{ ... }`, ...): parsed without the
        postfix/operator/assignment tail an expression would take.  Same depth
        accounting as the statement -> expression path."""
        self.enter()
        self.enter()
        st = self.primary()
        self.depth -= 2
        return st

    def is_lvalue(self, e):
        if isinstance(e, (A.Var, A.This)):
            return True
        if isinstance(e, (A.Index, A.Prop)):
            return self.is_lvalue(e.target)
        return False

    def opt_value(self):
        if self.at(";") or self.at("}") or self.at("EOF"):
            return None
        return self.expr()

    def let(self):
        kw = self.next()
        name = self.ident()
        value = None
        if self.at("="):
            self.next()
            value = self.expr()
        return A.Let(self.pos(kw), name, value, kw.value == "const")

    def fn_def(self):
        if self.at_kw("private"):
            self.next()
        kw = self.next()
        name_tok = self.tok
        name = self.ident("function name")
        self.expect("(")
        params = []
        while not self.at(")"):
            params.append(self.ident("parameter name"))
            if not self.at(")"):
                self.expect(",")
        self.next()
        if len(set(params)) != len(params):
            raise self.error("FnDuplicatedParam", f"duplicated parameter in function '{name}'", name_tok)
        key = (name, len(params))
        if key in self.functions:
            raise self.error("FnDuplicatedDefinition", f"function '{name}' with {len(params)} parameters already defined", name_tok)
        saved = (self.depth, self.max_depth, self.loops, self.in_fn)
        self.depth, self.max_depth, self.loops, self.in_fn = 0, self.limits.max_function_expr_depth, 0, True
        if not self.at("{"):
            raise self.error("FnMissingBody", f"expecting body for function '{name}'")
        body = self.block()
        self.depth, self.max_depth, self.loops, self.in_fn = saved
        self.functions[key] = A.FnDef(self.pos(kw), name, params, body)

    # -- expressions ---------------------------------------------------
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
                sub = Parser(part, self.limits, self.disabled, self.meter)
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
        self.check_name(t)
        self.next()
        if self.at("::"):
            raise self.error("ModuleUndefined", f"module '{w}' is not defined")
        if self.at("("):
            return A.Call(pos, w, self.args())
        if self.at("!") and self.peek().kind == "(":
            raise self.error("BadInput", "calling a function in the caller's scope ('!') is not supported")
        return A.Var(pos, w)

    def loop_body(self):
        self.loops += 1
        body = self.block()
        self.loops -= 1
        return body

    def if_expr(self):
        t = self.next()
        cond = self.expr()
        then = self.block()
        other = None
        if self.at_kw("else"):
            self.next()
            other = self.if_expr() if self.at_kw("if") else self.block()
        return A.If(self.pos(t), cond, then, other)

    def for_loop(self):
        t = self.next()
        idx = None
        if self.at("("):
            self.next()
            var = self.ident()
            self.expect(",")
            idx = self.ident()
            self.expect(")")
        else:
            var = self.ident()
        if not self.at_kw("in"):
            raise self.error("MissingToken", "expecting 'in'")
        self.next()
        iterable = self.expr()
        return A.For(self.pos(t), var, idx, iterable, self.loop_body())

    def try_catch(self):
        t = self.next()
        body = self.block()
        if not self.at_kw("catch"):
            raise self.error("MissingToken", "expecting 'catch'")
        self.next()
        var = None
        if self.at("("):
            self.next()
            var = self.ident()
            self.expect(")")
        return A.Try(self.pos(t), body, var, self.block())

    def switch(self):
        t = self.next()
        subject = self.expr()
        self.expect("{")
        cases, default, ranged = [], None, False
        while not self.at("}"):
            ct = self.tok
            if ct.kind == "IDENT" and ct.value == "_":
                if default is not None:
                    raise self.error("DuplicatedSwitchCase", "duplicated default case")
                self.next()
                self.expect("=>")
                default = self.case_body()
            else:
                if default is not None:
                    raise self.error("WrongSwitchDefaultCase", "the default case must be the last")
                values, ranges = [], []
                while True:
                    self.case_pattern(values, ranges)
                    if not self.at("|"):
                        break
                    self.next()
                if ranged and any(type(v) is int for v in values):
                    raise self.error("WrongSwitchCaseCondition", "integer cases must come before range cases", ct)
                ranged = ranged or bool(ranges)
                cond = None
                if self.at_kw("if"):
                    self.next()
                    cond = self.expr()
                self.expect("=>")
                cases.append(A.SwitchCase(self.pos(ct), values, ranges, cond, self.case_body()))
            if self.at(","):
                self.next()
            elif not self.at("}") and not self.toks[self.p - 1].kind == "}":
                raise self.error("MissingToken", f"expecting ',' in switch, found {self.describe()}")
        self.next()
        return A.Switch(self.pos(t), subject, cases, default)

    def case_body(self):
        if self.at("{"):
            return self.block()
        return self.statement()

    def case_pattern(self, values, ranges):
        ct = self.tok
        e = self.binary(PRECEDENCE["??"] + 1)
        if isinstance(e, A.Binary) and e.op in ("..", "..="):
            lo, hi = (self.constant(x, ct) for x in (e.left, e.right))
            if type(lo) is not int or type(hi) is not int:
                raise self.error("WrongSwitchCaseCondition", "switch ranges must be integers", ct)
            ranges.append((lo, hi, e.op == "..="))
        else:
            values.append(self.constant(e, ct))

    def constant(self, e, tok):
        if isinstance(e, A.Const):
            return e.value
        if isinstance(e, A.ArrayLit):
            return [self.constant(x, tok) for x in e.items]
        if isinstance(e, A.MapLit):
            return {k: self.constant(x, tok) for k, x in e.items}
        raise self.error("ExprExpected", "switch case values must be constants", tok)


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
        _check_expression(e, p)
        return A.Script([e], {}, source)
    stmts = p.parse_script()
    return A.Script(stmts, p.functions, source)


def _check_expression(e, p):
    """Expression-only mode forbids statements (declarations, loops) anywhere inside."""
    bad = (A.Let, A.While, A.Loop, A.DoLoop, A.For, A.Assign, A.Try, A.Break, A.Continue, A.Return, A.Throw)
    stack = [e]
    while stack:
        n = stack.pop()
        if isinstance(n, bad):
            raise parse_error("BadInput", "statements are not allowed in expressions", n.line, n.col)
        if isinstance(n, A.Block) and len(n.stmts) != 1:
            raise parse_error("BadInput", "statement blocks are not allowed in expressions", n.line, n.col)
        if isinstance(n, A.If) and n.other is None:
            raise parse_error("BadInput", "if without else is not allowed in expressions", n.line, n.col)
        for f in n.fields:
            v = getattr(n, f)
            for item in v if isinstance(v, list) else [v]:
                if isinstance(item, tuple):
                    item = item[1]
                if isinstance(item, A.Node):
                    stack.append(item)
