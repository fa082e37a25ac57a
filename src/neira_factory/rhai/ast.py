"""Syntax tree node classes produced by the parser and consumed by the compiler.

Every node has ``line``/``col`` (its source position).  Rhai is
expression-oriented, so statements and expressions share one ``Node`` base and
every node yields a value when compiled (statements yield ``()``).
"""

from __future__ import annotations


class Node:
    __slots__ = ("line", "col")
    fields: tuple = ()

    def __init__(self, pos, *args):
        self.line, self.col = pos
        for name, value in zip(self.fields, args, strict=True):
            setattr(self, name, value)

    def __repr__(self):
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.fields)
        return f"{type(self).__name__}({inner})"


def finds(node, pred) -> bool:
    """Whether ``pred`` holds for ``node`` or any node inside it (closures included)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if pred(n):
            return True
        for f in n.fields:
            v = getattr(n, f)
            for item in v if isinstance(v, list) else (v,):
                if isinstance(item, tuple):
                    item = item[-1]
                if isinstance(item, Node):
                    stack.append(item)
    return False


def _node(name: str, fields: str, doc: str) -> type[Node]:
    names = tuple(fields.split())
    return type(name, (Node,), {"__slots__": names, "fields": names, "__doc__": doc})


# expressions
Const = _node("Const", "value", "A literal value (int, float, bool, str, Char or None).")
Interp = _node("Interp", "parts", "A back-tick string: list of expressions joined as strings.")
Var = _node("Var", "name", "A variable reference.")
This = _node("This", "", "The `this` pointer.")
GlobalVar = _node("GlobalVar", "name", "`global::NAME`: a global constant read from a function.")
ArrayLit = _node("ArrayLit", "items", "An array literal.")
MapLit = _node("MapLit", "items", "An object-map literal: list of (key, expression).")
Unary = _node("Unary", "op operand", "A prefix operator: `-`, `+` or `!`.")
Binary = _node("Binary", "op left right", "A binary operator, including `&&`, `||`, `??`, `in` and ranges.")
Index = _node("Index", "target index safe", "`target[index]` (`safe` for `?[`).")
Prop = _node("Prop", "target name safe", "`target.name` property access (`safe` for `?.`).")
Call = _node("Call", "name args", "A function call `name(args)`.")
MethodCall = _node("MethodCall", "target name args safe", "A method call `target.name(args)`.")
ScopedCall = _node("ScopedCall", "name args", "`name!(args)`: a script function run in the caller's scope.")
ModVar = _node("ModVar", "path name", "`m::sub::name`: a variable exported by an imported module.")
ModCall = _node("ModCall", "path name args", "`m::sub::name(args)`: a function of an imported module.")
Closure = _node("Closure", "params body", "An anonymous function `|params| body`.")
If = _node("If", "cond then other", "`if cond {then} else other` (other may be None).")
Switch = _node("Switch", "subject cases default", "`switch` with a list of SwitchCase and a default.")
SwitchCase = _node("SwitchCase", "values ranges cond body", "One arm: literal values or ranges, optional guard.")
Block = _node("Block", "stmts", "A `{ ... }` block; its value is that of its last statement.")
While = _node("While", "cond body", "`while cond { body }`.")
Loop = _node("Loop", "body", "`loop { body }`.")
DoLoop = _node("DoLoop", "body cond until", "`do { body } while/until cond`.")
For = _node("For", "var idx iterable body", "`for var in iterable` or `for (var, idx) in iterable`.")
Try = _node("Try", "body var catch", "`try { body } catch (var) { catch }`.")

# statements
Let = _node("Let", "name value const", "`let`/`const` declaration.")
Assign = _node("Assign", "target op value", "Assignment or compound assignment (`op` is e.g. '+', or None).")
Break = _node("Break", "value", "`break` with optional value.")
Continue = _node("Continue", "", "`continue`.")
Return = _node("Return", "value", "`return` with optional value.")
Throw = _node("Throw", "value", "`throw` with optional value.")
Import = _node("Import", "path alias", "`import path as alias` (alias may be None).")
Export = _node("Export", "name alias", "`export name as alias` (top level only; a no-op when not a module).")
FnDef = _node("FnDef", "name params body", "A script function definition.")


class Script:
    """A parsed script: top-level statements plus function definitions; ``private`` holds the
    keys of functions a module does not export, ``scoped`` whether any call uses ``!``."""

    __slots__ = ("stmts", "functions", "source", "private", "scoped")

    def __init__(self, stmts, functions, source, private=frozenset(), scoped=False):
        self.stmts, self.functions, self.source = stmts, functions, source
        self.private, self.scoped = private, scoped
