"""A self-contained, sandboxed Rhai interpreter (scripts compile to Python code).

    from neira_factory.rhai import Engine, RhaiError
    Engine().eval("let x = 40; x + 2")  # -> 42

See ``docs/rhai.md`` for coverage and deviations from Rhai.
"""

from .engine import AST, Engine, Scope
from .errors import RhaiError
from .runtime.values import Char, FnPtr

__all__ = ["AST", "Char", "Engine", "FnPtr", "RhaiError", "Scope"]
