"""Script backend: nodes written in Rhai, run by the project's own interpreter (`neira_factory.rhai`).

A script node is `script: {source: "fn run(input) { … }"}`. One call converts the
request JSON to Rhai values (objects become object maps), runs the script's top
level, then calls `run(input)`; its return value becomes the JSON output. The
template's `params` values are constants: readable by name at the script's top
level and, inside functions (Rhai functions do not see the outer scope), as
`global::name`. `print` / `debug` output goes to the invocation's log. Scripts
reach nothing outside (no files, network, environment, host objects), so the
backend has no side effects.

Limits (`template.limits` → Engine):

* `max_operations` = `limits.max_operations`;
* `timeout_ms` = the smaller of `limits.timeout_ms` and the time left until
  `ctx.deadline` (at least 1 ms); a deadline already passed fails at once with kind
  `timeout`. The script stops itself at that time (`interruptible`).
* sizes from `limits.memory_mb`, with M = memory_mb × 2**20 bytes:
  `max_string_size` = M // 4 characters (a character takes up to 4 bytes), and
  `max_array_size` = `max_map_size` = M // 64 elements / entries (about 64 bytes per
  element: its slot plus a small value). Rhai counts sizes its own way (the elements and
  entries a value holds at every depth, the characters of all its strings together, a
  shared string each time), so this bounds each value a script builds, and what it
  returns as it will be serialised, not the process's memory to the byte. A result
  past these sizes is refused before it is built.
* `max_call_levels` = 64; expression nesting (64 at the top level, 32 in functions),
  Rhai's defaults; a script (and an `eval` text) has at most the engine's `max_tokens`
  tokens (16,384), so compiling it takes bounded time.
* Built-ins count operations in proportion to the work they do (see docs/rhai.md), so
  `max_operations` and the timeout hold however that work is spent.

Errors become `ExecutionError(kind=…, node=template.id)`:

* `timeout`: the wall-clock timeout (ErrorTerminated), or a deadline already passed;
* `limit`: too many operations (ErrorTooManyOperations), data too large (ErrorDataTooLarge),
  stack overflow / too many call levels (ErrorStackOverflow), too many variables
  (ErrorTooManyVariables), an `eval` text past the engine's `max_tokens` (ErrorParsing,
  ScriptTooLarge);
* `exception`: a script `throw` (ErrorRuntime; the reason names the value and its position,
  `thrown` holds it), any other runtime error, a syntax error (ErrorParsing), no `fn run(input)`;
* `bad_input`: an input the script cannot hold (an integer beyond i64, nesting too deep);
* `bad_output`: a result that is not JSON (a function pointer, blob, range, timestamp, a
  non-finite float, nesting deeper than 100).

The body of such an error carries `error` (the Rhai error kind) and, when known,
`line` and `column` (of the innermost failing expression, inside script functions too).

`import "route" as m;` loads the stable version of another script node's route as a module
(`script_modules.py`): only routes the source names as string literals, script nodes, with the
script gate open; bounded in depth, cycles and size.

Compiled scripts are cached per (sha256 of the source, limits), least recently
used first out; the Python code generated from a script does not depend on the
timeout's value, so one compiled script serves every deadline.
"""
from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from ..domain import json_values
from ..domain.report import Risk
from ..domain.templates import Limits, NodeTemplate
from ..rhai import AST, Engine, FnPtr, RhaiError
from ..rhai import ast as A
from ..rhai.engine import _locate  # the engine's own position lookup (innermost generated-code frame)
from ..rhai.packages.registry import FUNCS
from ..rhai.runtime.values import RhaiRange, Timestamp, from_python, to_python
from .base import ExecContext, ExecutionError
from .script_modules import NodeModules, literal_imports

log = logging.getLogger(__name__)

ENTRY = "run"  # the function a script node defines: fn run(input)
MAX_CALL_LEVELS = 64
STRING_BYTES_PER_CHAR = 4
BYTES_PER_ELEMENT = 64
CACHE_SIZE = 256
MAX_LOG_LINES = 1000  # print/debug lines kept per call
LIMIT_ERRORS = {"ErrorTooManyOperations", "ErrorDataTooLarge", "ErrorStackOverflow", "ErrorTooManyVariables",
                "ErrorTooManyModules"}
NATIVE_NAMES = {name for name, _ in FUNCS}


