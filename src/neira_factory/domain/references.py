"""Every name a template uses for a node or a route, with the field that holds it.

The self_edit gate governs the factory's own modules (`factory.*`): whoever names one — as the template's
id or route, a link, a chain step, a routing rule's or the fallback's target, an organ member, a script's
`import` — changes or reads what the factory decides with, so each of those places counts (services check the
gate on all of them).
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from .capabilities import BACKEND_GATES, FACTORY_NODE_PREFIX, SELF_EDIT_GATE
from .templates import NodeTemplate, OrganTemplate

# `import "route" [as alias]` in a script node's Rhai source (a literal path; the script backend refuses others)
SCRIPT_IMPORT = re.compile(r'\bimport\s+"([^"\\\n]*)"')
MAX_SCRIPT_IMPORTS = 64  # distinct routes a script may import (each is looked up, and linked, by the dry-run)


def script_imports(source: str) -> list[str]:
    """The routes a script's source names in `import "…"` (a comment's too: this errs on the safe side)."""
    return list(dict.fromkeys(m.group(1) for m in SCRIPT_IMPORT.finditer(source)))


def named(template: NodeTemplate | OrganTemplate) -> Iterator[tuple[str, str]]:
    """(field, name) for the id, the route and every node the template refers to."""
    yield "id", template.id
    if isinstance(template, OrganTemplate):
        yield from ((f"nodes.{i}", node) for i, node in enumerate(template.nodes))
        for c, channel in enumerate(template.channels):
            yield from ((f"channels.{c}.nodes.{i}", node) for i, node in enumerate(channel.nodes))
        return
    if template.route is not None:
        yield "route", template.route
    yield from ((f"links.{i}", link) for i, link in enumerate(template.links))
    spec = template.adapter
    if spec is not None:
        yield from ((f"adapter.chain.{i}", ref) for i, ref in enumerate(spec.chain or ()))
        yield from ((f"adapter.routes.{i}.to", rule.to) for i, rule in enumerate(spec.routes))
        if spec.fallback is not None:
            yield "adapter.fallback", spec.fallback
    if template.script is not None:
        yield from ((f"script.imports.{i}", path) for i, path in enumerate(script_imports(template.script.source)))


def is_factory_name(name: str | None) -> bool:
    return bool(name) and name.startswith(FACTORY_NODE_PREFIX)


def factory_references(template: NodeTemplate | OrganTemplate) -> list[tuple[str, str]]:
    """(field, name) of each place where the template names one of the factory's own modules."""
    return [(field, name) for field, name in named(template) if is_factory_name(name)]


def self_edit_gates(*names: str | None) -> tuple[str, ...]:
    """The self_edit gate when any of `names` (ids, routes) is one of the factory's own modules."""
    return (SELF_EDIT_GATE,) if any(is_factory_name(n) for n in names) else ()


def template_gates(template: NodeTemplate | OrganTemplate) -> tuple[str, ...]:
    """The self_edit gate when the template names a factory module anywhere."""
    return (SELF_EDIT_GATE,) if factory_references(template) else ()


def run_gates(template: NodeTemplate | OrganTemplate) -> tuple[str, ...]:
    """The gates that must be open for the template to run: its backend's, or the gates an organ declares.
    A closed one is a kill switch: nothing behind it runs (services/execution.py)."""
    if isinstance(template, OrganTemplate):
        return tuple(template.policies.gates)
    return (BACKEND_GATES[template.backend or "adapter"],)
