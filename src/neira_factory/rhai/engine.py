"""Public API: ``Engine`` (limits, packages, compile, eval, run, call_fn) and ``AST``.

An engine calls the native functions of the packages registered with it: the
standard package, and any registered with ``register_global_module`` (as in Rhai).
A script is compiled for the functions of the engine that compiles it and runs
with them.  Each evaluation gets its own ``Context``, so one ``Engine`` can be shared by
many threads.  ``print``/``debug`` output goes to a per-run log list (never to
stdout): pass ``log=[]`` to collect it, or read ``engine.log`` afterwards (the
last run's log in the calling thread).
"""

from __future__ import annotations

import threading
from dataclasses import replace

from .compiler import compile_script
from .errors import (ErrorDataTooLarge, ErrorFunctionNotFound, ErrorRuntime, ErrorStackOverflow,
                     RhaiError, parse_error)
from .limits import Limits
from .packages.registry import STANDARD, Registry
from .options import DEFAULT
from .options import check as check_options
from .parser import parse
from .runtime.calls import UNBOUND
from .runtime.context import Context
from .runtime.modules import build_module
from .runtime.values import from_python, to_python
from .scope import Scope

MAX_EVAL_CHARS = 256 * 1024  # the longest text ``eval`` compiles: lexing one long token is not charged as it goes


class AST:
    """A parsed script, compiled to Python lazily once per set of limits, for the native
    functions of ``natives`` (the registry of the engine that compiled it)."""

    def __init__(self, script, natives=STANDARD):
        self.script = script
        self.natives = natives
        self._compiled: dict = {}

    @property
    def source(self):
        return self.script.source

    def compiled(self, limits):
        entry = self._compiled.get(limits)
        if entry is None:
            compiled = compile_script(self.script, limits, self.natives)
            entry = (compiled, *compiled.instantiate())
            self._compiled[limits] = entry
        return entry

    def has_function(self, name, arity):
        return (name, arity) in self.script.functions


def _locate(err, tb):
    """Set the error position from the innermost generated-code frame."""
    pos = None
    while tb is not None:
        posmap = tb.tb_frame.f_globals.get("__rhai_pos__")
        if posmap is not None and 0 < tb.tb_lineno <= len(posmap):
            pos = posmap[tb.tb_lineno - 1]
        tb = tb.tb_next
    if pos is not None:
        err.at(*pos)
    return err


def _scope_names(scope, constants):
    """(variable names, constant names) a script will see at its top level."""
    if isinstance(scope, Scope):
        return set(scope.values) | set(constants or ()), scope.constants | set(constants or ())
    return set(scope or ()) | set(constants or ()), set(constants or ())


