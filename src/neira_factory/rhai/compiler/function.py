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
from .borrow import only_read
from .fast import LEAF_NODES, LOOP_FREE, FastPaths, made_of
from .module import Module
from .scoped import ScopedCompiler
from .scopes import SCALARS, Binding
from .statements import StatementCompiler
from .val import UNIT, Checked, Val


def mentions_this(node) -> bool:
    """Whether ``this`` appears anywhere inside ``node``."""
    return A.finds(node, lambda n: isinstance(n, A.This))


class FnCompiler(StatementCompiler, ControlCompiler, ExpressionCompiler, CallCompiler, ScopedCompiler, FastPaths):
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
        self.max_run = 0  # the most operations counted at once (see ``flush``)
        self.live = 0
        self.max_live = module.limits.max_variables
        self.nonlocals: set[str] = set()
        self.has_scope = has_scope
        self.own_scope = False  # a script function with an ``eval``: its own dynamic scope ``S``
        self.prologue: list[str] = []  # lines run first (``eval``'s saved values, see ``scoped``)
        self.block_saves: dict = {}  # per block: Python name -> its value saved by an ``eval`` shadowing it
        self.counting = module.limits.counting
        self.leaf = False  # see ``flush``
        self.sized = module.limits.sized
        self.exports: list[Binding] = []
        self.catching: list[str] = []
        self.pyname = None  # a script function's Python name: its results' type is kept
        self.sig = None  # a variant's parameter types (see ``Module.callee``)
        self.results: dict = {}  # the type of each ``if``/``switch`` result (see ``set_result``)
        self.bounds: dict = {}  # Python name of a loop variable -> its least and greatest values
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
                    if fc is not self:  # captured by a closure: shared (see ``is_shared``)
                        self.m.types.assign(("shared", scope[name].key), "any")
                    return scope[name]
            fc = fc.parent
        return None

    def is_shared(self, node) -> bool:
        """Whether ``node`` names a variable that a closure captures (known from the previous
        compile pass; Rhai shares a variable once a closure captures it)."""
        b = self.lookup(node.name) if isinstance(node, A.Var) else None
        return b is not None and self.m.types.get(("shared", b.key)) is not None

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
        """Code for ``v`` as a value of its own: arrays and maps not freshly made are copied
        (a name holding a scalar at run time is passed on without a call)."""
        if v.fresh or v.ty in SCALARS:
            return v.code
        if v.code.isidentifier():
            return f"({v.code} if type({v.code}) in _SC else _cp(c, {v.code}))"
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

    def flush(self, check=False):
        """Count the operations pending; ``check`` the limit too (at loop back-edges, calls
        and returns: between them, code does work bounded by its size).  A ``leaf`` function
        (no loop) counts straight into ``c``; one that calls is checked as it starts, one that
        does not by whoever called it.  An error
        raised before the count loses at most ``max_run`` operations: a ``try`` and a function
        that it leaves count that many (``x_try``, ``body_function``)."""
        self.max_run = max(self.max_run, self.pending)
        if self.counting and self.pending:
            if self.leaf:
                self.emit(f"c.ops += {self.pending}")
            elif check:
                self.emit(f"if (_o := _o + {self.pending}) > _L: _L = c.tick(_o)")
            else:
                self.emit(f"_o += {self.pending}")
        elif self.counting and check and not self.leaf:
            self.emit("if _o > _L: _L = c.tick(_o)")
        self.pending = 0

    def sync_out(self):
        self.flush(True)
        if self.counting and not self.leaf:
            self.emit("c.ops = _o")

    def sync_in(self):
        if self.counting and not self.leaf:
            self.emit("_o = c.ops; _L = c.lim")

    def call_code(self, code, ty="any", fresh=True) -> Val:
        """Emit a call that may run script code (keeping the op counter in sync; a ``leaf``
        function counts its block once, at its end: what the run's counter lacks meanwhile is
        at most one block per call level)."""
        if not self.counting:
            return Val(code, ty, fresh)
        if not self.leaf:
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
            return self.end_block(self.statements(stmts, want))
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
        if self.pyname is not None:
            self.m.types.assign(("ret", self.pyname), v.ty)
        if self.uses_this or self.kind != "main":  # (a function's result is a value of its own)
            owned = self.owned(v)
            v = Val(owned, v.ty, True, v.stable and owned == v.code)
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
        self.leaf = self.counting and made_of(body, LOOP_FREE)
        if self.counting and not self.leaf:
            self.emit("_o = c.ops; _L = c.lim")
        elif self.leaf and not made_of(body, LEAF_NODES):  # it calls: checked once per call, here
            self.emit("if c.ops > c.lim: c.tick(c.ops)")
        self.emit("if d > c.maxd: _stk()")
        if self.own_scope:
            self.emit("S = _Scope()")
        v = self.block(body.stmts, True) if isinstance(body, A.Block) else self.stmt(body, True)
        self.emit_return(v)
        self.lines = outer
        plist = "".join(f", {b.py}" for b in self.params)
        this = "this" if self.uses_this else "_this"  # see ``calls.bind``
        self.emit(f"def {pyname}(c, d, {this}{plist}):")
        with self.indent():
            if self.nonlocals:
                self.emit(f"nonlocal {', '.join(sorted(self.nonlocals))}")
            for line in self.prologue:
                self.emit(line)
            for i, b in enumerate(self.params):
                if self.sig is None:
                    self.m.types.force(b.key)
                else:
                    self.m.types.assign(b.key, self.sig[i])
            self.emit("try:")
            with self.indent():
                self.lines.extend(inner)
            self.emit("except _RhaiError as _e:")
            with self.indent():
                if self.counting and self.max_run:
                    self.emit(f"c.ops += {self.max_run}")  # the work done since the last count
                self.emit(f"raise _wrap(_e, {self.k(rhai_name)}) from None")

    def batch_function(self, pyname, body, rhai_name):
        """Compile a closure of one or two parameters whose body is made of ``LEAF_NODES``
        alone (no ``return``, no ``this``) again, as ``pyname(c, d, xs, pred)`` (one parameter:
        its results on each of ``xs``, for ``map``/``filter``; a ``pred``icate's stop at the first
        that is no bool) or ``pyname(c, d, acc, xs)`` (two: the accumulator folded over ``xs``,
        for ``reduce``): the loop of calls runs inside, and the operations are counted in a local
        (or, when each call counts the same, from the number of results), added to the run's at
        the end (the native calls it on steps of ``Context.spans``, which check the limits)."""
        fold = len(self.params) == 2
        inner, per = self.batch_body(body, fold)
        done = f"len(_r) * {per}" if per else "_o"  # the operations of the calls done
        x = self.params[-1].py
        self.emit(f"def {pyname}(c, d, _acc, _xs):" if fold else f"def {pyname}(c, d, _xs, _p=False):")
        with self.indent():
            if self.nonlocals:
                self.emit(f"nonlocal {', '.join(sorted(self.nonlocals))}")
            for b in self.params:
                self.m.types.force(b.key)
            self.emit("if d > c.maxd: _stk()")
            self.emit("_o = 0" if fold else "_o = 0; _r = []; _put = _r.append")
            self.emit("try:")
            with self.indent():
                self.emit(f"for {x} in _xs:")
                with self.indent():
                    self.lines.extend(inner)
            self.emit("except _RhaiError as _e:")
            with self.indent():
                self.emit(f"c.ops += {done} + {self.max_run}")  # the work done since the last count
                self.emit(f"raise _wrap(_e, {self.k(rhai_name)}) from None")
            self.emit(f"c.ops += {done}")
            self.emit(f"return {'_acc' if fold else '_r'}")

    def batch_body(self, body, fold):
        """The lines of one call in ``batch_function``'s loop, and the operations each call
        counts when all count the same (their count then left out of the lines), else 0."""
        inner = Lines()
        outer, self.lines = self.lines, inner
        self.leaf = False  # (counted into ``_o``, never checked here)
        x = self.params[-1].py
        if fold:
            self.emit(f"{self.params[0].py} = _acc")
        name = self.params[-1].name  # (an element the call only reads is not copied)
        if name not in only_read((name,), body, self.m.script.functions):
            self.emit(f"{x} = ({x} if type({x}) in _SC else _cp(c, {x}))")
        self.count()
        v = self.block(body.stmts, True) if isinstance(body, A.Block) else self.stmt(body, True)
        self.emit(f"{'_acc' if fold else '_v'} = {self.owned(v)}")
        self.flush()
        counts = [text for _, text, _ in inner.items if text.startswith("_o += ")]
        per = 0
        if not fold and len(counts) == 1 and inner.items[-1][1] == counts[0] and inner.items[-1][0] == 0:
            per = int(inner.items.pop()[1][len("_o += "):])
        if not fold:  # a predicate's (``_p``) first result that is no bool ends the step, last
            self.emit("if _p and type(_v) is not bool: _put(_v); break")
            self.emit("_put(_v)")
        self.lines = outer
        return inner, per


EXPRESSIONS = {
    A.Const: FnCompiler.e_const, A.Interp: FnCompiler.e_interp, A.Var: FnCompiler.e_var,
    A.This: FnCompiler.e_this, A.GlobalVar: FnCompiler.e_globalvar,
    A.ArrayLit: FnCompiler.e_arraylit, A.MapLit: FnCompiler.e_maplit,
    A.Unary: FnCompiler.e_unary, A.Binary: FnCompiler.e_binary, A.Index: FnCompiler.e_index,
    A.Prop: FnCompiler.e_prop, A.Call: FnCompiler.e_call, A.MethodCall: FnCompiler.e_methodcall,
    A.Closure: FnCompiler.e_closure, A.ScopedCall: FnCompiler.e_scopedcall,
    A.ModVar: FnCompiler.e_modvar, A.ModCall: FnCompiler.e_modcall,
}
STATEMENTS = {
    A.Let: FnCompiler.s_let, A.Assign: FnCompiler.s_assign, A.Break: FnCompiler.s_break,
    A.Continue: FnCompiler.s_continue, A.Return: FnCompiler.s_return, A.Throw: FnCompiler.s_throw,
    A.Import: FnCompiler.s_import, A.Export: FnCompiler.s_export,
}
