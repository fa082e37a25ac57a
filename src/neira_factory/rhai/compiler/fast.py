"""Inline fast paths, for ``FnCompiler``: array elements and map entries read and stored in
place, ``in`` on maps, ``+=`` on ints and strings, comparisons of strings, back-tick strings of
ints and strings, ``push`` and ``len``.  Each is guarded by type tests (skipped where the inferred
types make them true) and falls back to the general runtime helper.  Stores take the fast path
only without data-size limits: with them, every store goes through the helpers that report it
(see ``runtime.sizes``).  Also which function bodies are loop-free (see ``FnCompiler.flush``)."""

from __future__ import annotations

from .. import ast as A
from ..packages.arrays import push
from ..runtime.context import BULK
from .expressions import COMPARE
from .val import Val

# Syntax that can neither loop nor run script code (no loop, no call): a function body made
# of these alone does bounded work, counted without checks (see ``FnCompiler.flush``).
LEAF_NODES = frozenset((A.Const, A.Interp, A.Var, A.This, A.GlobalVar, A.ArrayLit, A.MapLit,
                        A.Unary, A.Binary, A.Index, A.Prop, A.If, A.Block, A.Let, A.Assign,
                        A.Return, A.Switch, A.SwitchCase))
LOOP_FREE = LEAF_NODES | {A.Call, A.MethodCall, A.Closure}  # no loop: checked once per call


def made_of(body, kinds) -> bool:
    """Whether ``body`` is made of syntax nodes of ``kinds`` alone (closures in it included)."""
    return not A.finds(body, lambda n: type(n) not in kinds)


def batched(node) -> bool:
    """Whether the closure ``node`` gets a ``FnCompiler.batch_function`` too: one or two
    parameters, a body of ``LEAF_NODES`` alone, no ``return`` and no ``this``."""
    return len(node.params) in (1, 2) and made_of(node.body, LEAF_NODES) and not A.finds(
        node.body, lambda n: type(n) in (A.Return, A.This))


