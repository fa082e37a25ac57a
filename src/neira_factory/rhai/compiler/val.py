"""Compiled values: ``Val`` (Python code for an expression, its static type and how it may be
stored), ``Checked`` (a value the data-size limits must check) and ``UNIT``."""

from __future__ import annotations


class Val:
    """A compiled expression: Python code, static type, whether the value is
    freshly made (no copy needed when stored) and whether the code is stable
    (a constant or temporary that later statements cannot change)."""

    __slots__ = ("code", "ty", "fresh", "stable")

    def __init__(self, code, ty="any", fresh=False, stable=False):
        self.code, self.ty, self.fresh, self.stable = code, ty, fresh, stable


UNIT = Val("None", "unit", True, True)


class Checked(Val):
    """``c.check_size(inner)``: a value that may have grown, checked against the data-size
    limits.  Stored into a variable it is assigned first and checked after, so that
    ``s = s + "x"`` keeps CPython's in-place string append instead of copying ``s``."""

    __slots__ = ("inner",)

    def __init__(self, inner: Val):
        super().__init__(f"c.check_size({inner.code})", inner.ty, inner.fresh, False)
        self.inner = inner
