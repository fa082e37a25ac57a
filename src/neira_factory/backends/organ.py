"""Organ backend: runs an organ's channels in order, each node's output feeding the next.

Channels run one after the other; the organ's input enters the first node of
the first channel and each channel's output enters the next channel. Every step
is traced (`{node, version, ms, ok}`); a failure names the node where it
happened and carries the trace so far. Each node runs under its own watchdog
through `ctx.member` (the runtime's guarded execution) within what is left of
the organ's own budget; without it (a dry-run context) nodes run directly. The
organ stops itself at its deadline, so it counts as interruptible.
"""
from __future__ import annotations

import time
from typing import Any

from ..domain.report import Risk
from ..domain.templates import OrganTemplate
from .adapter import BLOCKED_STATES
from .base import ExecContext, ExecutionError, ResolvedNode


class OrganBackend:
    name = "organ"
    interruptible = True

    def check(self, template: OrganTemplate) -> list[Risk]:
        return []  # the graph is validated by the organ builder, which can see the registry

    def side_effects(self, template: OrganTemplate) -> bool:
        return False  # its nodes decide for themselves

    def run(self, template: OrganTemplate, data: Any, ctx: ExecContext) -> Any:
        steps = [node for channel in template.channels for node in channel.nodes] or template.nodes
        for node_id in steps:
            data = self._step(template, node_id, data, ctx)
        return data

    def _step(self, organ: OrganTemplate, node_id: str, data: Any, ctx: ExecContext) -> Any:
        if ctx.deadline is not None and time.monotonic() >= ctx.deadline:
            raise self._failed(organ, node_id, ctx, f"organ {organ.id} ran out of its {organ.limits.timeout_ms} ms "
                               f"before node {node_id}", "timeout")
        member = ctx.resolve(node_id)
        if member is None or member.state in BLOCKED_STATES:
            why = "is not registered" if member is None else f"is {member.state}"
            raise self._failed(organ, node_id, ctx, f"organ {organ.id}: node {node_id} {why}",
                               "exception" if member is None else "policy")
        started = time.perf_counter()
        try:
            output = self._run(member, data, ctx)
        except ExecutionError as exc:
            self._trace(ctx, member, started, False)
            raise self._failed(organ, node_id, ctx, f"organ {organ.id}: node {node_id} failed: {exc.reason}",
                               exc.kind, exc.extra, exc.status if exc.kind == "policy" else None) from None
        self._trace(ctx, member, started, True)
        return output

    @staticmethod
    def _run(member: ResolvedNode, data: Any, ctx: ExecContext) -> Any:
        if ctx.member is not None:
            return ctx.member(member, data, ctx)
        return ctx.execute(member.template, data, ctx.deeper())

    @staticmethod
    def _trace(ctx: ExecContext, member: ResolvedNode, started: float, ok: bool) -> None:
        ctx.trace.append({"node": member.id, "version": member.template.version,
                          "ms": round((time.perf_counter() - started) * 1000, 3), "ok": ok})

    @staticmethod
    def _failed(organ: OrganTemplate, node_id: str, ctx: ExecContext, reason: str, kind: str,
                extra: dict[str, Any] | None = None, status: int | None = None) -> ExecutionError:
        """The organ's error for a step that failed; a member's policy refusal keeps its status (a 403)."""
        detail = {k: v for k, v in (extra or {}).items() if k not in ("node", "kind")}
        return ExecutionError(reason, kind=kind, node=node_id, organ=organ.id, trace=list(ctx.trace), status=status,
                              **detail)
