"""Memory backend: a node that stores and recalls Neira's memory cells (docs/memory.md).

Input `{"op": ...}`: `put` a record (a put on an existing id is its next version), `get` one by id, `search`
by text, `forget` one, `push_metrics` (credibility, demand). get and search need the caller's read scope,
the others write (`policy_action`; an organ's member asks `ctx.permit` the same).

Where a call reads and writes:
* a dry-run (`ctx.live` false): a throwaway store the dry-run's examples share; nothing reaches the store;
* side effects off (a draft's run, a shadow copy, training): reads from the shared store, writes to a
  throwaway one (so nothing is written), and no usage is counted;
* otherwise the shared store named by `memory.store` (default: the node's route, shared by its versions).

Every op stops itself at the call's deadline (backends/memory_access.py: a read's or a write's statements, a
write's wait for its store), so it runs in place (`interruptible`), and running late is not a hard timeout.

A search normalises the query the way records are indexed (library/text_search), takes the best matches
by text relevance from the database, and ranks them by `text_weight × relevance + priority_weight ×
priority`, relevance scaled to the best match (1.0); both weights are the node's params, so training can
tune them.
"""
from __future__ import annotations

import time
from typing import Any

from ..domain import memory as cells
from ..domain.backend_kinds import MemorySpec
from ..domain.errors import Forbidden
from ..domain.references import is_factory_name
from ..domain.report import Risk
from ..domain.templates import NodeTemplate
from ..library.text_search import terms
from .base import ExecContext, ExecutionError
from .memory_access import EVICT_PER_WRITE, MemoryAccess, Throwaway, record_out, row_in

MAX_TERMS = 32  # a query's distinct words that are searched (the rest are dropped)
CANDIDATES = 4  # × limit (at least 20): the text matches that are ranked with priority
WEIGHTS = {"text_weight": 1.0, "priority_weight": 0.2}


def spec_of(template: NodeTemplate) -> MemorySpec:
    return template.memory or MemorySpec()


def store_of(template: NodeTemplate) -> str:
    return spec_of(template).store or template.route_name


