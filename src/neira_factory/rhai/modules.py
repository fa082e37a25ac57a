"""Module resolvers (Rhai's ``ModuleResolver``): what ``import "path" as m`` finds.

An engine has none by default, so every ``import`` fails with ``ErrorModuleNotFound``.
A resolver is any object with ``resolve(c, d, path) -> Module`` (``c``: the importing
run's context, ``d``: its call depth).  ``StaticModuleResolver`` serves modules made
ahead of time; ``SourceModuleResolver`` compiles script text on first import (charged to
the importing run) and keeps the module it built, per text and limits.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from .errors import ErrorInModule, ErrorModuleNotFound, RhaiError
from .options import check as check_options
from .parser import parse
from .runtime.modules import Module, build_module
from .runtime.sizes import measure_any

MAX_MODULE_CHARS = 256 * 1024  # the longest module text a resolver compiles
KEPT_BYTES = 256 << 20  # about how much data the modules a resolver keeps may hold, all together
ELEMENT_BYTES, CHAR_BYTES = 64, 4  # about what an array element (or map entry) and a character take, at most
CODE_BYTES = 160  # about what the compiled code of a module takes per character of its source


def weight(module: Module, clock=None) -> int:
    """About how many bytes of data ``module`` holds (exported values, global constants, what their
    closures captured), its sub-modules included; ``clock``: the run's deadline check."""
    elements = chars = 0
    seen, todo = set(), [module]
    while todo:
        m = todo.pop()
        if id(m) not in seen:
            seen.add(id(m))
            arrays, maps, strings = measure_any([*m.vars.values(), *(m.env[1].values() if m.env else ())], clock)
            elements, chars = elements + arrays + maps, chars + strings
            todo.extend(m.subs.values())
    return ELEMENT_BYTES * elements + CHAR_BYTES * chars


class KeptModules:
    """Built modules by key, the least recently used out past ``size`` of them or past ``max_bytes``
    of data (``weight``) in all; a module heavier than a quarter of that is not kept (each run that
    imports it builds its own), so no importer can fill the process's memory with kept modules."""

    def __init__(self, size: int, max_bytes: int = KEPT_BYTES):
        self.size, self.max_bytes, self.bytes = size, max_bytes, 0
        self._items: OrderedDict = OrderedDict()  # key -> (module, weight)
        self._lock = threading.Lock()

    def kept(self, key) -> tuple[Module, tuple] | None:
        """(the module kept under ``key``, what was kept with it), or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0], found[2]

    def keep(self, c, key, module: Module, source: str, extra: tuple = ()) -> Module:
        """Keep ``module`` built from ``source`` (and ``extra``, e.g. what it imported) under ``key``; its data
        is weighed on the run ``c``, its code by the length of ``source``."""
        w = weight(module, c.clock) + CODE_BYTES * len(source)
        if w <= self.max_bytes // 4:
            with self._lock:
                old = self._items.pop(key, None)
                self.bytes += w - (old[1] if old else 0)
                self._items[key] = (module, w, extra)
                while len(self._items) > self.size or self.bytes > self.max_bytes:
                    self.bytes -= self._items.popitem(last=False)[1][1]
        return module


class StaticModuleResolver:
    """Modules by path, made by the host (``Module``) or from a script (``Engine.module_from_ast``)."""

    def __init__(self, modules=None):
        self.modules: dict = dict(modules or {})

    def insert(self, path, module: Module) -> StaticModuleResolver:
        self.modules[path] = module
        return self

    def resolve(self, c, d, path) -> Module:
        found = self.modules.get(path)
        if found is None:
            raise ErrorModuleNotFound(f"Module not found: {path}")
        return found


def module_from_source(c, d, path, source) -> Module:
    """The module of script text ``source``, compiled for the run ``c`` (its tokens charged to it)
    and built on it; a text past ``MAX_MODULE_CHARS`` or with a syntax error fails the import."""
    if len(source) > MAX_MODULE_CHARS:
        raise ErrorInModule(f"module '{path}' is too large: {len(source)} characters (at most {MAX_MODULE_CHARS})")
    from .engine import AST
    engine = c.engine
    try:
        script = parse(source, engine.limits, False, engine.disabled_symbols, c.charge)
        if not engine.options.default:  # what the importing engine refuses to compile, it refuses to import
            check_options(script, engine.options)
    except RecursionError:
        raise ErrorInModule(f"module '{path}': expression nested too deeply") from None
    except RhaiError as e:
        raise ErrorInModule(f"module '{path}': syntax error at line {e.line}: {e.message}") from None
    return build_module(c, d, path, AST(script, c.natives))


class SourceModuleResolver:
    """Modules from script text by path (``sources``, or ``source(path)`` in a subclass), each
    built once per (path, text, engine settings) and kept (``KeptModules``: at most ``size`` of them)."""

    def __init__(self, sources=None, size=64):
        self.sources: dict = dict(sources or {})
        self._built = KeptModules(size)

    def source(self, path) -> str | None:
        return self.sources.get(path)

    def resolve(self, c, d, path) -> Module:
        text = self.source(path)
        if text is None:
            raise ErrorModuleNotFound(f"Module not found: {path}")
        engine = c.engine  # a module is compiled for the engine's limits, language options and functions
        key = (path, text, c.limits, engine.options, engine.disabled_symbols, c.natives)
        found = self._built.kept(key)
        return found[0] if found is not None else self._built.keep(c, key, module_from_source(c, d, path, text), text)
