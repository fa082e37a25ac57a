"""Which parameters of a script function (or loop variables) its body only reads, so that a
direct call may pass the caller's arrays and maps to them without copying, and a ``for`` loop
its array's elements (Rhai passes values; a copy nobody can tell apart from the original is
saved).

A parameter is only read when every use of it (or of an index or property chain rooted at
it) is an operand, an index, a condition, an argument copied by the call it is passed to, a
value stored (stores copy), an interpolated part or the function's result (which the function
then copies, see ``FnCompiler.emit_return``; ``if`` branches included).  Anything else (assigned, mutated through a
method, passed by reference to a native function, thrown, captured by a closure, the value of
an inner block) makes it a parameter the caller copies, as do syntax nodes this module does
not know, and ``eval``.
"""

from __future__ import annotations

from .. import ast as A
from .fast import LEAF_NODES

KNOWN = LEAF_NODES | {A.Call, A.MethodCall, A.Closure, A.While, A.Loop, A.DoLoop, A.For, A.Try,
                      A.Break, A.Continue, A.Throw}
# (parent type, field) where a value is only read, or copied before it is kept
READ = {(A.Binary, "left"), (A.Binary, "right"), (A.Unary, "operand"), (A.Let, "value"),
        (A.Assign, "value"), (A.ArrayLit, "items"), (A.MapLit, "items"), (A.Interp, "parts"),
        (A.If, "cond"), (A.While, "cond"), (A.DoLoop, "cond"), (A.Switch, "subject"),
        (A.SwitchCase, "cond"), (A.For, "iterable"), (A.Return, "value"), (A.Index, "index"),
        (A.MethodCall, "args")}


def borrowed(fn, functions) -> frozenset:
    """Positions of the parameters of the script function ``fn`` (an ``FnDef``) that it only
    reads; ``functions``: the script's functions, whose arguments are copied by their callers
    as this function says for them."""
    reads = only_read(fn.params, fn.body, functions)
    return frozenset(i for i, p in enumerate(fn.params) if p in reads)


def only_read(names, body, functions) -> frozenset:
    """Those of the variables ``names`` that the block ``body`` only reads (its value, that of
    its last statement, is taken as copied: a function's result, or dropped by a loop)."""
    bad: set = set()
    stack = [(body, None, None, False, False)]
    while stack:
        node, parent, field, last, inner = stack.pop()
        t = type(node)
        if t not in KNOWN or (t is A.Call and node.name == "eval"):
            return frozenset()
        if t is A.Var and node.name in names and not _reads(node, parent, field, last, inner, functions):
            bad.add(node.name)
        for f in node.fields:
            v = getattr(node, f)
            items = v if isinstance(v, list) else [v]
            for i, item in enumerate(items):
                if isinstance(item, tuple):
                    item = item[-1]
                if isinstance(item, A.Node):  # ``end``: its value is the function's result
                    end = (t is A.Block and (parent is None or last) and i == len(items) - 1) or (
                        t is A.If and last and f in ("then", "other"))
                    stack.append((item, (node, parent, field, last, inner), f, end,
                                  inner or t is A.Closure))
    return frozenset(n for n in names if n not in bad)


def _reads(node, parent, field, last, inner, functions) -> bool:
    """Whether this use (``parent``: the enclosing frame, as pushed by ``borrowed``) only reads."""
    while parent is not None:
        pnode, grand, pfield, plast, _ = parent
        pt = type(pnode)
        if inner:
            return False
        if pt in (A.Index, A.Prop) and field == "target":
            node, parent, field, last = pnode, grand, pfield, plast
            continue
        if (pt, field) in READ:
            return not (pt is A.Binary and pnode.op == "??")
        if pt is A.Call and field == "args":
            return (pnode.name, len(pnode.args)) in functions or pnode.args[0] is not node
        if pt is A.Block:
            return last or pnode.stmts[-1] is not node
        return False
    return False
