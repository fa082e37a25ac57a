"""Dynamic scopes and modules at run time.

``eval`` and ``name!(args)`` run in the caller's scope: the compiled caller lends its
visible variables as a ``Scope`` (``lend``), runs the text or the function's scoped
variant (``B_name_arity``, compiled only for scripts with a ``!`` call) on it, and takes
the values back (``reclaim``); names the text defined go to the caller's own ``Scope``.

A ``Module`` holds exported variables (constants), public script functions and
sub-modules, plus the environment its functions run in (the script's functions, its
global constants and imports).  ``import`` asks the engine's module resolver; a
script module is built by running its top level on the importing run (its operations,
deadline and data limits), at most ``MAX_MODULE_DEPTH`` modules deep, never in a cycle.
"""

from __future__ import annotations

from ..errors import (ErrorFunctionNotFound, ErrorInModule, ErrorMismatchDataType,
                      ErrorModuleNotFound, ErrorTooManyModules, ErrorVariableNotFound, RhaiError)
from .scope import Scope
from .calls import UNBOUND, signature
from .detach import Detacher
from .values import FnPtr, copy, from_python, to_python

MAX_MODULE_DEPTH = 8
IMPORT_OPS = 32  # making a kept module the run's own takes about as long as this many operations, besides its values
EVAL_OPS = 1000  # Python compiles even one token's worth of script in about as long as this many operations


class Module:
    """A Rhai module: ``vars`` (exported constants by name), ``fns`` (public script functions
    by (name, arity)), ``subs`` (sub-modules by name) and ``env`` (the functions, constants
    and imports its functions see; None for a module made by the host)."""

    __slots__ = ("vars", "fns", "subs", "env")

    def __init__(self, vars=None, fns=None, subs=None, env=None):
        self.vars, self.fns, self.subs, self.env = dict(vars or {}), dict(fns or {}), dict(subs or {}), env

    def set_var(self, name, value) -> Module:
        self.vars[name] = from_python(value)
        return self

    def get_var(self, name):
        return to_python(self.vars.get(name))

    def set_sub_module(self, name, module: Module) -> Module:
        self.subs[name] = module
        return self

    def contains_fn(self, name, arity) -> bool:
        return (name, arity) in self.fns


# -- the caller's scope ------------------------------------------------------------
NOSAVE = object()  # marks a variable no ``eval`` shadowed (compiled code's ``_NOSAVE``)


class Lent(Scope):
    """A scope lent to ``eval``: also records the names its top level declared."""

    def __init__(self):
        super().__init__()
        self.declared: set = set()

    def export(self, frame_locals, entries, exported=()):
        super().export(frame_locals, entries, exported)
        self.declared.update(name for name, py, _ in entries if py in frame_locals)


def lend(S, names, values, consts):
    """A scope holding the caller's dynamic variables (``S``, or None) and its visible locals."""
    sc = Lent()
    if S is not None:
        sc.values.update(S.values)
        sc.constants.update(S.constants)
    sc.values.update(zip(names, values))
    sc.constants.difference_update(names)
    sc.constants.update(consts)
    return sc


def reclaim(c, S, sc, names):
    """After the call: the locals' values (to store back); other names go to ``S``, whose
    values count together against the data limits, as one map (else a loop of ``eval``s
    could hold any number of values, each within the limits)."""
    if S is not None:
        known, held = set(names), S.values
        added, removed, chars = [], [], 0
        for k, v in sc.values.items():
            if k not in known:
                old = held.get(k, NOSAVE)
                if old is not v:
                    added.append(v)
                    if old is NOSAVE:
                        chars += len(k)
                    else:
                        removed.append(old)
                held[k] = v
                if k in sc.constants:
                    S.constants.add(k)
        if added:
            c.stored(held, added, removed, chars=chars)
    return [sc.values[n] for n in names]


def eval_in(c, d, sc, script, top=False):
    """Evaluate script text on the scope ``sc``: its functions shadow the caller's while it
    runs; its top-level constants become global constants only when it runs at the caller's
    top level (``top``).  Counters, sizes, log and deadline are the run's; compiling the text
    is charged to it as it goes, on top of ``EVAL_OPS`` for compiling at all."""
    if type(script) is not str:
        raise ErrorMismatchDataType(f"eval expects a string, found {type(script).__name__}")
    c.charge(EVAL_OPS)
    main, fns = c.engine.compile_eval(script, c.charge, c.natives).instantiate()
    saved = c.fns, c.constants
    c.fns, c.constants = {**c.fns, **fns}, dict(c.constants)
    try:
        result = main(c, sc, d + 1)
        if top:
            saved = saved[0], c.constants
        return result
    finally:
        c.fns, c.constants = saved


