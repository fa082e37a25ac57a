"""Statements, for ``Parser``: statement lists and blocks, ``let``/``const``, function
definitions, ``break``/``continue``/``return``/``throw`` and assignments."""

from __future__ import annotations

from .. import ast as A

ASSIGN_OPS = {"=": None, "+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "**=": "**",
              "<<=": "<<", ">>=": ">>", "&=": "&", "|=": "|", "^=": "^", "??=": "??"}
BLOCK_LIKE = (A.If, A.Switch, A.While, A.Loop, A.DoLoop, A.For, A.Try, A.Block, A.FnDef)
# Keywords that start a statement Rhai parses as a statement of its own (not an
# expression): nothing after it continues it -- no indexing, call, property,
# operator or assignment -- so `for x in a {} [1, 2]` is two statements.
STMT_KEYWORDS = frozenset(("if", "switch", "while", "loop", "do", "for", "try"))


class StatementParser:
    """``Parser``'s statements (a mixin)."""

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
            if type(st) is list:
                stmts.extend(st)
            elif st is not None:
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
            if w == "import":
                return self.import_stmt()
            if w == "export":
                if not top or self.in_fn:
                    raise self.error("WrongExport", "'export' can only be used at global level")
                return self.export_stmt()
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

    def import_stmt(self):
        """``import path [as alias]``: ``path`` is any expression (a string at run time)."""
        kw = self.next()
        path = self.expr()
        alias = None
        if self.at_kw("as"):
            self.next()
            alias = self.ident("module alias")
        return A.Import(self.pos(kw), path, alias)

    def export_stmt(self):
        """``export let|const x = ...`` or ``export x [as y], ...``: a list of statements
        (a ``Let`` and/or ``Export`` ones) that the top-level statement list takes in."""
        kw = self.next()
        if self.at_kw("let") or self.at_kw("const"):
            let = self.let()
            return [let, A.Export(self.pos(kw), let.name, let.name)]
        items = []
        while True:
            name = self.ident()
            alias = name
            if self.at_kw("as"):
                self.next()
                alias = self.ident("export alias")
            items.append(A.Export(self.pos(kw), name, alias))
            if not self.at(","):
                break
            self.next()
        return items

    def fn_def(self):
        private = self.at_kw("private")
        if private:
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
        if private:
            self.private.add(key)
