"""Compiler: Rhai syntax tree → Python source → Python code object.

Each Rhai function (and the main script, and each closure) becomes one Python
function.  Rhai variables become Python locals with unique names (closures
capture them through Python cells, which gives Rhai's shared-capture
semantics).  Expressions compile to Python expressions; statement-like
expressions (``if``, ``switch``, loops, blocks) are lowered to statements that
leave their value in a temporary.  Literal strings and other constants live in
a constants table (``_kN`` globals), never inside the generated source.

Statically inferred types (see ``scopes``) let integer arithmetic and
comparisons compile to plain Python operators plus an i64 range check.
Operation counting (for ``max_operations`` and the timeout) adds the number of
syntax nodes evaluated in each straight-line stretch to a local counter.

Compiling takes time linear in the syntax tree (a few passes over it); with a
``meter`` (an ``eval`` text) every ``METER_EVERY`` nodes compiled, and the lines
generated, are charged to it.
"""

from __future__ import annotations

from . import ast as A
from .emitter import Constants, Indent, Lines
from .errors import parse_error
from .lexer import METER_EVERY
from .packages.registry import CALLBACK_NAMES, FUNCS
from .scopes import SCALARS, Binding, TypeTable
from .runtime.values import Char, RhaiRange

MIN_LIT, MAX_LIT = "-9223372036854775808", "9223372036854775807"
NATIVE_NAMES = frozenset(name for name, _ in FUNCS)
MAX_PASSES = 6
STR_MUTATORS = frozenset(
    n for (n, _), ovs in FUNCS.items() if any(ov.strmut for ov in ovs)
)
ARITH = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div", "%": "_mod", "**": "_pow",
         "<<": "_shl", ">>": "_shr", "&": "_band", "|": "_bor", "^": "_bxor"}
