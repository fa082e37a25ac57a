"""Statement-like expressions (``if``, ``switch``, blocks, loops, ``try``), for ``FnCompiler``:
lowered to Python statements that leave their value in a temporary."""

from __future__ import annotations

from .. import ast as A
from .borrow import only_read
from ..runtime.values import RhaiRange
from .scopes import join
from .val import UNIT, Val


class Loop:
    """How `break`/`continue` are emitted inside one loop."""

    __slots__ = ("result", "flag")

    def __init__(self, result, flag=None):
        self.result, self.flag = result, flag


def literal_span(node):
    """The least and greatest value of the variable of the ``for`` loop ``node`` over a range
    of int literals that nothing in its body assigns, or None."""
    it = node.iterable
    if not (isinstance(it, A.Binary) and it.op in ("..", "..=") and all(
            type(e) is A.Const and type(e.value) is int for e in (it.left, it.right))):
        return None
    if A.finds(node.body, lambda n: type(n) is A.Assign and type(n.target) is A.Var and n.target.name == node.var):
        return None
    return it.left.value, it.right.value - (it.op == "..")


class ControlCompiler:
    """``FnCompiler``'s statement-like expressions (a mixin)."""

    def compound(self, node, want) -> Val:
        if want and type(node) is A.Block:  # (a block's value keeps its type)
            return self.materialize(self.block(node.stmts, True))
        result = self.tmp() if want else None
        getattr(self, "x_" + type(node).__name__.lower())(node, result)
        if result is None:
            return UNIT
        # (every value an ``if`` or a ``switch`` may take is set by ``set_result``)
        return Val(result, self.results.get(result) if type(node) in (A.If, A.Switch) else "any", False, True)

    def set_result(self, result, v: Val):
        if result is not None:
            self.results[result] = join(self.results.get(result), v.ty)
            self.emit(f"{result} = {v.code}")

    def branch(self, body, result, carry=0):
        with self.indent():
            self.count(carry)
            v = self.block(body.stmts, result is not None) if isinstance(body, A.Block) \
                else self.stmt(body, result is not None)
            self.set_result(result, v)
            self.flush()

    def x_if(self, node, result):
        cond = self.cond(node.cond)
        carry, self.pending = self.pending, 0  # (what is pending is counted with each branch)
        self.emit(f"if {cond}:")
        self.branch(node.then, result, carry)
        if node.other is not None:
            self.emit("else:")
            self.branch(node.other, result, carry)
        elif result is not None or carry:
            self.emit("else:")
            with self.indent():
                if result is not None:
                    self.set_result(result, UNIT)
                self.count(carry)
                self.flush()

    def x_block(self, node, result):
        v = self.block(node.stmts, result is not None)
        self.set_result(result, v)

    def x_switch(self, node, result):
        subject = self.materialize(self.expr(node.subject))
        matched = self.tmp()
        self.flush()
        self.emit(f"{matched} = False")
        for case in [c for c in node.cases if c.values] + [c for c in node.cases if not c.values]:
            tests = [f"_same(c, {subject.code}, {self.k(v)})" for v in case.values]
            for lo, hi, incl in case.ranges:
                op = "<=" if incl else "<"
                tests.append(f"(type({subject.code}) is int and {lo} <= {subject.code} {op} {hi})")
                tests.append(f"_same(c, {subject.code}, {self.k(RhaiRange(lo, hi, incl))})")
            self.emit(f"if not {matched} and ({' or '.join(tests)}):")
            with self.indent():
                if case.cond is not None:
                    self.emit(f"if {self.cond(case.cond)}:")
                    with self.indent():
                        self.emit(f"{matched} = True")
                    self.emit(f"if {matched}:")
                else:
                    self.emit(f"{matched} = True")
                    self.emit("if True:")
                self.branch(case.body, result)
        self.emit(f"if not {matched}:")
        if node.default is not None:
            self.branch(node.default, result)
        else:
            with self.indent():
                self.set_result(result, UNIT)

    def loop_body(self, body, loop: Loop):
        self.loops.append(loop)
        self.block(body.stmts, False)
        self.loops.pop()
        self.flush(True)  # the back-edge: the limits are checked once per iteration

    def x_while(self, node, result):
        self.start_loop(result)
        self.flush()
        saved, self.lines.items = self.lines.items, []  # (the condition's statements, if any)
        self.lines.level += 1
        self.count()
        cond = self.cond(node.cond)
        pre, self.lines.items = self.lines.items, saved
        self.lines.level -= 1
        self.emit(f"while {cond}:" if not pre else "while True:")
        with self.indent():
            if pre:
                self.lines.items.extend(pre)
                self.emit(f"if not {cond}: break")
            self.loop_body(node.body, Loop(result))

    def x_loop(self, node, result):
        self.start_loop(result)
        self.flush()
        self.emit("while True:")
        with self.indent():
            self.count()
            self.loop_body(node.body, Loop(result))

    def x_doloop(self, node, result):
        self.start_loop(result)
        flag = self.tmp()
        self.flush()
        self.emit(f"{flag} = False")
        self.emit("while True:")
        with self.indent():
            self.count()
            self.emit("for _ in (0,):")
            with self.indent():
                self.loop_body(node.body, Loop(result, flag))
            self.emit(f"if {flag}: break")
            cond = self.cond(node.cond)
            self.emit(f"if {cond}: break" if node.until else f"if not {cond}: break")
            self.flush(True)

    def start_loop(self, result):
        if result is not None:
            self.emit(f"{result} = None")

    def x_for(self, node, result):
        self.start_loop(result)
        it = node.iterable
        self.scopes.append({})
        saved_live = self.live
        if isinstance(it, A.Binary) and it.op in ("..", "..="):
            lo, hi = self.exprs([it.left, it.right])
            if lo.ty == "int" and hi.ty == "int":
                seq = f"range({lo.code}, {hi.code}{' + 1' if it.op == '..=' else ''})"
            else:
                seq = f"_irange({lo.code}, {hi.code}, {it.op == '..='})"
            var_ty = "int"
        else:  # elements the body only reads are not copied
            shallow = node.var in only_read((node.var,), node.body, self.m.script.functions)
            seq = f"{'_iterv' if shallow else '_iter'}(c, {self.expr(it).code})"
            var_ty = "any"
        var = self.declare(node.var, False)
        self.m.types.assign(var.key, var_ty)
        span = literal_span(node)
        if span is not None:
            self.bounds[var.py] = span
        self.flush()
        if node.idx is not None:
            idx = self.declare(node.idx, False)
            self.m.types.assign(idx.key, "int")
            self.emit(f"for {idx.py}, {var.py} in enumerate({seq}):")
        else:
            self.emit(f"for {var.py} in {seq}:")
        with self.indent():
            self.count()
            self.loop_body(node.body, Loop(result))
        self.scopes.pop()
        self.live = saved_live

    def x_try(self, node, result):
        self.sync_out()
        outer_run, self.max_run = self.max_run, 0
        self.emit("try:")
        with self.indent():
            v = self.block(node.body.stmts, result is not None)
            self.set_result(result, v)
            self.sync_out()
        lost, self.max_run = self.max_run, max(outer_run, self.max_run)
        err = self.tmp()
        self.emit(f"except BaseException as {err}:")
        with self.indent():
            self.sync_in()
            self.count(lost)  # the work an error cut short was not counted yet: count the most it can be
            self.scopes.append({})
            saved_live = self.live
            if node.var is not None:
                b = self.declare(node.var, False)
                self.m.types.force(b.key)
                self.emit(f"{b.py} = _caught({err})")
            else:
                self.emit(f"_caught({err})")
            self.catching.append(err)
            v = self.block(node.catch.stmts, result is not None)
            self.catching.pop()
            self.set_result(result, v)
            self.scopes.pop()
            self.live = saved_live
            self.flush()
