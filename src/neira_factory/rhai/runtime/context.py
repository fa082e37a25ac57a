"""Per-run execution state: operation counter, deadline, limits, data sizes, log, functions
(the script's own and the registry of native ones).

One ``Context`` exists per evaluation, so concurrent evaluations (even of one
shared ``Engine``) never share mutable state.

Operations are counted in two places.  Compiled code counts syntax nodes in a
local counter and calls ``tick`` every ``CHECK_EVERY`` of them (``ops`` holds the
count as of the last tick or call).  Built-ins and runtime helpers ``charge`` the
work they do beyond that one operation (``work``): one operation per ``BULK``
array elements, map entries or characters handled at C speed (copied, moved,
scanned, compared), one per item handled in a Python loop.  Both checks enforce
``max_operations`` against ``ops + work`` and read the clock, so the deadline is
checked at least every ``CHECK_EVERY`` operations however they are spent (at C
speed, ``CHECK_EVERY * BULK`` items take a few milliseconds).
"""

from __future__ import annotations

import time

from ..errors import ErrorDataTooLarge, ErrorTerminated, ErrorTooManyOperations
from .sizes import Sizes

CHECK_EVERY = 2048
NO_LIMIT = 1 << 62
BULK = 1024


class Context:
    """Mutable state of one running script."""

    __slots__ = ("ops", "lim", "max_ops", "deadline", "limits", "log", "fns", "natives", "maxd",
                 "this_out", "constants", "engine", "sizes", "work", "wlim", "log_left", "max_string",
                 "imports", "modules", "scope_constants")

    def __init__(self, limits, fns, natives, engine=None, log=None, constants=None):
        self.limits = limits
        self.ops = self.work = 0
        self.max_ops = limits.max_operations or NO_LIMIT
        self.deadline = time.monotonic() + limits.timeout_ms / 1000 if limits.timeout_ms else None
        self.lim = self._next_limit()
        self.wlim = CHECK_EVERY if limits.counting else NO_LIMIT
        self.log = [] if log is None else log
        self.max_string = limits.max_string_size or NO_LIMIT
        self.log_left = self.max_string
        self.fns = fns
        self.natives = natives
        self.maxd = limits.max_call_levels or NO_LIMIT
        self.this_out = None
        self.constants = constants or {}
        self.scope_constants = frozenset(self.constants)  # the run's Scope constants, seen in functions
        self.engine = engine
        self.sizes = Sizes(limits, self.clock) if limits.sized else None
        self.imports: dict = {}  # modules imported at the top level, by alias (functions see them)
        self.modules: list = []  # paths of the modules being built (cycle and depth checks)

    # -- operations and the deadline ------------------------------------------
    @property
    def operations(self) -> int:
        """Operations counted so far: syntax nodes plus the work charged by built-ins."""
        return self.ops + self.work

    def _next_limit(self):
        if self.max_ops == NO_LIMIT and self.deadline is None:
            return NO_LIMIT
        return min(self.max_ops - self.work, self.ops + CHECK_EVERY)

    def _enforce(self):
        if self.ops + self.work > self.max_ops:
            raise ErrorTooManyOperations("too many operations")
        self.clock()

    def tick(self, ops):
        """Called when the compiled code's counter passes ``lim``: enforce limits, return the next ``lim``."""
        self.ops = ops
        self._enforce()
        self.lim = self._next_limit()
        return self.lim

    def charge(self, n):
        """Count ``n`` operations of work done inside a built-in or runtime helper."""
        self.work += n
        if self.work > self.wlim:
            self._enforce()
            self.wlim = self.work + CHECK_EVERY

    def spans(self, n):
        """Bounds ``(lo, hi)`` of the steps of a Python loop over ``n`` items, one operation
        per item charged as each step begins: a loop over a large container meets
        max_operations and the deadline while it runs, not after."""
        for lo in range(0, n, CHECK_EVERY):
            hi = min(lo + CHECK_EVERY, n)
            self.charge(hi - lo)
            yield lo, hi

    def charge_bulk(self, n):
        """Charge C-speed work on ``n`` array elements, map entries or characters."""
        if n >= BULK:
            self.charge(n // BULK)

    def clock(self):
        """Raise ErrorTerminated once the deadline has passed (no operation counted)."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ErrorTerminated("script terminated: timeout")

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

    def fits(self, chars=0, items=0):
        """Raise ErrorDataTooLarge before building a string of ``chars`` characters or an
        array of ``items`` elements that the limits would refuse."""
        if chars > self.max_string:
            raise ErrorDataTooLarge("length of string too large")
        lim = self.limits.max_array_size
        if lim and items > lim:
            raise ErrorDataTooLarge("size of array too large")

    def stored(self, target, added, removed=(), check=True, chars=0):
        """Report an in-place change of the list or dict ``target`` (see ``Sizes.stored``;
        ``chars``: characters of map keys it gained), then (``check``) check ``target``.
        Every store that can grow a container must come through here when data sizes
        are limited."""
        sizes = self.sizes
        if sizes is not None:
            if sizes.roots:
                sizes.stored(target, added, removed, chars)
            if check:
                sizes.check(target)

    # -- output --------------------------------------------------------------
    def print(self, text):
        """Add a print/debug line to the log; lines past ``max_string_size`` characters in
        all are dropped (one marker line says so)."""
        left = self.log_left - len(text)
        if left >= 0:
            self.log.append(text)
        elif self.log_left >= 0:
            self.log.append("… print output over the string size limit not kept")
        self.log_left = left if left >= 0 else -1