COMPARE = {"==": "_eq", "!=": "_ne", "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}
NUMERIC = ("int", "float")


class Val:
    """A compiled expression: Python code, static type, whether the value is
    freshly made (no copy needed when stored) and whether the code is stable
    (a constant or temporary that later statements cannot change)."""

    __slots__ = ("code", "ty", "fresh", "stable")

    def __init__(self, code, ty="any", fresh=False, stable=False):
        self.code, self.ty, self.fresh, self.stable = code, ty, fresh, stable


UNIT = Val("None", "unit", True, True)


class Checked(Val):
    """``c.check_size(inner)``: a value that may have grown, checked against the data-size
    limits.  Stored into a variable it is assigned first and checked after, so that
    ``s = s + "x"`` keeps CPython's in-place string append instead of copying ``s``."""

    __slots__ = ("inner",)

    def __init__(self, inner: Val):
        super().__init__(f"c.check_size({inner.code})", inner.ty, inner.fresh, False)
        self.inner = inner


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


class Loop:
    """How `break`/`continue` are emitted inside one loop."""

    __slots__ = ("result", "flag")

    def __init__(self, result, flag=None):
        self.result, self.flag = result, flag


class Module:
    """State shared by all functions of one compiled script."""

    def __init__(self, script, limits, types: TypeTable, all_any=False, meter=None):
        self.script = script
        self.limits = limits
        self.types = types
        self.all_any = all_any
        self.meter = meter
        self.visits = 0
        self.consts = Constants()
        self.bindings = 0
        self.temps = 0
        self.closures = 0
        self.fn_names = {name for name, _ in script.functions}

    def visit(self):
        """One more syntax node compiled (charged to the meter every ``METER_EVERY``)."""
        self.visits += 1
        if self.visits % METER_EVERY == 0 and self.meter is not None:
            self.meter(METER_EVERY)

    def new_binding(self, name, const, owner):
        self.bindings += 1
        return Binding(name, f"v{self.bindings}_{name}", const, self.bindings, owner)

    def type_of(self, b: Binding):
        return "any" if self.all_any else self.types.get(b.key)


class FnCompiler:
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

    # -- blocks and statements -------------------------------------------------
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
        if node.op is None:
            self.assign(target, lambda old: value)
        else:
            if not isinstance(target, (A.Var, A.This)):
                value = self.materialize(value)
            self.assign(target, lambda old: self.compound_value(node.op, old, value))
        if isinstance(target, (A.Index, A.Prop)):
            self.recheck(target.target)

    def compound_value(self, op, old: Val, value: Val) -> Val:
        if op == "+" and old.ty not in ("int", "float", "str", None):
            if self.sized:
                return Val(f"_addas(c, {old.code}, {self.owned(value)})", "any", True)
            return Val(f"_adda(c, {old.code}, {self.owned(value)})", "any", True)
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
        self.flush()
        self.emit("break" if self.loops[-1].flag else "continue")

    def s_return(self, node):
        v = self.expr(node.value) if node.value is not None else UNIT
        self.emit_return(v)

    def emit_return(self, v: Val):
        if self.uses_this or self.kind == "closure":
            v = Val(self.owned(v), v.ty, True)
        if self.counting or self.uses_this:
            v = self.materialize(v)
        self.sync_out()
        if self.uses_this:
            self.emit("c.this_out = this")
        self.emit(f"return {v.code}")

    def s_throw(self, node):
        if node.value is None and self.catching:
            self.sync_out()
            self.emit(f"raise {self.catching[-1]}")
            return
        v = self.expr(node.value) if node.value is not None else UNIT
        self.sync_out()
        self.emit(f"_throw({v.code})")

    # -- assignment targets --------------------------------------------------
    def assign(self, target, make):
        """Store ``make(old_value)`` into an assignable expression, writing back
        changed immutable containers (strings, bit fields) up the chain."""
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
        base = (self.nullable if target.safe else self.materialize)(self.expr(target.target))
        if target.safe:
            self.emit(f"if {base.code} is not None:")
            with self.indent():
                self.assign_member(target, base, make)
            return
        self.assign_member(target, base, make)

    def assign_member(self, target, base, make):
        args = "s(c, " if self.sized else "(c, "  # _setidxs/_setprops report stores and check sizes
        if isinstance(target, A.Index):
            idx = self.materialize(self.expr(target.index))
            old = Val(f"_getidx(c, {base.code}, {idx.code})")
            v = make(old)
            new = f"_setidx{args}{base.code}, {idx.code}, {self.owned(v)})"
        else:
            key = self.k(target.name)
            old = Val(f"_getprop(c, {base.code}, {key})")
            v = make(old)
            new = f"_setprop{args}{base.code}, {key}, {self.owned(v)})"
        n = self.tmp()
        self.emit(f"{n} = {new}")
        self.write_back(target.target, base.code, n)

    def write_back(self, target, old_code, new_code):
        if not self.assignable(target):
            return
        self.emit(f"if {new_code} is not {old_code}:")
        with self.indent():
            self.assign(target, lambda _old: Val(new_code, "any", True, True))

    def assignable(self, e):
        if isinstance(e, A.Var):
            b = self.lookup(e.name)
            return b is None or not b.const
        if isinstance(e, A.This):
            return True
        if isinstance(e, (A.Index, A.Prop)) and not e.safe:
            return self.assignable(e.target)
        return False

    # -- statement-like expressions -------------------------------------------
    def compound(self, node, want) -> Val:
        result = self.tmp() if want else None
        getattr(self, "x_" + type(node).__name__.lower())(node, result)
        if result is None:
            return UNIT
        return Val(result, "any", False, True)

    def set_result(self, result, v: Val):
        if result is not None:
            self.emit(f"{result} = {v.code}")

    def branch(self, body, result):
        with self.indent():
            v = self.block(body.stmts, result is not None) if isinstance(body, A.Block) \
                else self.stmt(body, result is not None)
            self.set_result(result, v)
            self.flush()

    def x_if(self, node, result):
        cond = self.cond(node.cond)
        self.flush()
        self.emit(f"if {cond}:")
        self.branch(node.then, result)
        if node.other is not None:
            self.emit("else:")
            self.branch(node.other, result)
        elif result is not None:
            self.emit("else:")
            with self.indent():
                self.emit(f"{result} = None")

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
        self.flush()

    def x_while(self, node, result):
        self.start_loop(result)
        self.flush()
        self.emit("while True:")
        with self.indent():
            self.count()
            cond = self.cond(node.cond)
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
            self.flush()

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
        else:
            seq = f"_iter(c, {self.expr(it).code})"
            var_ty = "any"
        var = self.declare(node.var, False)
        self.m.types.assign(var.key, var_ty)
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
        self.emit("try:")
        with self.indent():
            v = self.block(node.body.stmts, result is not None)
            self.set_result(result, v)
            self.sync_out()
        err = self.tmp()
        self.emit(f"except BaseException as {err}:")
        with self.indent():
            self.sync_in()
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

    # -- expressions -----------------------------------------------------------
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

    def expr(self, node) -> Val:
        self.at(node)
        self.count()
        self.m.visit()
        handler = EXPRESSIONS.get(type(node))
        if handler is not None:
            return handler(self, node)
        return self.compound(node, True)

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

    def args_code(self, vals, copy_from=0):
        return ", ".join(v.code if i < copy_from else self.owned(v) for i, v in enumerate(vals))

    def e_call(self, node):
        name, n = node.name, len(node.args)
        args = self.exprs(node.args)
        if (name, n) in self.m.script.functions:
            self.count()
            code = f"F_{name}_{n}(c, d + 1, _UNB, {self.args_code(args)})" if n else \
                f"F_{name}_{n}(c, d + 1, _UNB)"
            return self.call_code(code)
        b = self.lookup(name)
        if b is not None:
            return self.call_code(f"_cptr(c, d, {b.py}, [{self.args_code(args)}])[0]")
        if name == "is_def_var" and n == 1 and isinstance(node.args[0], A.Const):
            known = self.lookup(str(node.args[0].value)) is not None
            if known or not self.has_scope:
                return Val(repr(known), "bool", True, True)
            return Val(f"({args[0].code} in S.values)", "bool", True)
        kname = self.k(name)
        if args and name in STR_MUTATORS and self.assignable(node.args[0]):
            first = self.materialize(args[0])
            r, nt = self.tmp(), self.tmp()
            code = f"_callr(c, d, {kname}, [{first.code}, {self.args_code(args[1:])}])"
            res = self.call_code(code)
            self.emit(f"{r}, {nt} = {res.code}")
            self.write_back(node.args[0], first.code, nt)
            self.after_call(node.args[0], name)
            return self.checked(Val(r, "any", True, True))
        code = f"_call(c, d, {kname}, [{self.args_code(args, 1)}])"
        res = self.call_code(code) if self.may_run_script(name) else Val(code, "any", True)
        return self.checked(self.after_call(node.args[0], name, res) if args else res)

    def e_methodcall(self, node):
        vals = self.exprs([node.target, *node.args])
        target, args = (self.nullable if node.safe else self.materialize)(vals[0]), vals[1:]
        call = f"_cm(c, d, {self.k(node.name)}, {target.code}, [{self.args_code(args)}])"
        writes = node.name in self.m.fn_names or node.name == "call" or (
            node.name in STR_MUTATORS and target.ty not in ("array", "map"))
        if node.safe:
            call = f"((None, None) if {target.code} is None else {call})"
        if not (writes and self.assignable(node.target)):
            return self.checked(self.after_call(node.target, node.name, self.call_code(f"{call}[0]")))
        r, nt = self.tmp(), self.tmp()
        res = self.call_code(call)
        self.emit(f"{r}, {nt} = {res.code}")
        self.write_back(node.target, target.code, nt)
        self.after_call(node.target, node.name)
        return self.checked(Val(r, "any", True, True))

    def may_run_script(self, name) -> bool:
        """Whether calling ``name`` may run script code (a callback, a script function, a
        function pointer held by a variable or a map property)."""
        return name in CALLBACK_NAMES or name in self.m.fn_names or name not in NATIVE_NAMES

    def after_call(self, node, name, res=None):
        """After the call ``name`` on ``node`` (as ``this`` or first argument), when it can have
        grown a container its root variable holds (``node`` is inside that variable's value, or
        script code may have changed the value in place), check that variable; ``res`` (the
        call's value, returned) is materialized first so that the check follows the call."""
        if not self.sized or not (isinstance(node, (A.Index, A.Prop)) or self.may_run_script(name)):
            return res
        if res is not None:
            res = self.materialize(res)
        self.recheck(node, True)
        return res

    def recheck(self, node, inner=False):
        """With data-size limits, check the variable at the root of the access chain ``node``
        (``inner``: even when ``node`` is that variable) after a change made in place through
        it: a container grown inside another one grows that one too."""
        if not self.sized or not (inner or isinstance(node, (A.Index, A.Prop))):
            return
        while isinstance(node, (A.Index, A.Prop)):
            node = node.target
        if isinstance(node, A.This) and self.kind != "main":
            self.emit("c.check_size(this)")
        elif isinstance(node, A.Var):
            b = self.lookup(node.name)
            if b is not None:
                self.emit(f"c.check_size({b.py})")
            elif self.has_scope and node.name not in self.m.fn_names:
                self.emit(f"c.check_size(_sget(S, {self.k(node.name)}))")

    def e_closure(self, node):
        self.m.closures += 1
        name = f"_cl{self.m.closures}"
        fc = FnCompiler(self.m, "closure", self, node.params, self.has_scope, node.body)
        fc.body_function(name, node.params, node.body, f"anon${self.m.closures}")
        self.lines.extend(fc.lines)
        return Val(f"_FnPtr({self.k(f'anon${self.m.closures}')}, None, {name})", "fnptr", True)

    # -- whole functions ---------------------------------------------------------
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


def _module_source(script, limits, types, all_any, meter):
    m = Module(script, limits, types, all_any, meter)
    out = Lines()
    for (name, arity), fn in script.functions.items():
        fc = FnCompiler(m, "fn", None, fn.params, body=fn.body)
        fc.body_function(f"F_{name}_{arity}", fn.params, fn.body, name)
        out.extend(fc.lines)
    main = FnCompiler(m, "main", None, (), has_scope=True)
    if main.counting:
        main.emit("_o = c.ops; _L = c.lim")
    main.emit_return(main.statements(script.stmts, True))
    exports = ", ".join(f"({main.k(b.name)}, {b.py!r}, {b.const})" for b in main.exports)
    out.emit("def main(c, S, d=0):")
    out.level += 1
    out.emit("try:")
    out.level += 1
    out.extend(main.lines)
    out.level -= 1
    out.emit("finally:")
    out.level += 1
    out.emit(f"S.export(locals(), ({exports}{',' if main.exports else ''}))")
    out.level -= 2
    return out, m


class Compiled:
    """A compiled script: its Python code object, constants and position map."""

    __slots__ = ("code", "consts", "posmap", "source_text", "fn_keys")

    def __init__(self, code, consts, posmap, source_text, fn_keys):
        self.code, self.consts, self.posmap, self.source_text, self.fn_keys = \
            code, consts, posmap, source_text, fn_keys

    def instantiate(self):
        """Fresh module globals holding ``main`` and the ``F_*`` script functions."""
        from .runtime.prelude import PRELUDE

        g = dict(PRELUDE)
        g.update(self.consts)
        g["__rhai_pos__"] = self.posmap
        exec(self.code, g)  # noqa: S102 - our own generated code; script data lives in constants
        fns = {key: g[f"F_{key[0]}_{key[1]}"] for key in self.fn_keys}
        return g["main"], fns


def compile_script(script, limits, meter=None) -> Compiled:
    """``script`` compiled to Python; ``meter`` (a callable taking a count) is charged
    for the nodes compiled and the lines generated, before Python compiles them."""
    types = TypeTable()
    for _ in range(MAX_PASSES):
        out, m = _module_source(script, limits, types, False, meter)
        if not types.next_pass():
            break
    else:
        out, m = _module_source(script, limits, types, True, meter)
    text, posmap = out.render()
    if meter is not None:
        meter(len(posmap))
    try:
        code = compile(text, "<rhai>", "exec")
    except (SyntaxError, RecursionError, MemoryError) as e:
        raise parse_error("ExprTooDeep", f"script too complex to compile: {e}") from None
    return Compiled(code, m.consts.values, posmap, text, list(script.functions))


__all__ = ["compile_script", "Compiled"]
