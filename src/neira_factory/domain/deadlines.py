"""The deadline of the call running in this thread (or task), for code that cannot be handed one.

A backend that runs in-process code on an abandonable worker sets it around the call (`scope`); code
below — the library's implementations, bounded JMESPath searches, the subprocesses they start — asks
what is left (`left_s`) or stops when it has passed (`check`). A worker abandoned by the watchdog at
the hard timeout so stops by itself soon after, instead of burning a core or a slot for minutes.
"""
from __future__ import annotations

import time
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("neira_deadline", default=None)


class Expired(Exception):
    """The call's deadline has passed."""


class scope:  # a context manager, named like contextlib's
    """`with scope(d):` the code inside (this thread, this task) runs until time.monotonic() `d`."""

    __slots__ = ("deadline", "token")

    def __init__(self, deadline: float | None):
        self.deadline = deadline

    def __enter__(self) -> float | None:
        self.token = _deadline.set(self.deadline)
        return self.deadline

    def __exit__(self, *exc: object) -> None:
        _deadline.reset(self.token)


def current() -> float | None:
    """time.monotonic() by which the running call must stop, or None outside any call."""
    return _deadline.get()


def left_s(cap_s: float) -> float:
    """Seconds left to the call's deadline, at most `cap_s`; Expired when none are left."""
    deadline = _deadline.get()
    if deadline is None:
        return cap_s
    left = deadline - time.monotonic()
    if left <= 0:
        raise Expired
    return min(cap_s, left)


def check() -> None:
    """Expired once the call's deadline has passed (for loops over untrusted data)."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise Expired
