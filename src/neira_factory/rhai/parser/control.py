"""Statement-like expressions, for ``Parser``: ``if``, loops (``while``, ``loop``, ``do``,
``for``), ``try``/``catch`` and ``switch`` (with its constant, range and guarded cases)."""

from __future__ import annotations

from .. import ast as A
from .expressions import PRECEDENCE


class ControlParser:
    """``Parser``'s statement-like expressions (a mixin)."""

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
