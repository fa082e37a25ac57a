"""Engine limits (Rhai's ``set_max_*`` settings plus a wall-clock timeout and a script size).

0 or None means unlimited, as in Rhai.  Defaults follow a Rhai release build, except
``max_tokens`` (Rhai has none): the most tokens a script or an ``eval`` text may have,
which bounds lexing, parsing and compiling (a syntax node takes at least one token,
bar at most one implied node per token).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_operations: int = 0
    max_call_levels: int = 64
    max_expr_depth: int = 64
    max_function_expr_depth: int = 32
    max_string_size: int = 0
    max_array_size: int = 0
    max_map_size: int = 0
    max_variables: int = 0
    timeout_ms: int = 0
    max_tokens: int = 1 << 14  # CPython compiles n closures in a function of n locals in O(n²): keep n small

    @classmethod
    def build(cls, max_expr_depths=(64, 32), **kwargs) -> "Limits":
        """Build from Engine keyword arguments; ``max_expr_depths`` is an int or a
        (global, function) pair; None counts as 0 (unlimited)."""
        if isinstance(max_expr_depths, (tuple, list)):
            glob, func = max_expr_depths
        else:
            glob = func = max_expr_depths
        clean = {k: int(v or 0) for k, v in kwargs.items()}
        for k, v in clean.items():
            if v < 0:
                raise ValueError(f"{k} must not be negative")
        return cls(max_expr_depth=int(glob or 0), max_function_expr_depth=int(func or 0), **clean)

    @property
    def counting(self) -> bool:
        """Whether compiled code must count operations (limit or deadline set)."""
        return bool(self.max_operations or self.timeout_ms)

    @property
    def sized(self) -> bool:
        """Whether compiled code must check data sizes."""
        return bool(self.max_string_size or self.max_array_size or self.max_map_size)
