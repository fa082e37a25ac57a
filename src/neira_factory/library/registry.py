"""The registry of built-in implementations, looked up by name.

Adapter nodes bind an implementation by name: a template's ``adapter.impl``,
or its ``analysis_type`` / ``action_type`` when ``impl`` is absent. ``get``
returns the ``LibraryImpl``; an unknown name is ``ImplError("unknown_impl")``
listing the known ones. ``io_schema`` gives the input and output schemas
that the adapter backend checks along a node's links (see
``schema.link_problems``).
"""

from __future__ import annotations

from types import MappingProxyType

from neira_factory.library import classify, extract, factory_modules, jsonmap, ocr, text, vision, voice
from neira_factory.library.core import ImplContext, ImplError, LibraryImpl

__all__ = ["ImplContext", "ImplError", "LibraryImpl", "get", "io_schema", "names"]

_REGISTRY = MappingProxyType(
    {impl.name: impl for module in (text, extract, classify, jsonmap, voice, vision, ocr, factory_modules) for impl in module.IMPLS}
)


def get(name: str) -> LibraryImpl:
    """The implementation called ``name``."""
    impl = _REGISTRY.get(name) if isinstance(name, str) else None
    if impl is None:
        raise ImplError("unknown_impl", f"no built-in implementation {name!r}; known: {', '.join(names())}", "impl")
    return impl


def names() -> list[str]:
    """The names of all implementations, sorted."""
    return sorted(_REGISTRY)


def io_schema(name: str) -> dict:
    """``{"input": schema, "output": schema}`` of the implementation ``name``."""
    impl = get(name)
    return {"input": impl.input_schema, "output": impl.output_schema}
