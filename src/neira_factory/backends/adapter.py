"""Adapter backend: no-code nodes that bind a library implementation or chain linked nodes.

Order of work for one call: optional `map` (JMESPath over the input) builds the
call's input; the first `routes` rule whose condition holds picks a target (a
linked node or an implementation); otherwise the node's own target runs (its
`impl`, the implementation named by its type, or its links as a chain). A
`confidence` below `confidence_threshold` sends the input to `fallback`, or
marks the result `uncertain`. The call's deadline (the context's, or — without
one — the node's `timeout_ms` from its start) is set for everything below
(domain/deadlines): every JMESPath search, its own and the implementation's, is
bounded (domain/bounded_jmespath) and stops there, and so do the implementations.
"""
from __future__ import annotations

import time
from typing import Any

from jmespath.exceptions import JMESPathError

from .. import library
from ..domain import bounded_jmespath, deadlines
from ..domain.report import Risk
from ..domain.templates import IOSpec, NodeTemplate
from .base import ExecContext, ExecutionError

BLOCKED_STATES = ("disabled", "quarantined")  # a linked node in these states is not run
IMPL_ERROR_KINDS = {"bad_input": "bad_input", "bad_params": "bad_input", "timeout": "timeout", "limit": "limit"}
Target = tuple[str, Any]  # ("impl", name) | ("node", id) | ("chain", [ids])


def jmes(expression: str, data: Any, where: str, node: str) -> Any:
    """The bounded search of `expression` in `data`; a broken bound is a `limit` (or `timeout`) error."""
    try:
        return bounded_jmespath.search(bounded_jmespath.parse(expression), data)
    except bounded_jmespath.LimitExceeded as exc:
        raise ExecutionError(f"{where}: {exc.reason}", kind=exc.kind, node=node, field=where) from None
    except JMESPathError as exc:
        raise ExecutionError(f"{where}: bad JMESPath {expression!r}: {exc}", kind="bad_input", node=node) from None


def impl_name(template: NodeTemplate) -> str | None:
    """The library implementation the node binds, if any."""
    spec = template.adapter
    if spec and spec.impl:
        return spec.impl
    if spec and spec.chain:
        return None
    return template.node_type if template.node_type in library.names() else None


def effective_io(template: NodeTemplate) -> IOSpec:
    """The template's io, or — where it was left at its default — the io of the implementation it binds."""
    name = impl_name(template) if (template.backend or "adapter") == "adapter" else None
    if name in library.names() and template.io == IOSpec():
        return IOSpec(**library.io_schema(name))
    return template.io


def default_target(template: NodeTemplate) -> Target | None:
    spec = template.adapter
    name = impl_name(template)
    if name:
        return ("impl", name)
    chain = (spec.chain if spec and spec.chain else None) or template.links
    return ("chain", list(chain)) if chain else None


def target_of(ref: str, template: NodeTemplate) -> Target:
    """A route/fallback reference: a linked node id, else an implementation name."""
    return ("node", ref) if ref in template.links else ("impl", ref)


class AdapterBackend:
    name = "adapter"
    interruptible = False

    def check(self, template: NodeTemplate) -> list[Risk]:
        risks: list[Risk] = []
        spec = template.adapter
        target = default_target(template)
        if target is None:
            risks.append(Risk("no_implementation", "blocking",
                              f"no adapter.impl, no library implementation named {template.node_type!r}, and no links "
                              f"to chain; known implementations: {', '.join(library.names())}", "adapter.impl"))
        elif target[0] == "impl" and target[1] not in library.names():
            risks.append(Risk("unknown_impl", "blocking", f"unknown implementation {target[1]!r}; known: "
                              f"{', '.join(library.names())}", "adapter.impl"))
        refs = [(f"adapter.routes.{i}.to", r.to) for i, r in enumerate(spec.routes)] if spec else []
        if spec and spec.fallback:
            refs.append(("adapter.fallback", spec.fallback))
        if spec and spec.chain:
            refs += [(f"adapter.chain.{i}", ref) for i, ref in enumerate(spec.chain) if ref not in template.links]
        for where, ref in refs:
            if ref not in template.links and ref not in library.names():
                risks.append(Risk("unknown_target", "blocking",
                                  f"{ref!r} is neither a linked node nor a library implementation", where))
        expressions = [(f"adapter.routes.{i}.when", r.when) for i, r in enumerate(spec.routes)] if spec else []
        expressions += [(f"adapter.map.{k}", v) for k, v in (spec.map or {}).items()] if spec else []
        for where, expression in expressions:
            try:
                bounded_jmespath.parse(expression)
            except JMESPathError as exc:
                risks.append(Risk("bad_jmespath", "blocking", f"{expression!r}: {exc}", where))
        return risks

    def side_effects(self, template: NodeTemplate) -> bool:
        target = default_target(template)
        return bool(target and target[0] == "impl" and target[1] in library.names()
                    and library.get(target[1]).side_effects)

    def run(self, template: NodeTemplate, data: Any, ctx: ExecContext) -> Any:
        deadline = ctx.deadline
        if deadline is None:
            deadline = time.monotonic() + template.limits.timeout_ms / 1000
        with deadlines.scope(deadline):
            return self._run(template, data, ctx)

    def _run(self, template: NodeTemplate, data: Any, ctx: ExecContext) -> Any:
        spec = template.adapter
        if spec and spec.map:
            data = {key: jmes(expr, data, f"adapter.map.{key}", template.id) for key, expr in spec.map.items()}
        target = default_target(template)
        for i, rule in enumerate(spec.routes if spec else []):
            if jmes(rule.when, data, f"adapter.routes.{i}.when", template.id):
                target = target_of(rule.to, template)
                break
        if target is None:
            raise ExecutionError(f"{template.id} has nothing to run", kind="exception", node=template.id)
        output = self._call(target, data, template, ctx)
        threshold = template.confidence_threshold
        confidence = output.get("confidence") if isinstance(output, dict) else None
        if threshold is not None and isinstance(confidence, int | float) and confidence < threshold:
            if spec and spec.fallback:
                return self._call(target_of(spec.fallback, template), data, template, ctx)
            return {**output, "uncertain": True}
        return output

    def _call(self, target: Target, data: Any, template: NodeTemplate, ctx: ExecContext) -> Any:
        how, what = target
        if how == "impl":
            return self._impl(what, data, template, ctx)
        for node_id in [what] if how == "node" else what:
            linked = ctx.resolve(node_id)
            if linked is None:
                raise ExecutionError(f"linked node {node_id} is not registered", kind="exception", node=template.id)
            if linked.state in BLOCKED_STATES:
                raise ExecutionError(f"linked node {node_id} is {linked.state} and does not run", kind="policy",
                                     node=template.id, linked=node_id)
            data = ctx.execute(linked.template, data, ctx.deeper())
        return data

    def _impl(self, name: str, data: Any, template: NodeTemplate, ctx: ExecContext) -> Any:
        try:
            impl = library.get(name)
            return impl.func(data, template.param_values(),
                             library.ImplContext(side_effects=ctx.side_effects, output_dir=ctx.output_dir))
        except library.ImplError as exc:
            kind = IMPL_ERROR_KINDS.get(exc.code, "exception")
            raise ExecutionError(f"{template.id}: {exc.reason}", kind=kind, node=template.id, field=exc.field) from None
