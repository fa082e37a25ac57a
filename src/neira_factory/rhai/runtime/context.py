"""Per-run execution state: operation counter, deadline, limits, log, functions.

One ``Context`` exists per evaluation, so concurrent evaluations (even of one
shared ``Engine``) never share mutable state.
"""

from __future__ import annotations

import time

from ..errors import ErrorDataTooLarge, ErrorTerminated, ErrorTooManyOperations
from .values import Char

DEADLINE_CHECK_EVERY = 2048
NO_LIMIT = 1 << 62


class Context:
    """Mutable state of one running script."""

    __slots__ = ("ops", "lim", "max_ops", "deadline", "limits", "log", "fns", "maxd",
                 "this_out", "constants", "engine", "sized")

    def __init__(self, limits, fns, engine=None, log=None, constants=None):
        self.limits = limits
        self.ops = 0
        self.max_ops = limits.max_operations or NO_LIMIT
        self.deadline = time.monotonic() + limits.timeout_ms / 1000 if limits.timeout_ms else None
        self.lim = self._next_limit()
        self.log = [] if log is None else log
        self.fns = fns
        self.maxd = limits.max_call_levels or NO_LIMIT
        self.this_out = None
        self.constants = constants or {}
        self.engine = engine
        self.sized = limits.sized

    def _next_limit(self):
        if self.deadline is None:
            return self.max_ops
        return min(self.max_ops, self.ops + DEADLINE_CHECK_EVERY)

    def tick(self, ops):
        """Called when the op counter passes ``lim``: enforce limits, return the next ``lim``."""
        self.ops = ops
        if ops > self.max_ops:
            raise ErrorTooManyOperations("too many operations")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ErrorTerminated("script terminated: timeout")
        self.lim = self._next_limit()
        return self.lim

    def count(self, n=1):
        """Count ``n`` operations from runtime helpers (callbacks, builtins)."""
        self.ops += n
        if self.ops > self.lim:
            self.tick(self.ops)

    # -- data size limits ------------------------------------------------
    def check_length(self, arr):
        """Cheap check after adding one scalar element to an array."""
        if self.limits.max_array_size and len(arr) > self.limits.max_array_size:
            raise ErrorDataTooLarge("size of array too large")

    def check_size(self, v):
        """Raise ErrorDataTooLarge if ``v`` exceeds the configured data limits."""
        if not self.sized:
            return v
        lim = self.limits
        t = type(v)
        if t is str or t is Char:
            if lim.max_string_size and len(v) > lim.max_string_size:
                raise ErrorDataTooLarge("length of string too large")
            return v
        if t is list or t is dict:
            arrays, maps, strings = data_sizes(v)
            if lim.max_array_size and arrays > lim.max_array_size:
                raise ErrorDataTooLarge("size of array too large")
            if lim.max_map_size and maps > lim.max_map_size:
                raise ErrorDataTooLarge("size of object map too large")
            if lim.max_string_size and strings > lim.max_string_size:
                raise ErrorDataTooLarge("length of string too large")
        elif t is bytearray and lim.max_array_size and len(v) > lim.max_array_size:
            raise ErrorDataTooLarge("size of BLOB too large")
        return v


def data_sizes(v):
    """(array elements, map entries, string chars) counted recursively, as Rhai does."""
    arrays = maps = strings = 0
    stack = [v]
    while stack:
        x = stack.pop()
        t = type(x)
        if t is list:
            arrays += len(x)
            stack.extend(y for y in x if type(y) in (list, dict, str))
        elif t is dict:
            maps += len(x)
            stack.extend(y for y in x.values() if type(y) in (list, dict, str))
        elif t is str and x is not v:
            strings = max(strings, len(x))
    return arrays, maps, strings
