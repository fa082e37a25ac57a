"""JMESPath with bounds: every expression the factory evaluates — an adapter's `map` and `routes[].when`,
the `json_map` implementation, a training run's `field` — is parsed and searched here.

A few characters of JMESPath can ask for exponential work: each `[@,@,@,@,@,@,@,@,@,@][]` stage makes a
value ten times the previous one, so seven stages of it reach gigabytes. So:

* an expression has at most MAX_EXPRESSION_CHARS characters and nests at most MAX_NESTING levels
  (`parse` refuses it with `LimitExceeded`, a JMESPathError like a syntax error);
* every value a search builds (a multi-select, a projection, a flatten, a function's result) is measured
  as its JSON text would be, shared references counted each time (`json_values.serialized_size`), and
  may not pass MAX_VALUE_CHARS; `join`, the one function whose result can outgrow its arguments, is
  measured before it runs;
* a search has a work budget, MAX_WORK units: one per node of the expression visited, plus the size of
  every value built — which bounds the memory it holds as well as its steps;
* it stops at a deadline: the one given, else the running call's (domain/deadlines: a node's
  ExecContext deadline, set around it by the adapter), else DEFAULT_BUDGET_S after it starts.

A broken bound raises LimitExceeded: kind `limit`, or `timeout` for the deadline.
"""
from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import jmespath
from jmespath import functions
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from jmespath.visitor import Options, TreeInterpreter

from . import deadlines
from .json_values import serialized_size

MAX_EXPRESSION_CHARS = 1000
MAX_NESTING = 64  # levels of the parsed expression: far past any real one, well inside Python's recursion
MAX_VALUE_CHARS = 4 * 1024 * 1024  # a value a search builds, as JSON text
MAX_WORK = 4 * MAX_VALUE_CHARS
DEFAULT_BUDGET_S = 1.0  # a search with no deadline given or set (the default node `timeout_ms`)
BUILDERS = frozenset({"multi_select_list", "multi_select_dict", "projection", "value_projection",
                      "filter_projection", "flatten", "function_expression"})  # the nodes that make new values


class LimitExceeded(JMESPathError):
    """An expression, or its search, broke a bound; `kind` is `limit`, or `timeout` past the deadline."""

    def __init__(self, reason: str, kind: str = "limit"):
        super().__init__(reason)
        self.reason, self.kind = reason, kind


@lru_cache(maxsize=4096)
def parse(expression: str) -> ParsedResult:
    """`expression` compiled; JMESPathError when it does not parse, LimitExceeded when it is too long or
    nests too deeply."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise LimitExceeded(f"an expression of {len(expression)} characters (at most {MAX_EXPRESSION_CHARS})")
    try:
        parsed = jmespath.compile(expression)
    except RecursionError:
        raise LimitExceeded(f"an expression nested deeper than {MAX_NESTING} levels") from None
    if _nesting(parsed.parsed) > MAX_NESTING:
        raise LimitExceeded(f"an expression nested deeper than {MAX_NESTING} levels")
    return parsed


def _nesting(node: dict[str, Any]) -> int:
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in current.get("children", ()) if isinstance(child, dict))
    return deepest


def search(parsed: ParsedResult, data: Any, deadline: float | None = None) -> Any:
    """`parsed` applied to `data` within the bounds (`deadline` is time.monotonic()). JMESPathError for an
    error of the expression on this data (a function given the wrong type), LimitExceeded for a bound."""
    if deadline is None:
        deadline = deadlines.current()
    if deadline is None:
        deadline = time.monotonic() + DEFAULT_BUDGET_S
    return _Interpreter(deadline).visit(parsed.parsed, data)


def _too_big(size: int) -> LimitExceeded:
    return LimitExceeded(f"the search built a value of more than {MAX_VALUE_CHARS} characters as JSON "
                         f"(about {size} or more)")


class _Functions(functions.Functions):
    """The standard functions; `join`'s result is measured before it is made."""

    @functions.signature({"types": ["string"]}, {"types": ["array-string"]})
    def _func_join(self, separator: str, array: list[str]) -> str:
        size = len(separator) * max(len(array) - 1, 0) + sum(map(len, array))
        if size > MAX_VALUE_CHARS:
            raise _too_big(size)
        return super()._func_join(separator, array)


_OPTIONS = Options(custom_functions=_Functions())


class _Interpreter(TreeInterpreter):
    """The standard interpreter, charging every node it visits and every value it builds to a work budget,
    measuring each value it builds, and checking the clock at every node."""

    def __init__(self, deadline: float):
        super().__init__(_OPTIONS)
        self.deadline = deadline
        self.work_left = MAX_WORK
        self.sizes: dict[int, tuple[int, Any]] = {}  # containers measured so far (serialized_size's `known`)

    def visit(self, node: dict[str, Any], value: Any) -> Any:
        self.charge(1)
        result = super().visit(node, value)
        if node["type"] in BUILDERS:
            size = serialized_size(result, MAX_VALUE_CHARS, self.sizes)
            if size > MAX_VALUE_CHARS:
                raise _too_big(size)
            self.charge(size)
        return result

    def charge(self, units: int) -> None:
        self.work_left -= units
        if self.work_left < 0:
            raise LimitExceeded(f"the search needed more than {MAX_WORK} units of work (one per step, plus the "
                                "size of every value it built)")
        if time.monotonic() > self.deadline:
            raise LimitExceeded("the search ran past its deadline and was stopped", "timeout")
