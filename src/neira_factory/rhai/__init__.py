"""A self-contained, sandboxed Rhai interpreter (scripts compile to Python code).

    from neira_factory.rhai import Engine, RhaiError
    Engine().eval("let x = 40; x + 2")  # -> 42

See ``docs/rhai.md`` for coverage and deviations from Rhai.
"""

from .engine import AST, Engine
from .errors import RhaiError
from .modules import SourceModuleResolver, StaticModuleResolver
from .options import LanguageOptions
from .packages.package import Package
from .packages.standard import StandardPackage
from .runtime.modules import Module
from .runtime.values import Char, FnPtr
from .scope import Scope

__all__ = ["AST", "Char", "Engine", "FnPtr", "LanguageOptions", "Module", "Package", "RhaiError", "Scope", "SourceModuleResolver",
           "StandardPackage", "StaticModuleResolver"]
