"""Training runs: the list, a run's page and plot, and a human's decision on it."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ....domain.errors import NotFound
from ....services import training
from ..rendering import Page, Posted, UIRoute, done, finish, page, posted, query_filters, render, whole_number

TRAINING_ACTIONS = ("approve", "reject", "continue")

router = APIRouter(route_class=UIRoute)


@router.get("/training")
def training_page(request: Request, current: Page = Depends(page)) -> Response:
    filters = query_filters(request, ("node", "state"))
    runs = training.list_runs(current.f.training, current.actor, node=filters.get("node"), state=filters.get("state"),
                              limit=200)
    return render(current, "training.html", runs=runs, filters=filters, states=training.STATES)


def training_buttons(current: Page, run: training.TrainingRun) -> list[dict[str, Any]]:
    possible = {"approve": run.state in training.APPROVABLE and run.best is not None,
                "reject": run.state in training.REJECTABLE,
                "continue": run.state == "waiting"}
    decision = current.permissions.may("training.decide", owner=run.created_by)
    return [{"action": action, "allowed": decision.allowed, "why": decision.reason, "danger": action == "reject"}
            for action in TRAINING_ACTIONS if possible[action]]


@router.get("/training/{run_id}")
def run_page(run_id: str, current: Page = Depends(page)) -> Response:
    run = training.get(current.f.training, current.actor, run_id)
    return render(current, "run.html", run=run, buttons=training_buttons(current, run))


@router.get("/training/{run_id}/plot.png")
def run_plot(run_id: str, current: Page = Depends(page)) -> Response:
    png = training.plot(current.f.training, current.actor, run_id)
    return finish(Response(png, media_type="image/png"), current)


@router.post("/training/{run_id}/{action}")
def run_action(run_id: str, action: str, post: Posted = Depends(posted)) -> Response:
    if action not in TRAINING_ACTIONS:
        raise NotFound(post.page.t("err_unknown_action", action=action), code="not_found")
    body: dict[str, Any] = {}
    if reason := post.text("reason", required=True):
        body["reason"] = reason
    post.confirmed()
    if action == "approve" and (iteration := post.text("iteration", max_len=10)):
        body["iteration"] = whole_number(iteration, 0, low=1, high=1_000_000, name="iteration")
    use = {"approve": training.approve, "reject": training.reject, "continue": training.continue_run}[action]
    result = use(post.page.f.training, post.page.actor, run_id, body)
    created = result.created if isinstance(result, training.Approved) else None
    message = post.page.t("done_training", run=run_id, action=post.page.t(f"action_{action}"), state=result.state)
    if created and created.get("id"):
        message += " " + post.page.t("done_training_draft", id=created["id"])
    return done(post, message, f"/admin/training/{run_id}", {"run_id": run_id, "state": result.state,
                                                             "created": created})
