"""Training commands: `train` (followed with a progress bar), and `training` list, show, plot, approve, reject,
continue."""
from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from . import render
from .common import CliError, NodeId, Reason, Session, Yes, confirm, read_text

RUN_ACTIVE = ("queued", "running", "paused")
RunId = Annotated[str, typer.Argument(metavar="RUN", show_default=False, help="Training run id, e.g. tr-0123456789ab.")]

commands = typer.Typer()
runs = typer.Typer(no_args_is_help=True, help="Training runs: list, show, plot; approve, reject, continue.")


class Objective(StrEnum):
    accuracy = "accuracy"
    f1 = "f1"
    mse = "mse"
    exact_match = "exact_match"


def read_dataset(source: str) -> list[dict[str, Any]]:
    """A local dataset file (JSON Lines of {input, expected}, or a JSON list of them), checked here and sent inline."""
    from ..domain.errors import BadInput
    from ..services import datasets

    name, text = read_text(source)
    try:
        return datasets.samples(text, where=name)
    except BadInput as exc:
        raise CliError("invalid_file", exc.reason) from None


@commands.command()
def train(
    ctx: typer.Context,
    node_id: NodeId,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", "-d", metavar="FILE", help="Labelled examples: JSON Lines of {input, expected} (or a JSON list); "
        "- reads stdin. Default: the node's own examples that have `expected`.")] = None,
    server_dataset: Annotated[str | None, typer.Option(
        "--server-dataset", metavar="NAME", help="A dataset file on the server, under its <var>/datasets.")] = None,
    objective: Annotated[Objective | None, typer.Option(help="What to optimise (server default: exact_match).")] = None,
    field: Annotated[str | None, typer.Option(help="JMESPath of the output field to compare, e.g. label.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", metavar="NAME",
                                                    help="A tunable param to search (repeat; default: all).")] = None,
    max_iterations: Annotated[int | None, typer.Option(min=1, help="Stop as not_converged after this many.")] = None,
    target: Annotated[float | None, typer.Option(help="Converged once the best metric reaches this.")] = None,
    tolerance: Annotated[float | None, typer.Option(min=0, help="Smaller improvements do not count.")] = None,
    patience: Annotated[int | None, typer.Option(min=1, help="Converged after this many iterations without "
                                                              "improvement.")] = None,
    approve_every: Annotated[int | None, typer.Option(min=1, help="Wait for a human every N iterations.")] = None,
    reason: Reason = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the run with a progress bar until it "
                                                                "stops (default), or just start it.")] = True,
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between polls.")] = 0.5,
) -> None:
    """Train a node's tunable params on labelled examples until convergence; nothing changes until a human approves.

    Shows a progress bar while the run goes, then the iterations with the best one starred. Exits 0 when
    the run converged, 1 otherwise (not_converged, failed, or waiting for a human without a terminal).
    """
    if dataset and server_dataset:
        raise typer.BadParameter("give --dataset FILE or --server-dataset NAME, not both", param_hint="--dataset")
    body: dict[str, Any] = {k: v for k, v in {
        "objective": objective.value if objective else None, "field": field, "params": param or None,
        "max_iterations": max_iterations, "target": target, "tolerance": tolerance, "patience": patience,
        "approve_every": approve_every, "reason": reason}.items() if v is not None}
    if dataset:
        body["dataset"] = read_dataset(dataset)
    elif server_dataset:
        body["dataset"] = {"file": server_dataset}
    session: Session = ctx.obj
    run = session.client.train(node_id, body)
    if not wait:
        session.show(run, render.training_started)
        return
    run = _to_the_end(session, run, interval)
    session.show(run, render.training_run)
    if run["state"] != "converged":
        raise typer.Exit(1)


def _to_the_end(session: Session, run: dict[str, Any], interval: float) -> dict[str, Any]:
    """Follow the run until it stops, asking a human at each checkpoint whether it goes on."""
    run_id = run["run_id"]
    while True:
        run = _follow(session, run, interval)
        if run["state"] != "waiting":
            return run
        session.show(run, render.training_run)
        if session.as_json or not sys.stdin.isatty():
            raise CliError("waiting", f"run {run_id} waits for a human at iteration {run['iterations_done']}: "
                           f"neira-factory training continue {run_id}")
        if not typer.confirm(f"continue run {run_id}?", default=True):
            raise typer.Exit(1)
        run = session.client.training_decide(run_id, "continue", {})


