"""Expressions, for ``FnCompiler``: literals, variables, operators (plain Python operators with
an i64 range check where the inferred types allow), short-circuits, indexing and properties."""

from __future__ import annotations

from .. import ast as A
from ..runtime.values import Char
from .val import Val

MIN_LIT, MAX_LIT = "-9223372036854775808", "9223372036854775807"
ARITH = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div", "%": "_mod", "**": "_pow",
         "<<": "_shl", ">>": "_shr", "&": "_band", "|": "_bor", "^": "_bxor"}
COMPARE = {"==": "_eq", "!=": "_ne", "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}
NUMERIC = ("int", "float")


def _simple(code: str) -> bool:
    return code.isidentifier() or code.lstrip("(-").rstrip(")").replace(".", "", 1).isdigit()


def after_elvis(node) -> bool:
    """Whether ``node`` is an access chain containing ``?.``/``?[`` (which
    short-circuits the rest of the chain on ``()``)."""
    while isinstance(node, (A.Prop, A.Index, A.MethodCall)):
        if node.safe:
            return True
        node = node.target
    return False


class ExpressionCompiler:
    """``FnCompiler``'s expressions (a mixin)."""

    def cond(self, node) -> str:
        v = self.expr(node)
        return v.code if v.ty == "bool" else f"_truth({v.code})"

    def exprs(self, nodes) -> list[Val]:
        """Compile expressions left to right, keeping evaluation order when a
        later one needs statements: the values still pending then (not stable,
        compiled since the last such statements) are moved into temporaries just
        before them.  A value is pending once, so this takes linear time."""
        vals, pending = [], []
        for n in nodes:
            items = self.lines.items
            before = len(items)
            v = self.expr(n)
            if pending and len(items) > before:
                moves = []
                for i in pending:
                    t = self.tmp()
                    moves.append((self.lines.level, f"{t} = {vals[i].code}", self.lines.pos))
                    vals[i] = Val(t, vals[i].ty, vals[i].fresh, True)
                items[before:before] = moves
                pending = []
            if not v.stable:
                pending.append(len(vals))
            vals.append(v)
        return vals

    def e_const(self, node):
        v = node.value
        ty = {int: "int", float: "float", bool: "bool", str: "str", Char: "char"}.get(type(v), "unit")
        return Val(self.k(v), ty, True, True)

    def e_interp(self, node):
        parts = self.exprs(node.parts)
        return self.checked(Val(f"_interp(c, {', '.join(p.code for p in parts)})", "str", True))

    def var_read(self, node) -> Val:
        b = self.lookup(node.name)
        if b is not None:
            return Val(b.py, self.btype(b))
        if node.name in self.m.fn_names:
            return Val(f"_FnPtr({self.k(node.name)})", "fnptr", True)
        if self.has_scope:
            return Val(f"_sget(S, {self.k(node.name)})")
        return Val(f"_novar({self.k(node.name)})")

    def e_var(self, node):
        return self.var_read(node)

    def e_this(self, node):
        if self.kind == "main":
            return Val("_unbound()")
        return Val("(this if this is not _UNB else _unbound())")

    def e_globalvar(self, node):
        return Val(f"_gconst(c, {self.k(node.name)})")

    def e_arraylit(self, node):
        items = self.exprs(node.items)
        code = "[" + ", ".join(self.owned(v) for v in items) + "]"
        self.count(len(items))
        return self.checked(Val(code, "array", True))

    def e_maplit(self, node):
        vals = self.exprs([e for _, e in node.items])
        code = "{" + ", ".join(f"{self.k(k)}: {self.owned(v)}" for (k, _), v in zip(node.items, vals)) + "}"
        self.count(len(vals))
        return self.checked(Val(code, "map", True))

    def e_unary(self, node):
        v = self.expr(node.operand)
        if node.op == "!":
            return Val(f"(not {v.code})" if v.ty == "bool" else f"_not({v.code})", "bool", True)
        if node.op == "-":
            if v.ty == "float":
                return Val(f"(-{v.code})", "float", True)
            return Val(f"_neg({v.code})", v.ty if v.ty in NUMERIC else "any", True)
        return Val(f"_pos({v.code})", v.ty if v.ty in NUMERIC else "any", True)

    def e_binary(self, node):
        op = node.op
        if op in ("&&", "||", "??"):
            return self.short_circuit(node)
        left, right = self.exprs([node.left, node.right])
        if op in ("in", "!in"):
            code = f"_in(c, {right.code}, {left.code})"
            return Val(code if op == "in" else f"(not {code})", "bool", True)
        if op in ("..", "..="):
            return Val(f"_range({left.code}, {right.code}, {op == '..='})", "range", True)
        return self.binop(op, left, right)

    def binop(self, op, left: Val, right: Val) -> Val:
        lt, rt = left.ty, right.ty
        lc, rc = left.code, right.code
        if op in COMPARE:
            pyop = op
            if (lt in NUMERIC and rt in NUMERIC) or (lt == rt == "bool" and op in ("==", "!=")):
                return Val(f"({lc} {pyop} {rc})", "bool", True)
            guard = self.int_guard(left, right)
            if guard:
                return Val(f"({lc} {pyop} {rc} if {guard} else {COMPARE[op]}(c, {lc}, {rc}))", "bool", True)
            return Val(f"{COMPARE[op]}(c, {lc}, {rc})", "bool", True)
        helper = ARITH[op]
        if lt == rt == "int" and op in ("&", "|", "^"):
            return Val(f"({lc} {op} {rc})", "int", True)
        if lt == rt == "int" and op in ("%", "/") and rc.isdigit() and int(rc) > 0:
            t = self.tmp()
            pyop = "%" if op == "%" else "//"
            return Val(f"({t} {pyop} {rc} if ({t} := {lc}) >= 0 else {helper}(c, {t}, {rc}))", "int", True)
        if op in ("+", "-", "*"):
            if lt == rt == "int":
                return Val(self.checked_int(op, lc, rc, right), "int", True)
            if (lt == "float" and rt in NUMERIC) or (rt == "float" and lt in NUMERIC):
                return Val(f"({lc} {op} {rc})", "float", True)
            if op == "+" and lt == rt == "str":
                return self.checked(Val(f"({lc} + {rc})", "str", True))
            guard = self.int_guard(left, right)
            if guard:
                t = self.tmp()
                fast = self.checked_int(op, lc, rc, right, t, bare=True)
                return Val(f"({t} if {guard} and {fast} else {helper}(c, {lc}, {rc}))",
                           self.arith_type(op, lt, rt), True)
        ty = self.arith_type(op, lt, rt)
        return self.checked(Val(f"{helper}(c, {lc}, {rc})", ty, True)) if ty in ("str", "any") \
            else Val(f"{helper}(c, {lc}, {rc})", ty, True)

    def checked_int(self, op, lc, rc, right, t=None, bare=False):
        """i64-checked int arithmetic.  With ``bare``, just the range test that
        also assigns ``t`` (used inside a type-guarded fast path)."""
        t = t or self.tmp()
        const = right.code.isdigit()
        if op == "+" and const:
            test = f"({t} := {lc} + {rc}) <= {MAX_LIT}"
        elif op == "-" and const:
            test = f"({t} := {lc} - {rc}) >= {MIN_LIT}"
        else:
            test = f"{MIN_LIT} <= ({t} := {lc} {op} {rc}) <= {MAX_LIT}"
        if bare:
            return test
        return f"({t} if {test} else _ovf())"

    def int_guard(self, left: Val, right: Val):
        """A type test making the int fast path valid, or None when not worth it."""
        if not (_simple(left.code) and _simple(right.code)):
            return None
        if left.ty not in ("int", "any") or right.ty not in ("int", "any"):
            return None
        tests = [f"type({v.code}) is int" for v in (left, right) if v.ty != "int"]
        return " and ".join(tests) or None

    @staticmethod
    def arith_type(op, lt, rt):
        if lt == rt == "int" and op not in ("**",):
            return "int"
        if lt in NUMERIC and rt in NUMERIC and op not in ("<<", ">>", "&", "|", "^"):
            return "float" if "float" in (lt, rt) else ("int" if op != "**" else "any")
        if op == "+" and "str" in (lt, rt) and None not in (lt, rt):
            return "str"
        if None in (lt, rt):
            return None
        return "any"

    def short_circuit(self, node):
        left = self.expr(node.left)
        saved, self.lines.items = self.lines.items, []
        right = self.expr(node.right)
        rhs_lines, self.lines.items = self.lines.items, saved
        if not rhs_lines:
            if node.op == "??":
                if left.code.isidentifier():
                    return Val(f"({left.code} if {left.code} is not None else {right.code})", "any")
                t = self.tmp()
                return Val(f"({t} if ({t} := {left.code}) is not None else {right.code})", "any")
            lb = left.code if left.ty == "bool" else f"_bool({left.code})"
            rb = right.code if right.ty == "bool" else f"_bool({right.code})"
            pyop = "and" if node.op == "&&" else "or"
            return Val(f"({lb} {pyop} {rb})", "bool", True)
        t = self.tmp()
        if node.op == "??":
            self.emit(f"{t} = {left.code}")
            self.emit(f"if {t} is None:")
        else:
            self.emit(f"{t} = {left.code if left.ty == 'bool' else f'_bool({left.code})'}")
            self.emit(f"if {'' if node.op == '&&' else 'not '}{t}:")
        with self.indent():
            self.lines.items.extend((level + 1, text, pos) for level, text, pos in rhs_lines)
            rb = right.code if right.ty == "bool" or node.op == "??" else f"_bool({right.code})"
            self.emit(f"{t} = {rb}")
        return Val(t, "bool" if node.op != "??" else "any", True, True)

    def e_index(self, node):
        target, idx = self.exprs([node.target, node.index])
        code = f"_getidx(c, {target.code}, {idx.code})"
        if node.safe or after_elvis(node.target):
            target = self.nullable(target)
            code = f"(None if {target.code} is None else _getidx(c, {target.code}, {idx.code}))"
        return Val(code)

    def e_prop(self, node):
        target = self.expr(node.target)
        code = f"_getprop(c, {target.code}, {self.k(node.name)})"
        if node.safe or after_elvis(node.target):
            target = self.nullable(target)
            code = f"(None if {target.code} is None else _getprop(c, {target.code}, {self.k(node.name)}))"
        return Val(code)
