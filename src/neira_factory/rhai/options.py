"""Language options (Rhai's ``Engine::set_allow_*`` and ``set_strict_variables``), checked on
a parsed script.

``LanguageOptions()`` allows everything, as Rhai's defaults do.  Turning an option off makes
compiling refuse (``ErrorParsing``) a script that uses the feature: ``if``, ``switch``, a
loop or a ``{ }`` block used as a value, closures, loops, a ``let``/``const`` of a name
already visible (the run's ``Scope`` included), and, with ``strict_variables``, a variable
or module alias that no declaration (nor the ``Scope``, nor a function of that name) makes
visible where it is used.  A script function sees its parameters, the ``Scope``'s constants
and the top-level module aliases only; a closure also sees the variables around it.  The
check walks the tree once; it runs only when an option is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ast as A
from .errors import parse_error

@dataclass(frozen=True)
class LanguageOptions:
    allow_if_expression: bool = True
    allow_switch_expression: bool = True
    allow_loop_expressions: bool = True
    allow_statement_expression: bool = True
    allow_anonymous_fn: bool = True
    allow_looping: bool = True
    allow_shadowing: bool = True
    strict_variables: bool = False

    @property
    def default(self) -> bool:
        return self == DEFAULT


DEFAULT = LanguageOptions()


def check(script: A.Script, options: LanguageOptions, names=(), constants=()) -> None:
    """Raise ``ErrorParsing`` where ``script`` uses what ``options`` turn off; ``names``: the
    variables of the ``Scope`` it will run with, ``constants``: those of them that are constant."""
    if options.default:
        return
    fns = {name for name, _ in script.functions}
    _Checker(options, fns, [set(names)]).body(script.stmts, scope=False)
    imports = {s.alias for s in script.stmts if type(s) is A.Import and s.alias}
    for fn in script.functions.values():
        _Checker(options, fns, [set(constants) | imports, set(fn.params)]).value(fn.body)


class _Checker:
    """Walks one function body (or the top level) with the names declared around each node."""

    def __init__(self, options, fns, scopes):
        self.o, self.fns, self.scopes = options, fns, scopes

    def fail(self, node, inner, msg):
        raise parse_error(inner, msg, node.line, node.col)

    def visible(self, name) -> bool:
        return any(name in s for s in self.scopes)

    def declare(self, node, name):
        if not self.o.allow_shadowing and self.visible(name):
            self.fail(node, "VariableExists", f"variable '{name}' is already defined (shadowing is not allowed)")
        self.scopes[-1].add(name)

    def body(self, stmts, scope=True):
        """Statements of a block, in a scope of their own."""
        if scope:
            self.scopes.append(set())
        for s in stmts:
            self.node(s, True)
        if scope:
            self.scopes.pop()

    def value(self, node):
        """A body that is a block or a single statement (not a value of its own)."""
        if type(node) is A.Block:
            self.body(node.stmts)
        elif node is not None:
            self.node(node, True)

    def node(self, n, stmt=False):
        if n is None:
            return
        t = type(n)
        handler = HANDLERS.get(t)
        if handler is not None:
            handler(self, n, stmt)
            return
        if t is A.Var:
            self.var(n, n.name)
        elif t in (A.ModVar, A.ModCall):
            self.var(n, n.path[0], "module")
        self.children(n)

    def children(self, n):
        for f in n.fields:
            v = getattr(n, f)
            for item in v if isinstance(v, list) else (v,):
                if isinstance(item, tuple):
                    for x in item:
                        if isinstance(x, A.Node):
                            self.node(x)
                elif isinstance(item, A.Node):
                    self.node(item)

    def var(self, n, name, what="variable"):
        if self.o.strict_variables and not self.visible(name) and (what != "variable" or name not in self.fns):
            self.fail(n, "VariableUndefined", f"{what} '{name}' is not defined (strict variables)")

    # -- nodes that declare names or hold bodies -------------------------------------
    def n_let(self, n, stmt):
        self.node(n.value)
        self.declare(n, n.name)

    def n_import(self, n, stmt):
        self.node(n.path)
        if n.alias is not None:
            self.scopes[-1].add(n.alias)

    def n_block(self, n, stmt):
        if not stmt and not self.o.allow_statement_expression:
            self.fail(n, "BadInput", "a statement block is not allowed as an expression")
        self.body(n.stmts)

    def n_if(self, n, stmt):
        if not stmt and not self.o.allow_if_expression:
            self.fail(n, "BadInput", "'if' is not allowed as an expression")
        self.node(n.cond)
        self.value(n.then)
        if type(n.other) is A.If:
            self.n_if(n.other, True)
        else:
            self.value(n.other)

    def n_loop(self, n, stmt):
        if not self.o.allow_looping:
            self.fail(n, "BadInput", "loops are not allowed")
        if not stmt and not self.o.allow_loop_expressions:
            self.fail(n, "BadInput", "a loop is not allowed as an expression")
        if type(n) is A.For:
            self.node(n.iterable)
            self.scopes.append({n.var} | ({n.idx} if n.idx else set()))
        else:
            self.node(getattr(n, "cond", None))
            self.scopes.append(set())
        self.value(n.body)
        self.scopes.pop()

    def n_try(self, n, stmt):
        self.value(n.body)
        self.scopes.append({n.var} if n.var else set())
        self.value(n.catch)
        self.scopes.pop()

    def n_switch(self, n, stmt):
        if not stmt and not self.o.allow_switch_expression:
            self.fail(n, "BadInput", "'switch' is not allowed as an expression")
        self.node(n.subject)
        for case in n.cases:
            for x in (*case.values, *case.ranges, case.cond):
                if isinstance(x, A.Node):
                    self.node(x)
            self.value(case.body)
        self.value(n.default)

    def n_closure(self, n, stmt):
        if not self.o.allow_anonymous_fn:
            self.fail(n, "BadInput", "anonymous functions are not allowed")
        self.scopes.append(set(n.params))
        self.value(n.body)
        self.scopes.pop()

    def n_interp(self, n, stmt):
        for part in n.parts:
            self.value(part)


HANDLERS = {
    A.Let: _Checker.n_let, A.Import: _Checker.n_import, A.Block: _Checker.n_block, A.If: _Checker.n_if,
    A.For: _Checker.n_loop, A.While: _Checker.n_loop, A.Loop: _Checker.n_loop, A.DoLoop: _Checker.n_loop,
    A.Try: _Checker.n_try, A.Switch: _Checker.n_switch, A.Closure: _Checker.n_closure, A.Interp: _Checker.n_interp,
}
