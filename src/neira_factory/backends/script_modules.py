"""`import "route" as m;` in a script node: the module is the stable version of that route's script node.

The route's stable version comes from the invocation's `ExecContext.stable` (the runtime's route cache, so a
call reads no database; it is dropped when the route's versions change). Its source is compiled and its top
level run once per (node id, source, limits) and the module kept (`MODULES`, least recently used out, bounded in
count and in data held); the first run that imports it pays for that, under its own limits, and each run gets its
own copy of the module's values (a closure's state never passes from one call to the next). Imports are bounded:
a cycle, a chain more than `MAX_MODULE_DEPTH` deep or a module text over `MAX_MODULE_CHARS` fails the import with
a clear error.

Policy: a script imports only what its source names as a string literal (what the dry-run checked as a link),
only script nodes, only while the script gate is open, and a factory module (`factory.*`) only while
self_edit is open.
"""
from __future__ import annotations

from dataclasses import replace

from ..domain.capabilities import BACKEND_GATES, SELF_EDIT_GATE
from ..domain.references import is_factory_name, script_imports
from ..rhai import ast as A
from ..rhai.errors import ErrorModuleNotFound
from ..rhai.modules import KeptModules, module_from_source
from ..rhai.runtime.modules import IMPORT_OPS
from ..domain.templates import NodeTemplate
from .base import ExecContext

SCRIPT_GATE = BACKEND_GATES["script"]
MODULE_CACHE_SIZE = 128


def literal_imports(script) -> tuple[list[str], list]:
    """(paths imported as string literals, `import` nodes whose path is not one) of a parsed script."""
    paths, dynamic, stack = [], [], [*script.stmts, *script.functions.values()]
    while stack:
        node = stack.pop()
        if isinstance(node, A.Import):
            if isinstance(node.path, A.Const) and isinstance(node.path.value, str):
                paths.append(node.path.value)
            else:
                dynamic.append(node)
        if isinstance(node, A.Node):
            stack.extend(getattr(node, f) for f in node.fields)
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return list(dict.fromkeys(paths)), dynamic


class ModuleCache(KeptModules):
    """Built modules keyed by (node id, its source, the engine's limits), each kept with the (route, node id,
    source) of every module its top level imported, at any depth; least recently used out, past a count or past
    an amount of data held (see `KeptModules`)."""

    def __init__(self, size: int = MODULE_CACHE_SIZE):
        super().__init__(size)

    @staticmethod
    def key(c, node_id: str, source: str) -> tuple:
        # a str caches its hash (the cached template's source costs nothing); generated code does not depend on
        # the timeout's value (see ScriptAST), so one module serves every deadline
        return node_id, source, replace(c.limits, timeout_ms=1 if c.limits.timeout_ms else 0)


MODULES = ModuleCache()


class NodeModules:
    """The module resolver of one script invocation (see the module docstring). A kept module is used only while
    every module it imported is still what the policy and the stable versions give now (else it is built anew):
    a module never holds on to a version rolled back, nor to a factory module once self_edit is closed."""

    def __init__(self, ctx: ExecContext, allowed: list[str], cache: ModuleCache = MODULES):
        self.ctx, self.allowed, self.cache = ctx, set(allowed), cache
        self.building: list[dict[tuple, None]] = []  # per module being built: the imports it made, at any depth, once

    def stable_script(self, path: str) -> NodeTemplate:
        """The template `import path` gets now, or ErrorModuleNotFound saying why none."""
        if path not in self.allowed:
            raise ErrorModuleNotFound(f"Module not found: {path} (a script imports only routes its source names "
                                      "as a string literal)")
        if SCRIPT_GATE in self.ctx.closed:
            raise ErrorModuleNotFound(f"Module not found: {path} (capability {SCRIPT_GATE} is off)")
        if is_factory_name(path) and SELF_EDIT_GATE in self.ctx.closed:
            raise ErrorModuleNotFound(f"Module not found: {path} (a factory module needs gate {SELF_EDIT_GATE})")
        node = self.ctx.stable(path)
        if node is None:
            raise ErrorModuleNotFound(f"Module not found: {path} (no stable version of that route)")
        template = node.template
        if template.backend != "script" or template.script is None:
            raise ErrorModuleNotFound(f"Module not found: {path} ({template.id} is not a script node)")
        self.allowed.update(script_imports(template.script.source))  # what it imports in turn (checked as it is)
        return template

    def current(self, imported: tuple) -> bool:
        """Whether every (route, node id, source) a kept module imported is what an import gets now."""
        for path, node_id, source in imported:
            try:
                template = self.stable_script(path)
            except ErrorModuleNotFound:
                return False
            if template.id != node_id or template.script.source != source:
                return False
        return True

    def resolve(self, c, d, path: str):
        template = self.stable_script(path)
        source = template.script.source
        key = self.cache.key(c, template.id, source)
        found = self.cache.kept(key)
        if found is not None:
            c.charge(IMPORT_OPS // 4 * len(found[1]))  # each import it made is looked up again
        if found is not None and self.current(found[1]):
            module, imported = found
        else:
            self.building.append({})
            try:
                module = module_from_source(c, d, path, source)
            finally:
                imported = tuple(self.building.pop())
            self.cache.keep(c, key, module, source, imported)
        if self.building:  # the module being built depends on this one and on what this one imported
            self.building[-1].update(dict.fromkeys(((path, template.id, source), *imported)))
        return module