def call_scoped(c, d, sc, name, args):
    """``name!(args)`` (or ``call!(ptr, args)``): the script function run on the scope ``sc``."""
    if name == "call" and args and type(args[0]) is FnPtr:
        ptr = args[0]
        if ptr.fn is not None:
            raise ErrorFunctionNotFound("an anonymous function cannot be called in the caller's scope")
        name, args = ptr.name, [*(copy(c, a) for a in ptr.curry), *args[1:]]
    f = c.fns.get((name, len(args), "!"))
    if f is None:
        raise ErrorFunctionNotFound(f"Function not found: {signature(name, args)}"
                                    + (" (not callable with '!' here)" if (name, len(args)) in c.fns else ""))
    return f(c, d + 1, UNBOUND, sc, *args)


# -- modules -----------------------------------------------------------------------
def import_module(c, d, path):
    """The module ``path`` from the engine's resolver (``ErrorModuleNotFound`` without one)."""
    if type(path) is not str:
        raise ErrorMismatchDataType("a module path must be a string")
    resolver = getattr(c.engine, "module_resolver", None)
    if resolver is None:
        raise ErrorModuleNotFound(f"Module not found: {path}")
    return run_local(c, resolver.resolve(c, d, path), {})


def run_local(c, module, memo):
    """``module`` (kept by its resolver across runs) and the modules it imported, with exported values
    and global constants copied for the run ``c`` alone (``Detacher``): no state passes between runs."""
    if id(module) in memo:
        return memo[id(module)]
    c.charge(IMPORT_OPS)
    det = memo.get(None) or memo.setdefault(None, Detacher(c, Module, lambda m: run_local(c, m, memo)))
    subs = {k: run_local(c, s, memo) for k, s in module.subs.items()}
    env = module.env
    if env is not None:
        fns, constants, imports = env
        env = (fns, {k: det.value(v) for k, v in constants.items()},
               {k: run_local(c, s, memo) for k, s in imports.items()})
    out = memo[id(module)] = Module({k: det.value(v) for k, v in module.vars.items()}, module.fns, subs, env)
    return out


def global_module(c, alias):
    """A module imported at the top level, seen from a function."""
    m = c.imports.get(alias)
    if m is None:
        raise ErrorModuleNotFound(f"Module not found: {alias}")
    return m


def _sub(mod, path):
    for name in path:
        sub = mod.subs.get(name)
        if sub is None:
            raise ErrorModuleNotFound(f"Module not found: {name}")
        mod = sub
    return mod


def module_var(c, mod, path, name):
    """``alias::path::name`` (``path`` starts with the alias): a copy of the exported value."""
    m = _sub(mod, path[1:])
    try:
        return copy(c, m.vars[name])
    except KeyError:
        raise ErrorVariableNotFound(f"Variable not found: {'::'.join((*path, name))}") from None


def call_module(c, d, mod, path, name, args):
    """``alias::path::name(args)``: the function runs in its module's environment (its
    functions, then the caller's; its global constants and imports)."""
    m = _sub(mod, path[1:])
    f = m.fns.get((name, len(args)))
    if f is None:
        raise ErrorFunctionNotFound(f"Function not found: {signature('::'.join((*path, name)), args)}")
    if m.env is None:
        return f(c, d + 1, UNBOUND, *args)
    saved = c.fns, c.constants, c.imports
    fns, c.constants, c.imports = m.env
    c.fns = {**saved[0], **fns}  # its own functions first, then the caller's (function pointers)
    try:
        return f(c, d + 1, UNBOUND, *args)
    finally:
        c.fns, c.constants, c.imports = saved


def build_module(c, d, path, ast, scope=None):
    """Run the top level of ``ast`` (compiled for this run's limits) as the module ``path``
    (on ``scope``, a fresh one by default): its exported variables, public functions and
    top-level imports make the module."""
    if path in c.modules:
        raise ErrorTooManyModules(f"cyclic import: {' -> '.join((*c.modules, path))}")
    if len(c.modules) >= MAX_MODULE_DEPTH:
        raise ErrorTooManyModules(f"modules import each other more than {MAX_MODULE_DEPTH} deep: {path}")
    _compiled, main, fns = ast.compiled(c.limits)
    sc = Scope() if scope is None else scope
    saved = c.fns, c.constants, c.imports
    c.fns, c.constants, c.imports = fns, {}, {}
    c.modules.append(path)
    try:
        main(c, sc, d + 1)
        env = (fns, c.constants, c.imports)
    except RhaiError as e:
        if not e.catchable:
            raise
        raise ErrorInModule(f"Error in module '{path}': {e.message}", value=e.value) from None
    finally:
        c.modules.pop()
        c.fns, c.constants, c.imports = saved
    public = {k: f for k, f in fns.items() if len(k) == 2 and k not in ast.script.private}
    return Module(sc.exported, public, env[2], env)
