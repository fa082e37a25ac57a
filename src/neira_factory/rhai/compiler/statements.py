"""Statements (``let``, assignment, ``break``, ``continue``, ``return``, ``throw``) and assignment
targets, for ``FnCompiler``.  Storing into an index or property chain writes changed immutable
containers (strings, bit fields) back up the chain."""

from __future__ import annotations

from .. import ast as A
from ..errors import parse_error
from .val import UNIT, Val


class StatementCompiler:
    """``FnCompiler``'s statements and assignment targets (a mixin)."""

    def s_let(self, node):
        v = self.expr(node.value) if node.value is not None else UNIT
        if self.kind == "main" and len(self.scopes) == 1 and node.const:
            v = self.materialize(v)
            self.emit(f"c.constants[{self.k(node.name)}] = {v.code}")
        b = self.declare(node.name, node.const)
        if self.kind == "main" and len(self.scopes) == 1:
            self.exports.append(b)
        self.store(b, v)

    def s_assign(self, node):
        target = node.target
        value = self.expr(node.value)
        if node.op == "+" and self.str_append(target, value):
            return
        if not isinstance(target, (A.Var, A.This)):  # (Rhai evaluates the value before the target)
            value = self.materialize(value)
        if node.op is None:
            # (a value with no side effect: the container and the index are read after it)
            self.assign(target, lambda old: value, plain=value.stable or value.code.isidentifier())
        else:
            self.assign(target, lambda old: self.compound_value(node.op, old, value))
        if isinstance(target, (A.Index, A.Prop)):
            self.recheck(target.target)

    def compound_value(self, op, old: Val, value: Val) -> Val:
        if op == "+" and old.ty not in ("int", "float", "str", None):
            if self.sized:
                return Val(f"_addas(c, {old.code}, {self.owned(value)})", "any", True)
            return self.add_assign(old, value)
        if op == "??":
            return Val(f"({old.code} if {old.code} is not None else {value.code})", "any")
        return self.binop(op, old, value)

    def s_break(self, node):
        loop = self.loops[-1]
        if node.value is not None and loop.result:
            v = self.expr(node.value)
            self.emit(f"{loop.result} = {self.owned(v)}")
        elif node.value is not None:
            self.stmt(node.value)
        self.flush()
        if loop.flag:
            self.emit(f"{loop.flag} = True")
        self.emit("break")

    def s_continue(self, node):
        self.flush(True)
        self.emit("break" if self.loops[-1].flag else "continue")

    def s_return(self, node):
        v = self.expr(node.value) if node.value is not None else UNIT
        self.emit_return(v)

    def s_throw(self, node):
        if node.value is None and self.catching:
            self.sync_out()
            self.emit(f"raise {self.catching[-1]}")
            return
        v = self.expr(node.value) if node.value is not None else UNIT
        self.sync_out()
        self.emit(f"_throw({v.code})")

    # -- assignment targets --------------------------------------------------
    def assign(self, target, make, plain=False):
        """Store ``make(old_value)`` into an assignable expression, writing back
        changed immutable containers (strings, bit fields) up the chain; ``plain``: ``make``
        emits no code (a plain ``=``), so a variable as the container or the index is not
        moved into a temporary first."""
        self.at(target)
        if isinstance(target, A.Var):
            b = self.lookup(target.name)
            if b is None:
                old = self.var_read(target) if make is not None else None
                v = self.materialize(make(old))
                if self.has_scope:
                    self.emit(f"_sset(S, {self.k(target.name)}, {self.owned(v)})")
                else:
                    self.emit(f"_novar({self.k(target.name)})")
                return
            if b.const:
                raise parse_error("AssignmentToConstant", f"cannot assign to constant '{b.name}'",
                                  target.line, target.col)
            self.store(b, make(Val(b.py, self.btype(b))))
            return
        if isinstance(target, A.This):
            v = make(Val("this"))
            self.emit(f"this = {self.owned(v)}")
            return
        root = target
        while isinstance(root, (A.Index, A.Prop)):
            root = root.target
        b = self.lookup(root.name) if isinstance(root, A.Var) else None
        if b is not None and b.const:
            self.emit(f"_cerr({self.k(b.name)})")
            return
        base = self.expr(target.target)
        if not (plain and base.code.isidentifier()):
            base = (self.nullable if target.safe else self.materialize)(base)
        if target.safe:
            self.emit(f"if {base.code} is not None:")
            with self.indent():
                self.assign_member(target, base, make, plain)
            return
        self.assign_member(target, base, make, plain)

    def assign_member(self, target, base, make, plain=False):
        args = "s(c, " if self.sized else "(c, "  # _setidxs/_setprops report stores and check sizes
        if isinstance(target, A.Index):
            key = self.expr(target.index)
            key = key if plain and key.code.isidentifier() else self.materialize(key)
            v = make(self.index_expr(base, key))
            setter, tests = f"_setidx{args}", self.store_tests(base, key)
        else:
            key = Val(self.k(target.name), "str", True, True)
            v = make(self.prop_read(base, key.code))
            setter, tests = f"_setprop{args}", self.store_tests(base, None)

        def slow(value_code):
            n = self.tmp()
            self.emit(f"{n} = {setter}{base.code}, {key.code}, {value_code})")
            # storing into an array or map changes it in place: the variable keeps its type
            self.write_back(target.target, base.code, n, base.ty if base.ty in (None, "array", "map") else "any")

        if tests:
            self.store_fast(tests, base, key.code, v, lambda val: slow(val.code))
        else:
            slow(self.owned(v))

    def write_back(self, target, old_code, new_code, ty="any"):
        if not self.assignable(target):
            return
        self.emit(f"if {new_code} is not {old_code}:")
        with self.indent():
            self.assign(target, lambda _old: Val(new_code, ty, True, True))

    def assignable(self, e):
        if isinstance(e, A.Var):
            b = self.lookup(e.name)
            return b is None or not b.const
        if isinstance(e, A.This):
            return True
        if isinstance(e, (A.Index, A.Prop)) and not e.safe:
            return self.assignable(e.target)
        return False