def size_limits(memory_mb: int) -> dict[str, int]:
    """The engine's data-size limits for a node's `memory_mb` (the rule in the module docstring)."""
    memory = memory_mb * 2**20
    elements = memory // BYTES_PER_ELEMENT
    return {"max_string_size": memory // STRING_BYTES_PER_CHAR, "max_array_size": elements,
            "max_map_size": elements}


def engine_for(limits: Limits, timeout_ms: int | None = None) -> Engine:
    """An engine with the node's limits (and this call's timeout, when it is shorter than the node's)."""
    return Engine(max_operations=limits.max_operations, timeout_ms=timeout_ms or limits.timeout_ms,
                  max_call_levels=MAX_CALL_LEVELS, **size_limits(limits.memory_mb))


class ScriptAST(AST):
    """A compiled script shared by every timeout: generated code depends on whether operations
    are counted (always, as max_operations > 0), not on the timeout's value, which each run's
    Context reads from its engine."""

    def compiled(self, limits):
        return super().compiled(replace(limits, timeout_ms=1 if limits.timeout_ms else 0))

    @property
    def imports(self) -> tuple[list[str], list]:
        """(the routes the script imports as string literals, its other `import`s), found once."""
        found = self.__dict__.get("_imports")
        if found is None:
            found = self.__dict__["_imports"] = literal_imports(self.script)
        return found


