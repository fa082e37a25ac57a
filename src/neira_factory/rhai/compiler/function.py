"""``FnCompiler``: compiles one Python function (the main script, a script function or a
closure): its bindings and temporaries, operation counting, blocks, the statement and expression
dispatch, and the whole ``def``.  Statements, statement-like expressions, expressions and calls
are compiled by the mixins it is made of (``statements``, ``control``, ``expressions``, ``calls``).
"""

from __future__ import annotations

from .. import ast as A
from .calls import CallCompiler
from .control import ControlCompiler, Loop
from .emitter import Indent, Lines
from .expressions import ExpressionCompiler
from .module import Module
from .scopes import SCALARS, Binding
from .statements import StatementCompiler
from .val import UNIT, Checked, Val


def mentions_this(node) -> bool:
    """Whether ``this`` appears anywhere inside ``node``."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.This):
            return True
        for f in n.fields:
            v = getattr(n, f)
            for item in v if isinstance(v, list) else (v,):
                if isinstance(item, tuple):
                    item = item[-1]
                if isinstance(item, A.Node):
                    stack.append(item)
    return False


class FnCompiler(StatementCompiler, ControlCompiler, ExpressionCompiler, CallCompiler):
    """Compiles the body of one Python function (main, script function or closure)."""

    def __init__(self, module: Module, kind, parent=None, params=(), has_scope=False, body=None):
        self.m = module
        self.uses_this = body is not None and mentions_this(body)
        self.kind = kind
        self.parent = parent
        self.lines = Lines()
        self.scopes = [{}]
        self.loops: list[Loop] = []
        self.pending = 0
        self.live = 0
        self.max_live = module.limits.max_variables
        self.nonlocals: set[str] = set()
        self.has_scope = has_scope
        self.counting = module.limits.counting
        self.sized = module.limits.sized
        self.exports: list[Binding] = []
        self.catching: list[str] = []
        self.params = [self.declare(p, False) for p in params]

    # -- helpers -----------------------------------------------------------
    def emit(self, text):
        self.lines.emit(text)

    def indent(self):
        return Indent(self.lines)

    def tmp(self):
        self.m.temps += 1
        return f"_t{self.m.temps}"

    def k(self, value):
        return self.m.consts.ref(value)

    def at(self, node):
        self.lines.pos = (node.line, node.col)

    def declare(self, name, const):
        b = self.m.new_binding(name, const, self)
        if name not in self.scopes[-1]:
            self.live += 1
        self.scopes[-1][name] = b
        if self.max_live and self.live > self.max_live:
            self.emit("_tmv()")
        return b

    def lookup(self, name):
        fc = self
        while fc is not None:
            for scope in reversed(fc.scopes):
                if name in scope:
                    return scope[name]
            fc = fc.parent
        return None

    def btype(self, b):
        return self.m.type_of(b)

    def store(self, b: Binding, v: Val):
        """Assign a compiled value to a binding (copying borrowed containers)."""
        self.m.types.assign(b.key, v.ty)
        if b.owner is not self:
            self.nonlocals.add(b.py)
        if type(v) is Checked:
            self.emit(f"{b.py} = {self.owned(v.inner)}")
            self.emit(f"c.check_size({b.py})")
            return
        self.emit(f"{b.py} = {self.owned(v)}")

    def owned(self, v: Val) -> str:
        if v.fresh or v.ty in SCALARS:
            return v.code
        return f"_cp(c, {v.code})"

    def materialize(self, v: Val) -> Val:
        if v.stable:
            return v
        t = self.tmp()
        self.emit(f"{t} = {v.code}")
        return Val(t, v.ty, v.fresh, True)

    def nullable(self, v: Val) -> Val:
        """``v`` materialized as a name, fit for ``is None`` (Python warns about
        ``is`` with a number literal, as in ``1?.a``)."""
        if v.stable and v.code.isidentifier():
            return v
        t = self.tmp()
        self.emit(f"{t} = {v.code}")
        return Val(t, v.ty, v.fresh, True)

    # -- operation counting ------------------------------------------------
    def count(self, n=1):
        self.pending += n

    def flush(self):
        if self.counting and self.pending:
            self.emit(f"_o += {self.pending}")
            self.emit("if _o > _L: _L = c.tick(_o)")
        self.pending = 0

    def sync_out(self):
        self.flush()
        if self.counting:
            self.emit("c.ops = _o")

    def sync_in(self):
        if self.counting:
            self.emit("_o = c.ops; _L = c.lim")

    def call_code(self, code, ty="any", fresh=True) -> Val:
        """Emit a call that may run script code (keeping the op counter in sync)."""
        if not self.counting:
            return Val(code, ty, fresh)
        self.sync_out()
        t = self.tmp()
        self.emit(f"{t} = {code}")
        self.sync_in()
        return Val(t, ty, fresh, True)

    def checked(self, v: Val) -> Val:
        """Wrap a value that may have grown with the data-size check."""
        if self.sized and v.ty not in ("int", "float", "bool", "unit", "char"):
            return Checked(v)
        return v

    # -- blocks, statements and expressions ----------------------------------
    def block(self, stmts, want) -> Val:
        self.scopes.append({})
        saved_live = self.live
        try:
            return self.statements(stmts, want)
        finally:
            self.scopes.pop()
            self.live = saved_live

    def statements(self, stmts, want) -> Val:
        for s in stmts[:-1]:
            self.stmt(s)
        if not stmts:
            return UNIT
        if want:
            return self.stmt(stmts[-1], True)
        self.stmt(stmts[-1])
        return UNIT

    def stmt(self, node, want=False) -> Val:
        """Compile a statement; returns its value (UNIT unless ``want``)."""
        self.at(node)
        self.count()
        self.m.visit()
        t = type(node)
        handler = STATEMENTS.get(t)
        if handler is not None:
            handler(self, node)
            return UNIT
        if t in (A.If, A.Switch, A.While, A.Loop, A.DoLoop, A.For, A.Try, A.Block):
            return self.compound(node, want)
        v = self.expr(node)
        if want:
            return v
        if not v.stable:
            self.emit(v.code)
        return UNIT

    def expr(self, node) -> Val:
        self.at(node)
        self.count()
        self.m.visit()
        handler = EXPRESSIONS.get(type(node))
        if handler is not None:
            return handler(self, node)
        return self.compound(node, True)

    def emit_return(self, v: Val):
        if self.uses_this or self.kind == "closure":
            v = Val(self.owned(v), v.ty, True)
        if self.counting or self.uses_this:
            v = self.materialize(v)
        self.sync_out()
        if self.uses_this:
            self.emit("c.this_out = this")
        self.emit(f"return {v.code}")

    def body_function(self, pyname, params, body, rhai_name):
        """Compile a script function or closure into ``def pyname(c, d, this, ...)``."""
        inner = Lines()
        outer, self.lines = self.lines, inner
        self.count()
        if self.counting:
            self.emit("_o = c.ops; _L = c.lim")
        self.emit("if d > c.maxd: _stk()")
        v = self.block(body.stmts, True) if isinstance(body, A.Block) else self.stmt(body, True)
        self.emit_return(v)
        self.lines = outer
        plist = "".join(f", {b.py}" for b in self.params)
        self.emit(f"def {pyname}(c, d, this{plist}):")
        with self.indent():
            if self.nonlocals:
                self.emit(f"nonlocal {', '.join(sorted(self.nonlocals))}")
            for b in self.params:
                self.m.types.force(b.key)
            self.emit("try:")
            with self.indent():
                self.lines.extend(inner)
            self.emit("except _RhaiError as _e:")
            with self.indent():
                self.emit(f"raise _wrap(_e, {self.k(rhai_name)}) from None")


EXPRESSIONS = {
    A.Const: FnCompiler.e_const, A.Interp: FnCompiler.e_interp, A.Var: FnCompiler.e_var,
    A.This: FnCompiler.e_this, A.GlobalVar: FnCompiler.e_globalvar,
    A.ArrayLit: FnCompiler.e_arraylit, A.MapLit: FnCompiler.e_maplit,
    A.Unary: FnCompiler.e_unary, A.Binary: FnCompiler.e_binary, A.Index: FnCompiler.e_index,
    A.Prop: FnCompiler.e_prop, A.Call: FnCompiler.e_call, A.MethodCall: FnCompiler.e_methodcall,
    A.Closure: FnCompiler.e_closure,
}
STATEMENTS = {
    A.Let: FnCompiler.s_let, A.Assign: FnCompiler.s_assign, A.Break: FnCompiler.s_break,
    A.Continue: FnCompiler.s_continue, A.Return: FnCompiler.s_return, A.Throw: FnCompiler.s_throw,
}
