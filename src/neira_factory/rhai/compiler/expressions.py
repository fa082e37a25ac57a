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
        if v.ty == "bool":
            return v.code
        # (a name: Python warns of ``is`` with a literal; a variable is read twice in one expression)
        x = v.code if v.code.isidentifier() else self.nullable(v).code
        return f"({x} is True or {x} is not False and _truth({x}))"

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
        fast = self.interp_fast(parts)
        if fast is not None:
            return fast
        return self.checked(Val(f"_interp(c, {', '.join(p.code for p in parts)})", "str", True))

    def var_read(self, node) -> Val:
        b = self.lookup(node.name)
        if b is not None:
            return Val(b.py, self.btype(b))
        if node.name in self.m.fn_names:
            return Val(f"_FnPtr({self.k(node.name)})", "fnptr", True)
        if self.has_scope:
            return Val(f"_sget(S, {self.k(node.name)})")
        if self.kind != "main":  # a constant of the run's scope, as Rhai's optimizer inlines it
            return Val(f"_fconst(c, {self.k(node.name)})")
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
            if v.ty == "bool":
                return Val(f"(not {v.code})", "bool", True)
            x = self.nullable(v).code  # (``_not`` raises unless a bool)
            return Val(f"({x} is False or {x} is not True and _not({x}))", "bool", True)
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
            v = self.in_map(left, right)
            return v if op == "in" else Val(f"(not {v.code})", "bool", True)
        if op in ("..", "..="):
            return Val(f"_range({left.code}, {right.code}, {op == '..='})", "range", True)
        return self.binop(op, left, right)

    def binop(self, op, left: Val, right: Val) -> Val:
        lt, rt = left.ty, right.ty
        if op in COMPARE:
            # ints compare exactly; floats with Rhai's epsilon (``_lt`` and the like)
            if lt == rt == "int" or (lt == rt == "bool" and op in ("==", "!=")):
                return Val(f"({left.code} {op} {right.code})", "bool", True)
            guard, left, right = self.int_guard(left, right)
            lc, rc = left.code, right.code
            if guard:
                return Val(f"({lc} {op} {rc} if {guard} else {COMPARE[op]}(c, {lc}, {rc}))", "bool", True)
            return self.text_compare(op, left, right)
        helper = ARITH[op]
        if lt == rt == "int" and op in ("&", "|", "^"):
            return Val(f"({left.code} {op} {right.code})", "int", True)
        if op in ("%", "/"):
            return self.divmod_op(op, left, right)
        if op in ("+", "-", "*"):
            if lt == rt == "int":
                return Val(self.checked_int(op, left.code, right.code, right), "int", True)
            if (lt == "float" and rt in NUMERIC) or (rt == "float" and lt in NUMERIC):
                return Val(f"({left.code} {op} {right.code})", "float", True)
            if op == "+" and lt == rt == "str":
                return self.checked(self.text_sum(left, right))
            guard, left, right = self.int_guard(left, right)
            if guard:
                t = self.tmp()
                fast = self.checked_int(op, left.code, right.code, right, t, bare=True)
                return Val(f"({t} if {guard} and {fast} else {helper}(c, {left.code}, {right.code}))",
                           self.arith_type(op, lt, rt), True)
        return self.general_op(helper, op, left, right)

    def general_op(self, helper, op, left, right):
        ty = self.arith_type(op, left.ty, right.ty)
        v = Val(f"{helper}(c, {left.code}, {right.code})", ty, True)
        return self.checked(v) if ty in ("str", "any") else v

    def divmod_op(self, op, left, right):
        """``%`` and ``/``: Python's operators when both sides are ints, the left one not
        negative and the right one positive (where Rhai's truncating division agrees)."""
        pyop = "%" if op == "%" else "//"
        if left.ty == right.ty == "int" and right.code.isdigit() and int(right.code) > 0:
            t = self.tmp()
            return Val(f"({t} {pyop} {right.code} if ({t} := {left.code}) >= 0 else "
                       f"{ARITH[op]}(c, {t}, {right.code}))", "int", True)
        if left.ty not in ("int", "any") or right.ty not in ("int", "any"):
            return self.general_op(ARITH[op], op, left, right)
        left, right = self.simple(left), self.simple(right)
        lc, rc = left.code, right.code
        tests = [f"type({v.code}) is int" for v in (left, right) if v.ty != "int"]
        tests += [f"{lc} >= 0", "" if rc.isdigit() and int(rc) > 0 else f"{rc} > 0"]
        return Val(f"({lc} {pyop} {rc} if {' and '.join(filter(None, tests))} else "
                   f"{ARITH[op]}(c, {lc}, {rc}))", self.arith_type(op, left.ty, right.ty), True)

    def checked_int(self, op, lc, rc, right, t=None, bare=False):
        """i64-checked int arithmetic.  With ``bare``, just the range test that
        also assigns ``t`` (used inside a type-guarded fast path)."""
        if not bare and self.fits_i64(op, lc, rc):
            return f"({lc} {op} {rc})"
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

    def int_span(self, code):
        """The least and greatest value of the int ``code``, when known: a literal, or a loop
        variable of a range of literals that nothing assigns (``x_for``)."""
        if code in self.bounds:
            return self.bounds[code]
        text = code[1:-1] if code.startswith("(") and code.endswith(")") else code
        return (int(text), int(text)) if text.lstrip("-").isdigit() else None

    def fits_i64(self, op, lc, rc) -> bool:
        """Whether ``lc op rc`` (``+``, ``-`` or ``*`` of ints) is within i64 whatever the
        operands' values (the greatest and least results are at the corners of their spans)."""
        a, b = self.int_span(lc), self.int_span(rc)
        if a is None or b is None:
            return False
        ends = [x + y if op == "+" else x - y if op == "-" else x * y for x in a for y in b]
        return int(MIN_LIT) <= min(ends) and max(ends) <= int(MAX_LIT)

    def int_guard(self, left: Val, right: Val):
        """A type test making the int fast path valid (None when not needed or ruled out by
        the types) and the operands, moved into temporaries when the test needs them."""
        if left.ty not in ("int", "any") or right.ty not in ("int", "any"):
            return None, left, right
        if left.ty == right.ty == "int":
            return None, left, right
        left, right = self.simple(left), self.simple(right)
        tests = [f"type({v.code}) is int" for v in (left, right) if v.ty != "int"]
        return " and ".join(tests), left, right

    def simple(self, v: Val) -> Val:
        """``v`` as a name or number, fit to appear more than once in the code."""
        return v if _simple(v.code) else self.materialize(v)

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
        if node.safe or after_elvis(node.target):
            target = self.nullable(target)
            return Val(f"(None if {target.code} is None else _getidx(c, {target.code}, {idx.code}))")
        return self.index_read(target, idx)

    def e_prop(self, node):
        target = self.expr(node.target)
        if node.safe or after_elvis(node.target):
            target = self.nullable(target)
            return Val(f"(None if {target.code} is None else _getprop(c, {target.code}, {self.k(node.name)}))")
        return self.prop_read(target, self.k(node.name))
