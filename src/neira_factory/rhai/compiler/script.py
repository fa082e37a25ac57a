"""Whole scripts: the generated Python module (``main`` plus one ``F_name_arity`` per script
function), compiled again until the inferred types are stable, then to a code object that
``Compiled.instantiate`` runs on fresh globals (``runtime.prelude``)."""

from __future__ import annotations

from ..errors import parse_error
from ..runtime.prelude import PRELUDE
from .emitter import Lines
from .function import FnCompiler
from .module import Module
from .scoped import mentions_eval
from .scopes import TypeTable

MAX_PASSES = 6
VARIANT_KEYS = 10**7  # the bindings of the variant of the i-th function are numbered from (i + 1) × this


def _module_source(script, limits, natives, types, all_any, meter, variants=False):
    m = Module(script, limits, natives, types, all_any, meter)
    m.variants = variants
    out = Lines()
    for (name, arity), fn in script.functions.items():
        dynamic = mentions_eval(fn.body)
        fc = FnCompiler(m, "fn", None, fn.params, has_scope=dynamic, body=fn.body)
        fc.own_scope = dynamic
        fc.pyname = f"F_{name}_{arity}"
        fc.body_function(f"F_{name}_{arity}", fn.params, fn.body, name)
        out.extend(fc.lines)
        if script.scoped:
            _scoped_variant(m, out, name, arity, fn)
    for i, ((name, arity), fn) in enumerate(script.functions.items()):
        _variant(m, out, i, name, arity, fn)
    main = FnCompiler(m, "main", None, (), has_scope=True)
    if main.counting:
        main.emit("_o = c.ops; _L = c.lim")
    main.emit_return(main.statements(script.stmts, True))
    exports = ", ".join(f"({main.k(b.name)}, {b.py!r}, {b.const})" for b in main.exports)
    out.emit("def main(c, S, d=0):")
    out.level += 1
    for line in main.prologue:
        out.emit(line)
    out.emit("try:")
    out.level += 1
    out.extend(main.lines)
    out.level -= 1
    out.emit("finally:")
    out.level += 1
    exported = "".join(f"({main.k(alias)}, {py!r}), " for alias, py in m.exported)
    out.emit(f"S.export(locals(), ({exports}{',' if main.exports else ''}){f', ({exported})' if exported else ''})")
    out.level -= 2
    return out, m


def _variant(m, out, i, name, arity, fn):
    """``I_name_arity``: the function compiled for arguments of the types its typed direct calls
    pass (see ``Module.callee``), if it has any; its bindings are numbered apart, so that
    variants appearing in a later pass leave the others' types where they were."""
    sig = m.variant_sig((name, arity))
    if sig is None:
        return
    saved, m.bindings = m.bindings, (i + 1) * VARIANT_KEYS
    fc = FnCompiler(m, "fn", None, fn.params, body=fn.body)
    fc.sig = sig
    fc.pyname = f"I_{name}_{arity}"
    fc.body_function(fc.pyname, fn.params, fn.body, name)
    out.extend(fc.lines)
    m.bindings = saved


def _scoped_variant(m, out, name, arity, fn):
    """``B_name_arity(c, d, this, S, *args)``: the function run on the caller's scope ``S``
    (for ``name!(args)``): names it does not declare are the caller's variables."""
    fc = FnCompiler(m, "fn", None, fn.params, has_scope=True, body=fn.body)
    fc.body_function(f"_B_{name}_{arity}", fn.params, fn.body, name)
    out.emit(f"def B_{name}_{arity}(c, d, this, S, *args):")
    out.level += 1
    out.extend(fc.lines)
    out.emit(f"return _B_{name}_{arity}(c, d, this, *args)")
    out.level -= 1


class Compiled:
    """A compiled script: its Python code object, constants and position map."""

    __slots__ = ("code", "consts", "posmap", "source_text", "fn_keys")

    def __init__(self, code, consts, posmap, source_text, fn_keys):
        self.code, self.consts, self.posmap, self.source_text, self.fn_keys = \
            code, consts, posmap, source_text, fn_keys

    def instantiate(self):
        """Fresh module globals holding ``main`` and the ``F_*`` script functions."""
        g = dict(PRELUDE)
        g.update(self.consts)
        g["__rhai_pos__"] = self.posmap
        exec(self.code, g)  # noqa: S102 - our own generated code; script data lives in constants
        fns = {key: g[f"F_{key[0]}_{key[1]}"] for key in self.fn_keys}
        fns.update({(*key, "!"): g[f"B_{key[0]}_{key[1]}"] for key in self.fn_keys
                    if f"B_{key[0]}_{key[1]}" in g})  # scoped variants (``name!(args)``)
        return g["main"], fns


def compile_script(script, limits, natives, meter=None) -> Compiled:
    """``script`` compiled to Python, to call the native functions of the registry ``natives``;
    ``meter`` (a callable taking a count) is charged for the nodes compiled and the lines
    generated, before Python compiles them."""
    for variants in (True, False):  # (types that settle without variants: a last resort before none)
        types = TypeTable()
        for _ in range(MAX_PASSES):
            out, m = _module_source(script, limits, natives, types, False, meter, variants)
            if not types.next_pass():
                break
        else:
            continue
        break
    else:
        out, m = _module_source(script, limits, natives, types, True, meter)
    text, posmap = out.render()
    if meter is not None:
        meter(len(posmap))
    try:
        code = compile(text, "<rhai>", "exec")
    except (SyntaxError, RecursionError, MemoryError) as e:
        raise parse_error("ExprTooDeep", f"script too complex to compile: {e}") from None
    return Compiled(code, m.consts.values, posmap, text, list(script.functions))