class FastPaths:
    """``FnCompiler``'s inline fast paths (a mixin)."""

    def index_test(self, target: Val, idx: Val, kind):
        """The test that ``target[idx]`` is an element of an array (``kind`` "list": the
        index may still be out of bounds) or an entry of a map with a string key ("dict"),
        or None when the inferred types rule that out."""
        t, i = target.code, idx.code
        if kind == "list":
            if idx.ty not in ("int", "any") or target.ty not in ("array", "any"):
                return None
            tests = [f"type({t}) is list" if target.ty != "array" else "",
                     f"type({i}) is int" if idx.ty != "int" else ""]
        else:
            if idx.ty not in ("str", "any") or target.ty not in ("map", "any"):
                return None
            tests = [f"type({t}) is dict" if target.ty != "map" else "",
                     f"type({i}) is str" if idx.ty != "str" else ""]
        return " and ".join(filter(None, tests)) or "True"

    def in_place(self, cases, slow):
        """Emit the first of ``cases`` (``(test, line, bounded)``) whose test holds at run time,
        else ``slow()``; a ``bounded`` line (an array element's, indexed as Python does, from
        the end when negative) falls back on ``slow()`` (which raises) out of bounds."""
        for n, (test, line, bounded) in enumerate(cases):
            self.emit(f"{'el' if n else ''}if {test}:")
            with self.indent():
                if bounded:
                    self.emit("try:")
                    with self.indent():
                        self.emit(line)
                    self.emit("except IndexError:")
                    with self.indent():
                        slow()
                else:
                    self.emit(line)
        self.emit("else:")
        with self.indent():
            slow()

    def index_read(self, target: Val, idx: Val) -> Val:
        """``target[idx]``: an array element or a map entry read in place."""
        if not (self.index_test(target, idx, "list") or self.index_test(target, idx, "dict")):
            return Val(f"_getidx(c, {target.code}, {idx.code})")
        target, idx = self.simple(target), self.simple(idx)
        t, i = target.code, idx.code
        in_list, in_dict = self.index_test(target, idx, "list"), self.index_test(target, idx, "dict")
        if not in_list:
            return Val(f"({t}.get({i}) if {in_dict} else _getidx(c, {t}, {i}))")
        r = self.tmp()
        cases = [(in_list, f"{r} = {t}[{i}]", True)] + ([(in_dict, f"{r} = {t}.get({i})", False)] if in_dict else [])
        self.in_place(cases, lambda: self.emit(f"{r} = _getidx(c, {t}, {i})"))
        return Val(r, "any", False, True)

    def index_expr(self, target: Val, idx: Val) -> Val:
        """``target[idx]`` as an expression (``target`` and ``idx`` names or constants), for the
        old value of a compound assignment: compiled to code that runs only if it is used."""
        t, i = target.code, idx.code
        in_list, in_dict = self.index_test(target, idx, "list"), self.index_test(target, idx, "dict")
        code = f"_getidx(c, {t}, {i})"
        if in_dict:
            code = f"{t}.get({i}) if {in_dict} else {code}"
        if in_list:
            code = f"{t}[{i}] if {in_list} and -1 < {i} < len({t}) else {code}"
        return Val(f"({code})")

    def prop_read(self, target: Val, key: str) -> Val:
        """``target.name`` of a map that has that property, read in place."""
        target = self.simple(target)
        t = target.code
        test = f"{key} in {t}" if target.ty == "map" else f"type({t}) is dict and {key} in {t}"
        return Val(f"({t}[{key}] if {test} else _getprop(c, {t}, {key}))")

    def store_tests(self, base: Val, idx: Val):
        """The ``(test, bounded)`` of storing into ``base[idx]`` (``idx`` None: into a property
        of ``base``) in place (see ``in_place``): none with data-size limits."""
        if self.sized:
            return []
        if idx is None:
            return [("True" if base.ty == "map" else f"type({base.code}) is dict", False)]
        in_list, in_dict = self.index_test(base, idx, "list"), self.index_test(base, idx, "dict")
        return [(test, test is in_list) for test in (in_list, in_dict) if test]

    def store_fast(self, tests, base: Val, idx_code, value: Val, slow):
        """``base[idx] = value`` in place when one of ``tests`` holds, else ``slow(value)``
        (the general store)."""
        owned = self.owned(value)
        v = value if value.stable and owned == value.code else self.materialize(Val(owned, value.ty, True))
        line = f"{base.code}[{idx_code}] = {v.code}"
        self.in_place([(test, line, bounded) for test, bounded in tests], lambda: slow(v))

    def push_ok(self, node, args) -> bool:
        """Whether ``node`` is ``array.push(value)`` with the standard ``push`` and no
        data-size limits, to append in place when the target is an array."""
        return not (self.sized or node.safe or node.name != "push" or len(args) != 1 or "push" in self.m.fn_names
                    or getattr(self.m.natives.resolve("push", [[], 0]), "fn", None) is not push)

    def push_pair(self, node, target: Val, args, call) -> str:
        """The method call ``call`` (``(result, new this)``), appending in place (``push_ok``)
        when the target is an array."""
        if not self.push_ok(node, args):
            return call
        t = target.code
        return f"(({t}.append({self.owned(args[0])}), {t}) if type({t}) is list else {call})"

    def push_fast(self, node, target: Val, args, call) -> Val | None:
        """For ``push_ok``, ``value`` appended in place when the target is an array, else the
        method call ``call`` (``(result, new this)``) as ``call_code`` makes it: its value
        (``()``); else None."""
        if not self.push_ok(node, args):
            return None
        t, r = target.code, self.tmp()
        self.flush()  # (the operations pending are counted on both paths)
        self.emit(f"if type({t}) is list:")
        with self.indent():
            self.emit(f"{t}.append({self.owned(args[0])}); {r} = None")
        self.emit("else:")
        with self.indent():
            self.emit(f"{r} = {self.call_code(f'{call}[0]').code}")
        return Val(r, "any", True, True)

    def len_fast(self, node, target: Val, args) -> bool:
        """Whether ``target.len()`` is Python's ``len``: an array or a string (by the inferred
        types) with the standard ``len`` (a map's ``len`` property may hold a closure)."""
        samples = {"array": [], "str": ""}
        return (node.name == "len" and not args and not node.safe and target.ty in samples
                and "len" not in self.m.fn_names
                and getattr(self.m.natives.resolve("len", [samples[target.ty]]), "fn", None) is len)

    def text_compare(self, op, left: Val, right: Val) -> Val:
        """``left op right`` (a comparison): Python's when both are strings, the left one short
        (the helper charges the comparison of long ones)."""
        helper = f"{COMPARE[op]}(c, {{}}, {{}})"
        if not ({left.ty, right.ty} <= {"str", "any"} and "str" in (left.ty, right.ty)):
            return Val(helper.format(left.code, right.code), "bool", True)
        left, right = self.simple(left), self.simple(right)
        lc, rc = left.code, right.code
        tests = [f"type({v.code}) is str" for v in (left, right) if v.ty != "str"] + [f"len({lc}) < {BULK}"]
        return Val(f"({lc} {op} {rc} if {' and '.join(tests)} else {helper.format(lc, rc)})", "bool", True)

    def in_map(self, item: Val, container: Val) -> Val:
        """``item in container``: a string key looked up in a map in place."""
        if not container.stable:  # (``_in`` takes the container first: the item is evaluated first)
            item = self.materialize(item)
        code = f"_in(c, {container.code}, {item.code})"
        if item.ty not in ("str", "any") or container.ty not in ("map", "any"):
            return Val(code, "bool", True)
        item, container = self.simple(item), self.simple(container)
        x, m = item.code, container.code
        tests = [f"type({m}) is dict" if container.ty != "map" else "",
                 f"type({x}) is str" if item.ty != "str" else ""]
        test = " and ".join(filter(None, tests)) or "True"
        return Val(f"({x} in {m} if {test} else _in(c, {m}, {x}))", "bool", True)

    def add_assign(self, old: Val, value: Val) -> Val:
        """``old += value`` (``old`` of no known type, no data-size limits): int addition in
        place when both are ints."""
        slow = f"_adda(c, {old.code}, {self.owned(value)})"
        if value.ty not in ("int", "any"):
            return Val(slow, "any", True)
        old, value = self.simple(old), self.simple(value)
        t = self.tmp()
        test = self.checked_int("+", old.code, value.code, value, t, bare=True)
        guard = f"type({old.code}) is int" + ("" if value.ty == "int" else f" and type({value.code}) is int")
        return Val(f"({t} if {guard} and {test} else _adda(c, {old.code}, {self.owned(value)}))", "any", True)

    def str_append(self, target, value: Val) -> bool:
        """``s += value`` for a string variable ``s`` (no data-size limits): appended as CPython
        appends in place (``s = s + t``) when the value is a string (charged by the new
        length, see ``charge_text``), the general ``+`` otherwise.  Whether it was compiled so."""
        b = self.lookup(target.name) if isinstance(target, A.Var) else None
        if self.sized or b is None or b.const or self.btype(b) != "str" or value.ty is None:
            return False
        value = self.simple(value)
        if value.ty == "str":
            self.store(b, Val(f"{b.py} + {value.code}", "str", True))
            self.charge_text(b.py)
            return True
        self.emit(f"if type({value.code}) is str:")
        with self.indent():
            self.store(b, Val(f"{b.py} + {value.code}", "str", True))
            self.charge_text(b.py)
        self.emit("else:")
        with self.indent():
            self.assign(target, lambda old: self.compound_value("+", old, value))
        return True

    def charge_text(self, name):
        """Charge the string in ``name``, just built at C speed, by its length when long, as
        ``concat`` charges it (counting on): copying a long string on every turn of a loop is
        work that ``max_operations`` bounds."""
        if self.counting:
            self.emit(f"if len({name}) >= {BULK}: c.charge_bulk(len({name}))")

    def text_sum(self, left: Val, right: Val) -> Val:
        """``left + right`` of two strings, charged by its length when long (counting on; with
        data-size limits, by ``concat``, which checks the size first)."""
        if self.sized:
            return Val(f"_add(c, {left.code}, {right.code})", "str", True)
        if not self.counting:
            return Val(f"({left.code} + {right.code})", "str", True)
        t = self.tmp()
        return Val(f"({t} if len({t} := {left.code} + {right.code}) < {BULK} else _charged(c, {t}))", "str", True)

    def interp_fast(self, parts) -> Val | None:
        """A back-tick string of ints and strings built as a Python f-string (without
        data-size limits; a long result is charged as ``_interp`` charges it)."""
        if self.sized or not all(p.ty in ("str", "int") for p in parts):
            return None
        parts = [self.simple(p) for p in parts]
        t = self.tmp()
        text = "".join(f"{{{p.code}}}" for p in parts)
        return Val(f"({t} if len({t} := f\"{text}\") < {BULK} else _charged(c, {t}))", "str", True)