def _follow(session: Session, run: dict[str, Any], interval: float) -> dict[str, Any]:
    """Poll the run until it leaves queued/running/paused; a progress bar unless --json. Returns it with iterations."""
    run_id = run["run_id"]
    try:
        if session.as_json:
            while run["state"] in RUN_ACTIVE:
                time.sleep(interval)
                run = session.client.training_run(run_id)
        else:
            with render.TrainingProgress(run) as progress:
                while run["state"] in RUN_ACTIVE:
                    time.sleep(interval)
                    run = session.client.training_run(run_id)
                    progress.update(run)
    except KeyboardInterrupt:
        render.err.print(f"stopped watching; the run goes on: neira-factory training show {run_id}")
        raise typer.Exit(130) from None
    return run if "iterations" in run else session.client.training_run(run_id)


@runs.command("list")
def training_list(
    ctx: typer.Context,
    node: Annotated[str | None, typer.Option(help="Only runs of this node.")] = None,
    state: Annotated[str | None, typer.Option(help="Only runs in this state (running, converged, …).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many runs, newest first.")] = None,
) -> None:
    """List training runs, newest first."""
    session: Session = ctx.obj
    session.show(session.client.training_runs(node=node, state=state, limit=limit), render.training_runs)


@runs.command("show")
def training_show(ctx: typer.Context, run_id: RunId) -> None:
    """Show a run with its iterations (params, metric, failures, time), the best one starred."""
    session: Session = ctx.obj
    session.show(session.client.training_run(run_id), render.training_run)


def _decide(ctx: typer.Context, action: str, run_id: str, body: dict[str, Any], yes: bool, question: str) -> None:
    confirm(yes, question, f"refusing to {action} run {run_id} without confirmation: input is not a terminal; "
                           "pass --yes to confirm")
    session: Session = ctx.obj
    session.show(session.client.training_decide(run_id, action, body),
                 lambda data: render.training_decided(action, data))


@runs.command("approve")
def training_approve(
    ctx: typer.Context, run_id: RunId, reason: Reason = None, yes: Yes = False,
    iteration: Annotated[int | None, typer.Option(min=1, help="Approve this iteration's params instead of the best "
                                                              "(a rollback to an earlier param set).")] = None,
) -> None:
    """Approve a run: its best params (or --iteration's) become a new draft version of the node."""
    body = {k: v for k, v in {"reason": reason, "iteration": iteration}.items() if v is not None}
    which = f"iteration {iteration}'s" if iteration else "the best"
    _decide(ctx, "approve", run_id, body, yes, f"create a new draft version with {which} params of run {run_id}?")


@runs.command("reject")
def training_reject(ctx: typer.Context, run_id: RunId, reason: Reason = None, yes: Yes = False) -> None:
    """Reject a run: discard its params (and stop it if it still runs)."""
    _decide(ctx, "reject", run_id, {"reason": reason} if reason else {}, yes, f"reject run {run_id}?")


@runs.command("continue")
def training_continue(ctx: typer.Context, run_id: RunId, reason: Reason = None) -> None:
    """Let a run that waits at an --approve-every checkpoint go on."""
    session: Session = ctx.obj
    session.show(session.client.training_decide(run_id, "continue", {"reason": reason} if reason else {}),
                 lambda data: render.training_decided("continue", data))


@runs.command("plot")
def training_plot(
    ctx: typer.Context, run_id: RunId,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE",
                                                help="Where to write the PNG (default: RUN.png).")] = None,
) -> None:
    """Save the run's plot (its metric per iteration, the best marked) as a PNG."""
    session: Session = ctx.obj
    target = output or Path(f"{run_id}.png")
    content = session.client.training_plot(run_id)
    try:
        target.write_bytes(content)
    except OSError as exc:
        raise CliError("unwritable_output", f"cannot write {target}: {exc.strerror or exc}") from None
    render.out.print(f"wrote {target} ({len(content)} bytes)")