class MemoryBackend:
    name = "memory"
    interruptible = True  # every op stops at the deadline (a write's wait for the store's lock included)
    needs = ("memory",)  # what backends/catalog.build_backends hands it

    def __init__(self, memory: MemoryAccess):
        self.access = memory

    def check(self, template: NodeTemplate) -> list[Risk]:
        spec, risks = spec_of(template), []
        if not (spec.capacity > 0 and float(spec.capacity).is_integer()):
            risks.append(Risk("bad_capacity", "blocking", f"memory.capacity must be a positive whole number of "
                              f"records; got {spec.capacity!r}", "memory.capacity"))
        if spec.retention_days is not None and not spec.retention_days > 0:
            risks.append(Risk("bad_retention", "blocking", f"memory.retention_days must be a positive number of "
                              f"days (or null: kept until evicted); got {spec.retention_days!r}",
                              "memory.retention_days"))
        if is_factory_name(spec.store) and not is_factory_name(template.route_name):
            risks.append(Risk("factory_store", "blocking", f"memory.store {spec.store!r} is a factory module's "
                              "store: only a factory module (behind self_edit) may name it", "memory.store"))
        return risks

    def side_effects(self, template: NodeTemplate) -> bool:
        return True  # it writes its store

    def policy_action(self, template: NodeTemplate, data: Any) -> str:
        return "memory.write" if cells.op_of(data) in cells.WRITE_OPS else "memory.read"

    def mirrors(self, template: NodeTemplate, data: Any) -> bool:
        return cells.op_of(data) not in cells.WRITE_OPS  # a shadow candidate gets the reads only

    def comparable(self, template: NodeTemplate, output: Any) -> Any:
        if isinstance(output, dict) and isinstance(output.get("results"), list):
            return [r.get("id") for r in output["results"] if isinstance(r, dict)]
        if isinstance(output, dict) and isinstance(output.get("record"), dict):
            return [output["record"].get("id"), output["record"].get("version")]
        return output

    def flush(self) -> None:
        self.access.flush()

    def run(self, template: NodeTemplate, data: Any, ctx: ExecContext) -> Any:
        """One op; counted in memory_ops_total unless it is a dry-run's (which reaches no store)."""
        store = store_of(template)
        count = self.access.counted if ctx.live else lambda *_: None
        try:
            op = cells.parse_op(data)
        except cells.BadOp as exc:
            count(store, str(cells.op_of(data) or "unknown"), "error")
            raise ExecutionError(f"{template.id}: {exc.reason}", kind="bad_input", node=template.id,
                                 field=exc.field, ops=list(cells.OPS)) from None
        action = self.policy_action(template, data)
        if ctx.permit is not None:
            try:
                ctx.permit(action)
            except Forbidden as exc:
                count(store, op.op, "forbidden")
                raise ExecutionError(f"{template.id}: {exc.reason}", kind="policy", node=template.id, status=403,
                                     refused=exc.code, **exc.extra) from None
        try:
            output = getattr(self, f"_{op.op}")(template, store, op, ctx)
        except ExecutionError:
            count(store, op.op, "error")
            raise
        count(store, op.op, "ok")
        return output

    # where a call reads and writes ---------------------------------------------------------------------------
    @staticmethod
    def _scratch(ctx: ExecContext, write: bool) -> Throwaway | None:
        if not ctx.live:  # one store for the dry-run's examples, made by the first (setdefault would make one each)
            if "memory" not in ctx.scratch:
                ctx.scratch["memory"] = Throwaway()
            return ctx.scratch["memory"]
        return Throwaway() if write and not ctx.side_effects else None

    @staticmethod
    def _counts_usage(ctx: ExecContext) -> bool:
        return ctx.live and ctx.side_effects

    # the ops -------------------------------------------------------------------------------------------------
    def _put(self, template: NodeTemplate, store: str, op: cells.PutOp, ctx: ExecContext) -> dict[str, Any]:
        spec = spec_of(template)
        row = row_in(op.record, spec.language)
        with self.access.writing(self._scratch(ctx, True), store, ctx.deadline) as tx:
            stored = tx.memory.put(store, row, time.time())
            tx.announce("written", store, ids=[stored["rid"]], version=stored["version"])
            self.access.evicted(tx, store, tx.memory.evict(store, int(spec.capacity), EVICT_PER_WRITE))
            self.access.wrote(tx, store)
        return {"id": stored["rid"], "version": stored["version"]}

    def _get(self, template: NodeTemplate, store: str, op: cells.GetOp, ctx: ExecContext) -> dict[str, Any]:
        scratch = self._scratch(ctx, False)
        row = self.access.cached(store, op.id) if scratch is None else None
        if row is None:
            since = self.access.generation
            with self.access.reading(scratch, ctx.deadline) as tx:
                row = tx.memory.get(store, op.id)
            if row is not None and scratch is None:
                self.access.keep(store, row, since)
        if row is None:
            return {"record": None}
        if self._counts_usage(ctx):
            self.access.used(store, [op.id])
        return {"record": record_out(row, self.access.pending(store, op.id) if scratch is None else 0)}

    def _search(self, template: NodeTemplate, store: str, op: cells.SearchOp, ctx: ExecContext) -> dict[str, Any]:
        started = time.perf_counter()
        words = list(dict.fromkeys(terms(op.query, spec_of(template).language)))[:MAX_TERMS]
        scratch = self._scratch(ctx, False)
        with self.access.reading(scratch, ctx.deadline) as tx:
            found = tx.memory.search(store, words, max(op.limit * CANDIDATES, 20), op.type)
        ranked = self._rank(template, found)[:op.limit]
        if self._counts_usage(ctx) and ranked:
            self.access.used(store, [row["rid"] for _, row in ranked])
        now = time.time()
        pending = self.access.pending if scratch is None else lambda *_: 0
        results = [{"id": row["rid"], "score": round(score, 6),
                    "record": record_out(row, pending(store, row["rid"]), now)}
                   for score, row in ranked]
        self.access.metrics.memory_search.observe(time.perf_counter() - started)
        return {"results": results}

    @staticmethod
    def _rank(template: NodeTemplate, found: list[dict[str, Any]]) -> list[tuple[float, dict[str, Any]]]:
        if not found:
            return []
        params = {**WEIGHTS, **template.param_values()}
        text_w, priority_w = float(params["text_weight"]), float(params["priority_weight"])
        best = max(row["relevance"] for row in found) or 1.0
        now = time.time()
        scored = [(text_w * row["relevance"] / best + priority_w * cells.priority_at(row["rank_key"], now), row)
                  for row in found]
        return sorted(scored, key=lambda pair: (-pair[0], pair[1]["seq"]))

    def _forget(self, template: NodeTemplate, store: str, op: cells.ForgetOp, ctx: ExecContext) -> dict[str, Any]:
        with self.access.writing(self._scratch(ctx, True), store, ctx.deadline) as tx:
            gone = tx.memory.forget(store, op.id)
            tx.audit(ctx.actor.name if ctx.actor else "system", "memory.forget", f"memory:{store}",
                     {"id": op.id, "forgotten": gone, "records": int(gone), "node": template.id})
            if gone:
                tx.announce("forgotten", store, ids=[op.id])
                self.access.wrote(tx, store)
        return {"forgotten": gone}

    def _push_metrics(self, template: NodeTemplate, store: str, op: cells.PushMetricsOp,
                      ctx: ExecContext) -> dict[str, Any]:
        with self.access.writing(self._scratch(ctx, True), store, ctx.deadline) as tx:
            row = tx.memory.set_metrics(store, op.id, op.credibility, op.demand)
            if row is not None:
                tx.announce("written", store, ids=[op.id], version=row["version"])
        if row is None:
            raise ExecutionError(f"{template.id}: no record {op.id!r} in store {store!r}", kind="bad_input",
                                 node=template.id, field="id")
        return {"id": op.id, "priority": round(cells.priority_at(row["rank_key"], time.time()), 6)}