class Engine:
    """A Rhai script engine with Rhai's limits (0 or None = unlimited)."""

    def __init__(self, max_operations=0, max_call_levels=64, max_expr_depths=(64, 32),
                 max_string_size=0, max_array_size=0, max_map_size=0, max_variables=0,
                 timeout_ms=0, fail_on_invalid_map_property=False, disabled_symbols=(), options=DEFAULT,
                 max_tokens=Limits.max_tokens):
        self.limits = Limits.build(
            max_expr_depths=max_expr_depths, max_operations=max_operations,
            max_call_levels=max_call_levels, max_string_size=max_string_size,
            max_array_size=max_array_size, max_map_size=max_map_size,
            max_variables=max_variables, timeout_ms=timeout_ms, max_tokens=max_tokens,
        )
        self.fail_on_invalid_map_property = fail_on_invalid_map_property
        self.disabled_symbols = frozenset(disabled_symbols)
        self.options = options  # language options (``rhai.options``): what compiling refuses
        self.natives = STANDARD  # the standard package (its registry is built once, for every engine)
        self.module_resolver = None  # what ``import`` asks (rhai.modules); none: ErrorModuleNotFound
        self._local = threading.local()

    def register_global_module(self, package) -> Engine:
        """Make the functions of ``package`` (a ``Package``) callable by the scripts this engine
        compiles from now on, ahead of those registered before (Rhai's ``register_global_module``)."""
        self.natives = Registry((package, *self.natives.packages))
        return self

    def set_module_resolver(self, resolver) -> Engine:
        """Set what ``import "path"`` asks for modules (see ``rhai.modules``; None: no module)."""
        self.module_resolver = resolver
        return self

    def module_from_ast(self, ast: AST, scope=None, log=None):
        """Run the top level of ``ast`` (on ``scope``, a ``Scope``) and make a ``Module`` of it
        (Rhai's ``Module::eval_ast_as_new``): its ``export``ed variables, non-private
        functions and top-level imports."""
        c = Context(self.limits, {}, ast.natives, self, [] if log is None else log)
        try:
            return build_module(c, 0, "<ast>", ast, scope)
        except RhaiError as e:
            raise _locate(e, e.__traceback__) from None

    @property
    def log(self) -> list:
        """print/debug output of the last run in this thread."""
        return getattr(self._local, "log", [])

    @property
    def last_operations(self) -> int:
        """Operations counted by the last run in this thread (as far as it got, if it failed)."""
        return getattr(self._local, "ops", 0)

    # -- compiling ---------------------------------------------------------
    def compile(self, source: str, expression_only=False, scope=None, constants=None) -> AST:
        """Parse ``source``; the language options are checked against the variables of the
        ``scope`` (a ``Scope`` or a dict) and ``constants`` it will run with."""
        try:
            script = parse(source, self.limits, expression_only, self.disabled_symbols)
            if not self.options.default:
                check_options(script, self.options, *_scope_names(scope, constants))
            return AST(script, self.natives)
        except RecursionError:
            raise parse_error("ExprTooDeep", "expression nested too deeply") from None

    def compile_expression(self, source: str) -> AST:
        return self.compile(source, expression_only=True)

    def compile_eval(self, source: str, meter, natives):
        """``source`` compiled for ``eval`` in a run calling the native functions of ``natives``:
        lexing, parsing and compiling are charged to ``meter`` (the run's operations, which also
        watch its deadline) as they go; a text over ``MAX_EVAL_CHARS`` is refused unread."""
        if len(source) > MAX_EVAL_CHARS:
            raise parse_error("ScriptTooLarge",
                              f"script too large: {len(source)} characters, more than {MAX_EVAL_CHARS}")
        try:
            script = parse(source, self.limits, False, self.disabled_symbols, meter)
            if not self.options.default:  # strict variables aside: an eval text sees its caller's
                check_options(script, replace(self.options, strict_variables=False))
            return compile_script(script, self.limits, natives, meter)
        except RecursionError:
            raise parse_error("ExprTooDeep", "expression nested too deeply") from None

    # -- running -------------------------------------------------------------
    def eval(self, source: str, scope=None, constants=None, log=None):
        return self.eval_ast(self.compile(source, False, scope, constants), scope, constants, log)

    def run(self, source: str, scope=None, constants=None, log=None) -> None:
        self.eval_ast(self.compile(source, False, scope, constants), scope, constants, log)

    def eval_expression(self, source: str, scope=None, constants=None, log=None):
        return self.eval_ast(self.compile(source, True, scope, constants), scope, constants, log)

    def eval_ast(self, ast: AST, scope=None, constants=None, log=None):
        return to_python(self._execute(ast, scope, constants, log, None))

    def run_ast(self, ast: AST, scope=None, constants=None, log=None) -> None:
        self._execute(ast, scope, constants, log, None)

    def call_fn(self, ast: AST, name: str, *args, scope=None, constants=None, log=None):
        """Run the script's top level (defining its constants), then call ``name(args)``."""
        rargs = [from_python(a) for a in args]
        return to_python(self._execute(ast, scope, constants, log, (name, rargs)))

    def _execute(self, ast, scope, constants, log, call):
        if isinstance(scope, Scope):
            for k, v in (constants or {}).items():
                scope.push_constant(k, v)
            S = scope
        else:
            S = Scope(scope, constants)
        log = [] if log is None else log
        self._local.log = log
        self._local.ops = 0
        c = None
        try:
            compiled, main, fns = ast.compiled(self.limits)
            c = Context(self.limits, fns, ast.natives, self, log, {k: S.values[k] for k in S.constants})
            result = main(c, S)
            if call is not None:
                name, args = call
                f = fns.get((name, len(args)))
                if f is None:
                    raise ErrorFunctionNotFound(f"Function not found: {name} with {len(args)} arguments")
                result = f(c, 1, UNBOUND, *args)
            return c.check_size(result)  # what leaves the script, counted as it will be serialised
        except RhaiError as e:
            raise _locate(e, e.__traceback__) from None
        except RecursionError:
            raise ErrorStackOverflow("stack overflow") from None
        except MemoryError:
            raise ErrorDataTooLarge("out of memory") from None
        except Exception as e:  # a bug in a helper must still surface as a RhaiError
            raise _locate(ErrorRuntime(f"internal error: {type(e).__name__}: {e}"), e.__traceback__) from e
        finally:
            if c is not None:
                self._local.ops = c.operations
