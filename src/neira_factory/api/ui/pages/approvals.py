"""Pending approvals: everything waiting for a human, newest first."""
from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ....services import analysis, nodes, training
from ..rendering import Page, UIRoute, page, render
from .lifecycle import CANDIDATE_STATES

TRAINING_PENDING = ("waiting", "converged", "not_converged", "failed")
MAX_CANDIDATES = 100  # candidates whose analysis the approvals queue evaluates

router = APIRouter(route_class=UIRoute)


def _when(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    try:
        stamp = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def pending(current: Page) -> list[dict[str, Any]]:
    """Everything waiting for a human, newest first: drafts, candidates whose analysis passed (or that need a
    human), and training runs that wait for a decision."""
    f, actor = current.f, current.actor
    items: list[dict[str, Any]] = []
    for kind in (None, "organ"):
        for record in nodes.list_nodes(f.nodes, actor, state="draft", kind=kind, limit=500):
            items.append({"type": "draft", "id": record.id, "kind": record.kind, "state": record.state,
                          "at": record.updated_at, "detail": current.t("pending_draft"),
                          "url": f"/admin/{'organs' if kind else 'nodes'}/{record.id}"})
    candidates = [r for kind in (None, "organ") for state in CANDIDATE_STATES
                  for r in nodes.list_nodes(f.nodes, actor, state=state, kind=kind, limit=MAX_CANDIDATES)]
    for record in sorted(candidates, key=lambda r: _when(r.updated_at), reverse=True)[:MAX_CANDIDATES]:
        report = analysis.report(f.analysis, actor, record.id)
        if report.phase == "passed" or report.needs_human:
            organ = record.kind == "organ"
            items.append({"type": "analysis", "id": record.id, "kind": record.kind, "state": record.state,
                          "at": record.updated_at, "phase": report.phase, "detail": current.reason(report.why),
                          "url": f"/admin/{'organs' if organ else 'nodes'}/{record.id}"})
    for state in TRAINING_PENDING:
        for run in training.list_runs(f.training, actor, state=state, limit=200):
            if state in ("failed", "not_converged") and run.best is None:
                continue  # nothing to approve; a human may still reject it on its page
            items.append({"type": "training", "id": run.run_id, "kind": run.node_id, "state": run.state,
                          "at": run.finished_at or run.updated_at, "detail": run.reason or "",
                          "url": f"/admin/training/{run.run_id}"})
    return sorted(items, key=lambda item: _when(item["at"]), reverse=True)


@router.get("/approvals")
def approvals_page(current: Page = Depends(page)) -> Response:
    return render(current, "approvals.html", items=pending(current))
