"""The caller's scope and modules, for ``FnCompiler``: ``eval(text)`` and ``name!(args)``
(run on a scope lent from the caller's visible variables, whose values are stored back
after the call), ``import``/``export`` and ``m::name`` / ``m::f(args)``.

Only the functions that use them pay for them: a lent variable is typed ``any`` from then on.
A module alias is a binding keyed ``::alias`` (never a variable); a function reaches the
modules imported at the top level through the run (``c.imports``)."""

from __future__ import annotations

from .. import ast as A
from .val import Val


def mentions_eval(node) -> bool:
    """Whether a direct ``eval(...)`` call appears anywhere inside ``node``."""
    return A.finds(node, lambda n: type(n) is A.Call and n.name == "eval" and len(n.args) == 1)


class ScopedCompiler:
    """``FnCompiler``'s dynamic-scope calls and modules (a mixin)."""

    def visible(self):
        """Variables visible here by name (innermost first wins), module aliases left out."""
        seen: dict = {}
        fc = self
        while fc is not None:
            for scope in reversed(fc.scopes):
                for name, b in scope.items():
                    if name not in seen and not name.startswith("::"):
                        seen[name] = b
            fc = fc.parent
        return seen

    def scoped_run(self, make_call, shadow=False) -> Val:
        """Emit ``make_call(scope)`` on a scope lent from the visible variables, then store
        the values back (the dynamic scope ``S``, if any, takes the new names).  With
        ``shadow`` (``eval``), a name the text declared hides a variable of an outer block
        until the current block ends, as in Rhai."""
        seen = self.visible()
        names = tuple(seen)
        consts = frozenset(n for n, b in seen.items() if b.const)
        values = "".join(f"{b.py}, " for b in seen.values())
        S = "S" if self.has_scope else "None"
        sc, back = self.tmp(), self.tmp()
        self.emit(f"{sc} = _lend({S}, {self.k(names)}, ({values}), {self.k(consts)})")
        res = self.materialize(self.call_code(make_call(sc)))
        self.emit(f"{back} = _reclaim(c, {S}, {sc}, {self.k(names)})")
        here = self.scopes[-1]
        for i, (name, b) in enumerate(seen.items()):
            value = Val(f"{back}[{i}]", "any", True, True)
            if here.get(name) is b and not b.const:
                self.store(b, value)
            elif shadow:
                self.shadow(b, f"{self.k(name)} in {sc}.declared", value)
            elif not b.const:
                self.store(b, value)
        return res

    def shadow(self, b, declared, value: Val):
        """Store ``value`` into ``b``; when ``declared``, save its value first (once per block)
        for ``end_block`` to restore."""
        saves = self.block_saves.setdefault(id(self.scopes[-1]), {})
        sv = saves.get(b.py)
        if sv is None:
            sv = saves[b.py] = self.tmp()
            self.prologue.append(f"{sv} = _NOSAVE")
        self.m.types.assign(b.key, "any")
        if b.owner is not self:
            self.nonlocals.add(b.py)
        self.emit(f"if {declared}:")
        with self.indent():
            self.emit(f"if {sv} is _NOSAVE: {sv} = {b.py}")
            self.emit(f"{b.py} = {value.code}")
        if not b.const:
            self.emit("else:")
            with self.indent():
                self.emit(f"{b.py} = {value.code}")

    def end_block(self, v: Val) -> Val:
        """At the end of a block: give back the variables an ``eval`` in it shadowed."""
        saves = self.block_saves.pop(id(self.scopes[-1]), None)
        if not saves:
            return v
        t = self.tmp()
        self.emit(f"{t} = {v.code}")
        for py, sv in saves.items():
            self.emit(f"if {sv} is not _NOSAVE: {py} = {sv}; {sv} = _NOSAVE")
        return Val(t, v.ty, v.fresh, True)

    def e_eval(self, arg: Val) -> Val:
        top = self.kind == "main" and len(self.scopes) == 1
        return self.checked(self.scoped_run(lambda sc: f"_evalin(c, d, {sc}, {arg.code}, {top})", True))

    def e_scopedcall(self, node):
        args = self.exprs(node.args)
        self.count()
        return self.checked(self.scoped_run(
            lambda sc: f"_scall(c, d, {sc}, {self.k(node.name)}, [{self.args_code(args)}])"))

    # -- modules -----------------------------------------------------------------
    def s_import(self, node):
        path = self.expr(node.path)
        mod = self.materialize(self.call_code(f"_import(c, d, {path.code})"))
        if node.alias is None:
            return
        b = self.m.new_binding(node.alias, True, self)
        self.scopes[-1]["::" + node.alias] = b
        self.emit(f"{b.py} = {mod.code}")
        if self.kind == "main":
            self.emit(f"c.imports[{self.k(node.alias)}] = {b.py}")

    def s_export(self, node):
        b = self.lookup(node.name)
        if b is not None:
            self.m.exported.append((node.alias, b.py))
        elif self.has_scope:
            self.emit(f"S.exported[{self.k(node.alias)}] = _sget(S, {self.k(node.name)})")
        else:
            self.emit(f"_novar({self.k(node.name)})")

    def module_code(self, path) -> str:
        b = self.lookup("::" + path[0])
        return b.py if b is not None else f"_gmod(c, {self.k(path[0])})"

    def e_modvar(self, node):
        return Val(f"_mvar(c, {self.module_code(node.path)}, {self.k(tuple(node.path))}, "
                   f"{self.k(node.name)})", "any", True)

    def e_modcall(self, node):
        args = self.exprs(node.args)
        self.count()
        code = (f"_mcall(c, d, {self.module_code(node.path)}, {self.k(tuple(node.path))}, "
                f"{self.k(node.name)}, [{self.args_code(args)}])")
        return self.checked(self.call_code(code))