class CompileCache:
    """Compiled scripts keyed by (sha256 of the source, limits); least recently used evicted.
    Failures (syntax errors) are not cached."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._items: OrderedDict[tuple, ScriptAST] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(source: str, limits: Limits) -> tuple:
        digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
        return digest, limits.max_operations, limits.timeout_ms, limits.memory_mb

    def get(self, source: str, limits: Limits) -> ScriptAST:
        """The compiled script; raises RhaiError (ErrorParsing) when it does not compile."""
        key = self.key(source, limits)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        engine = engine_for(limits)
        compiled = ScriptAST(engine.compile(source).script)
        compiled.compiled(engine.limits)  # Python code now, so that code too complex to compile fails here
        with self._lock:
            compiled = self._items.setdefault(key, compiled)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return compiled

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


CACHE = CompileCache()


# -- errors --------------------------------------------------------------------------------------

def innermost(err: RhaiError) -> RhaiError:
    """The error that started it all (errors leaving script functions are wrapped), with its position."""
    seen = 0
    while getattr(err, "inner_error", None) is not None and seen < 1000:
        err, seen = err.inner_error, seen + 1
    if not err.line and err.__traceback__ is not None:
        _locate(err, err.__traceback__)
    return err


def where(err: RhaiError) -> str:
    return f" at line {err.line}, column {err.column}" if err.line else ""


def _json_or_none(value: Any) -> Any:
    value = to_python(value)
    return value if not_json(value) is None else None


def execution_error(exc: RhaiError, template: NodeTemplate, timeout_ms: int | None = None) -> ExecutionError:
    err = innermost(exc)
    node, limits = template.id, template.limits
    extra: dict[str, Any] = {"error": err.kind, "line": err.line or None, "column": err.column or None}
    if err.kind == "ErrorTerminated":
        return ExecutionError(f"{node}: the script ran past its timeout of {timeout_ms} ms and was stopped"
                              f"{where(err)}", kind="timeout", node=node, limit_ms=timeout_ms, **extra)
    if err.kind == "ErrorTooManyOperations":
        return ExecutionError(f"{node}: the script used more than max_operations {limits.max_operations}{where(err)}",
                              kind="limit", node=node, **extra)
    if err.kind == "ErrorStackOverflow":
        return ExecutionError(f"{node}: {err.message} (call levels are limited to {MAX_CALL_LEVELS}){where(err)}",
                              kind="limit", node=node, **extra)
    if err.kind == "ErrorDataTooLarge":
        sizes = size_limits(limits.memory_mb)
        return ExecutionError(f"{node}: {err.message}{where(err)} (memory_mb {limits.memory_mb}: strings up to "
                              f"{sizes['max_string_size']} characters, arrays and maps up to "
                              f"{sizes['max_array_size']} elements)", kind="limit", node=node, **extra)
    if err.kind in LIMIT_ERRORS:
        return ExecutionError(f"{node}: {err.message}{where(err)}", kind="limit", node=node, **extra)
    if err.kind == "ErrorParsing" and err.inner == "ScriptTooLarge":
        return ExecutionError(f"{node}: {err.message}{where(err)}", kind="limit", node=node, **extra)
    if err.kind == "ErrorParsing":
        return ExecutionError(f"{node}: syntax error{where(err)}: {err.message}", kind="exception", node=node,
                              **extra)
    if err.kind == "ErrorRuntime" and err.value is not None:
        return ExecutionError(f"{node}: the script threw {err.message}{where(err)}", kind="exception", node=node,
                              thrown=_json_or_none(err.value), **extra)
    return ExecutionError(f"{node}: {err.kind}: {err.message}{where(err)}", kind="exception", node=node, **extra)


def _describe(value: Any) -> str:
    return {FnPtr: "a function pointer", bytes: "a blob", RhaiRange: "a range",
            Timestamp: "a timestamp"}.get(type(value), f"a {type(value).__name__}")


def not_json(value: Any) -> str | None:
    """Why `value` is not plain JSON ("path: what"), or None when it is."""
    found = json_values.problem(value, "output", _describe)
    return None if found is None else f"{found[0]}: {found[1]}"


# -- static checks ---------------------------------------------------------------------------------

def _nodes(script) -> list:
    """Every syntax node of the script: top level and function bodies."""
    found, stack = [], [*script.stmts, *script.functions.values()]
    while stack:
        node = stack.pop()
        if isinstance(node, A.Node):
            found.append(node)
            stack.extend(getattr(node, f) for f in node.fields)
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return sorted(found, key=lambda n: (n.line, n.col))


def unknown_calls(script) -> list[Risk]:
    """Calls to functions neither the script defines nor the packages provide (a warning each).
    A call through a variable (a function pointer) and a method named like a map property are
    given the benefit of the doubt."""
    nodes = _nodes(script)
    variables: set[str] = set()
    properties: set[str] = set()
    for n in nodes:
        if isinstance(n, A.Let):
            variables.add(n.name)
        elif isinstance(n, A.FnDef | A.Closure):
            variables.update(n.params)
        elif isinstance(n, A.For):
            variables.update(v for v in (n.var, n.idx) if v)
        elif isinstance(n, A.Try) and n.var:
            variables.add(n.var)
        elif isinstance(n, A.MapLit):
            properties.update(str(key) for key, _ in n.items)
        elif isinstance(n, A.Prop):
            properties.add(n.name)
    defined = script.functions
    defined_names = {name for name, _ in defined}
    risks, seen = [], set()

    def report(name: str, arity: int, node, what: str) -> None:
        if (name, arity, what) in seen:
            return
        seen.add((name, arity, what))
        arities = sorted({a for n, a in (*FUNCS, *defined) if n == name})
        known = f" ({name} exists with {', '.join(map(str, arities))} argument(s))" if arities else ""
        risks.append(Risk("unknown_function", "warning", f"line {node.line}, column {node.col}: {what}{known}; "
                          "the call fails when it runs", "script.source"))

    for n in nodes:
        if isinstance(n, A.Call):
            arity = len(n.args)
            if ((n.name, arity) in defined or (n.name, arity) in FUNCS or n.name in variables
                    or (n.name == "is_def_var" and arity == 1)):
                first = n.args[0] if arity == 1 else None
                if n.name == "Fn" and isinstance(first, A.Const) and isinstance(first.value, str):
                    target = first.value
                    if target not in defined_names and target not in NATIVE_NAMES:
                        report(target, -1, n, f"Fn({target!r}) names a function that does not exist")
                continue
            report(n.name, arity, n, f"{n.name}() with {arity} argument(s) is not defined")
        elif isinstance(n, A.MethodCall):
            arity = len(n.args)
            if (n.name, arity + 1) in FUNCS or (n.name, arity) in defined or n.name in properties:
                continue
            report(n.name, arity + 1, n, f"method .{n.name}() with {arity} argument(s) is not defined")
    return risks


class ScriptBackend:
    name = "script"
    interruptible = True  # the engine stops itself at its timeout, which never passes ctx.deadline

    def __init__(self, cache: CompileCache | None = None):
        self.cache = cache or CACHE

    def side_effects(self, template: NodeTemplate) -> bool:
        return False

    def check(self, template: NodeTemplate) -> list[Risk]:
        source = template.script.source if template.script else ""
        if not source.strip():
            return [Risk("no_script", "blocking", "a script node needs `script: {source}` with the Rhai source of "
                         "`fn run(input) { … }`", "script.source")]
        try:
            compiled = self.cache.get(source, template.limits)
        except RhaiError as exc:
            err = innermost(exc)
            return [Risk("syntax_error", "blocking", f"line {err.line}, column {err.column}: {err.message}",
                         "script.source")]
        except Exception as exc:  # a defect of the compiler: still a finding, never a crash
            log.exception("compiling the script of %s failed", template.id)
            return [Risk("syntax_error", "blocking", f"the script does not compile: {type(exc).__name__}: {exc}",
                         "script.source")]
        risks: list[Risk] = []
        if not compiled.has_function(ENTRY, 1):
            others = sorted(a for n, a in compiled.script.functions if n == ENTRY)
            hint = f" (it defines {ENTRY} with {', '.join(map(str, others))} parameter(s))" if others else ""
            risks.append(Risk("no_run_function", "blocking", f"the script defines no `fn {ENTRY}(input)` with one "
                              f"parameter{hint}", "script.source"))
        for name, value in template.param_values().items():
            try:
                from_python(value)
            except (RhaiError, RecursionError) as exc:
                risks.append(Risk("bad_param", "blocking", f"param {name} cannot be passed to a script: {exc}",
                                  f"params.{name}"))
        risks += [Risk("dynamic_import", "blocking", f"line {n.line}, column {n.col}: a script imports only a route "
                       'named as a string literal (import "route" as m)', "script.source")
                  for n in compiled.imports[1]]
        try:
            risks += unknown_calls(compiled.script)
        except Exception:  # the walk is advisory
            log.exception("walking the script of %s failed", template.id)
        return risks

    def run(self, template: NodeTemplate, data: Any, ctx: ExecContext) -> Any:
        node, limits = template.id, template.limits
        timeout_ms = limits.timeout_ms
        if ctx.deadline is not None:
            left_ms = (ctx.deadline - time.monotonic()) * 1000
            if left_ms <= 0:
                raise ExecutionError(f"{node}: no time left before the deadline; the script did not start",
                                     kind="timeout", node=node, limit_ms=0)
            timeout_ms = max(1, min(timeout_ms, math.floor(left_ms)))
        source = template.script.source if template.script else ""
        if not source.strip():
            raise ExecutionError(f"{node}: no script source", kind="exception", node=node, field="script.source")
        try:
            compiled = self.cache.get(source, limits)
        except RhaiError as exc:
            raise execution_error(exc, template) from None
        if not compiled.has_function(ENTRY, 1):
            raise ExecutionError(f"{node}: the script defines no `fn {ENTRY}(input)`", kind="exception", node=node,
                                 error="ErrorFunctionNotFound")
        constants = {}
        for name, value in template.param_values().items():
            try:
                constants[name] = from_python(value)
            except (RhaiError, RecursionError) as exc:
                raise ExecutionError(f"{node}: param {name} cannot be passed to a script: {exc}", kind="exception",
                                     node=node, field=f"params.{name}") from None
        try:
            argument = from_python(data)
        except (RhaiError, RecursionError) as exc:
            reason = str(exc) if isinstance(exc, RhaiError) else "nested too deeply"
            raise ExecutionError(f"{node}: the input cannot be passed to a script: {reason}", kind="bad_input",
                                 node=node) from None
        engine = engine_for(limits, timeout_ms)
        paths, dynamic = compiled.imports
        if paths or dynamic:
            engine.set_module_resolver(NodeModules(ctx, paths))
        lines: list[str] = []
        try:
            result = engine.call_fn(compiled, ENTRY, argument, constants=constants, log=lines)
        except RhaiError as exc:
            raise execution_error(exc, template, timeout_ms) from None
        finally:
            ctx.usage["operations"] = ctx.usage.get("operations", 0) + engine.last_operations
            ctx.log.extend(str(line) for line in lines[:MAX_LOG_LINES])
            if len(lines) > MAX_LOG_LINES:
                ctx.log.append(f"… {len(lines) - MAX_LOG_LINES} more lines from {node} not kept")
        problem = not_json(result)
        if problem is not None:
            raise ExecutionError(f"{node}: run() returned something that is not JSON: {problem}", kind="bad_output",
                                 node=node)
        return result
