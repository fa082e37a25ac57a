"""Calls, for ``FnCompiler``: script functions, native functions (what the script's registry
says of a name: string mutators, functions that may run script code), methods, function
pointers and closures; and the data-size checks after a call that may have grown a container."""

from __future__ import annotations

from .. import ast as A
from .fast import batched
from .val import Val


class CallCompiler:
    """``FnCompiler``'s calls and closures (a mixin)."""

    def args_code(self, vals, copy_from=0):
        return ", ".join(v.code if i < copy_from else self.owned(v) for i, v in enumerate(vals))

    def e_call(self, node):
        name, n = node.name, len(node.args)
        args = self.exprs(node.args)
        if (name, n) in self.m.script.functions:
            self.count()
            reads = self.m.borrowed((name, n))  # passed as they are: the function only reads them
            plist = ", ".join(v.code if i in reads else self.owned(v) for i, v in enumerate(args))
            fn = self.m.callee((name, n), args)
            code = f"{fn}(c, d + 1, _UNB, {plist})" if n else f"{fn}(c, d + 1, _UNB)"
            return self.call_code(code, self.m.ret_type(fn))
        b = self.lookup(name)
        if b is not None:
            return self.call_code(f"_cptr(c, d, {b.py}, [{self.args_code(args)}])[0]")
        if name == "eval" and n == 1:
            return self.e_eval(args[0])
        if name == "is_shared" and n == 1 and self.is_shared(node.args[0]):
            return Val("True", "bool", True, True)
        if name == "is_def_var" and n == 1 and isinstance(node.args[0], A.Const):
            known = self.lookup(str(node.args[0].value)) is not None
            if known or not self.has_scope:
                return Val(repr(known), "bool", True, True)
            return Val(f"({args[0].code} in S.values)", "bool", True)
        kname = self.k(name)
        if args and name in self.m.natives.str_mutators and self.assignable(node.args[0]):
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
        if node.name == "is_shared" and not node.args and self.is_shared(node.target):
            return Val("True", "bool", True, True)
        vals = self.exprs([node.target, *node.args])
        target, args = (self.nullable if node.safe else self.materialize)(vals[0]), vals[1:]
        if node.name == "call" and args and self.is_shared(node.target):
            cell = f"(lambda: {self.lookup(node.target.name).py}).__closure__[0]"
            self.emit(f"_race({args[0].code}, {cell})")
        if self.len_fast(node, target, args):
            return Val(f"len({target.code})", "int", True)
        call = f"_cm(c, d, {self.k(node.name)}, {target.code}, [{self.args_code(args)}])"
        writes = node.name in self.m.fn_names or node.name == "call" or (
            node.name in self.m.natives.str_mutators and target.ty not in ("array", "map"))
        if not (writes and self.assignable(node.target)):
            pushed = self.push_fast(node, target, args, call)
            if pushed is not None:
                return self.checked(self.after_call(node.target, node.name, pushed))
        else:  # (a string's ``push`` changes the string: its new value is stored back)
            call = self.push_pair(node, target, args, call)
        if node.safe:
            call = f"((None, None) if {target.code} is None else {call})"
        if not (writes and self.assignable(node.target)):
            return self.checked(self.after_call(node.target, node.name, self.call_code(f"{call}[0]")))
        r, nt = self.tmp(), self.tmp()
        res = self.call_code(call)
        self.emit(f"{r}, {nt} = {res.code}")
        # a native method leaves an array the same array and a string a string
        native = node.name not in self.m.fn_names and node.name != "call"
        self.write_back(node.target, target.code, nt,
                        target.ty if native and target.ty in (None, "array", "str") else "any")
        self.after_call(node.target, node.name)
        return self.checked(Val(r, "any", True, True))

    def may_run_script(self, name) -> bool:
        """Whether calling ``name`` may run script code (a callback, a script function, a
        function pointer held by a variable or a map property)."""
        natives = self.m.natives
        return name in natives.callbacks or name in self.m.fn_names or name not in natives.names

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
        fc = type(self)(self.m, "closure", self, node.params, self.has_scope, node.body)
        fc.body_function(name, node.params, node.body, f"anon${self.m.closures}")
        self.lines.extend(fc.lines)
        if not self.sized and batched(node):  # (callbacks are called one by one with data-size limits)
            bc = type(self)(self.m, "closure", self, node.params, self.has_scope, node.body)
            bc.batch_function(f"{name}_all", node.body, f"anon${self.m.closures}")
            self.lines.extend(bc.lines)
            self.emit(f"{name}.{'fold' if len(node.params) == 2 else 'each'} = {name}_all")
        return Val(f"_FnPtr({self.k(f'anon${self.m.closures}')}, None, {name})", "fnptr", True)
