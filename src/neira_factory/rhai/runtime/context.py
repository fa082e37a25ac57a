"""Per-run execution state: operation counter, deadline, limits, data sizes, log, functions.

One ``Context`` exists per evaluation, so concurrent evaluations (even of one
shared ``Engine``) never share mutable state.
"""

from __future__ import annotations

import time

from ..errors import ErrorDataTooLarge, ErrorTerminated, ErrorTooManyOperations
from .sizes import Sizes

DEADLINE_CHECK_EVERY = 2048
NO_LIMIT = 1 << 62


class Context:
    """Mutable state of one running script."""

    __slots__ = ("ops", "lim", "max_ops", "deadline", "limits", "log", "fns", "maxd",
                 "this_out", "constants", "engine", "sizes")

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
        self.sizes = Sizes(limits) if limits.sized else None

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
    def check_size(self, v):
        """Raise ErrorDataTooLarge if ``v`` exceeds the configured data limits."""
        if self.sizes is None:
            return v
        return self.sizes.check(v)

    def check_length(self, arr):
        """Cheap check after adding one scalar element to an array: its own length only."""
        if self.limits.max_array_size and len(arr) > self.limits.max_array_size:
            raise ErrorDataTooLarge("size of array too large")

    def stored(self, target, added, removed=(), check=True):
        """Report an in-place change of the list or dict ``target`` (see ``Sizes.stored``),
        then (``check``) check ``target``.  Every store that can grow a container must
        come through here when data sizes are limited."""
        sizes = self.sizes
        if sizes is not None:
            if sizes.roots:
                sizes.stored(target, added, removed)
            if check:
                sizes.check(target)
