"""Node commands: dry-run and create from a template file, list, show, the lifecycle, analysis, invoke, and
commands said in words."""
from __future__ import annotations

import json
from typing import Annotated, Any

import typer
import yaml

from . import render
from .common import CliError, NodeId, Reason, Session, Yes, confirm, json_arg, read_text

FileArg = Annotated[str, typer.Argument(metavar="FILE", show_default=False,
                                        help="Node template, YAML or JSON; - reads stdin.")]
SIMPLE_TRANSITIONS = {
    "disable": "Disable a node: it stops serving and stops running.",
    "rollback": "Roll a canary, experimental or stable node back: traffic returns to the previous stable version.",
    "quarantine": "Admin: quarantine a node; it stops receiving traffic with the next request.",
    "release": "Admin: release a quarantined node to its previous state (after an integrity re-check).",
}

commands = typer.Typer()


# ---- descriptors -------------------------------------------------------------------------------

def parse_descriptor(text: str, name: str) -> Any:
    """YAML or JSON (YAML's flow style reads JSON); errors name the line and column."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        yaml_error = exc
    if text.lstrip().startswith(("{", "[")):  # JSON that YAML refuses (tab indentation): JSON has the last word
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CliError("invalid_file", f"{name}: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    mark = getattr(yaml_error, "problem_mark", None) or getattr(yaml_error, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(yaml_error, "problem", None) or str(yaml_error)
    context = getattr(yaml_error, "context", None)
    raise CliError("invalid_file", f"{name}: {where}{problem}" + (f" ({context})" if context else ""))


def read_descriptor(source: str) -> dict[str, Any]:
    """A node template (or `{template}` / `{spec}` request) from a file, or from stdin for `-`."""
    name, text = read_text(source)
    document = parse_descriptor(text, name)
    if not isinstance(document, dict):
        found = "an empty document" if document is None else f"a {type(document).__name__}"
        raise CliError("invalid_file", f"{name}: expected a node template (a mapping of fields), found {found}")
    return document


# ---- nodes -------------------------------------------------------------------------------------

@commands.command()
def dryrun(ctx: typer.Context, file: FileArg) -> None:
    """Dry-run a node template: risks, dependencies, and its examples run with side effects off.

    Creates nothing. Exits 1 when the report is not ok (it has a blocking risk).
    """
    session: Session = ctx.obj
    data = session.client.dryrun(read_descriptor(file))
    session.show(data, render.dryrun)
    if not data.get("ok"):
        raise typer.Exit(1)


@commands.command()
def create(
    ctx: typer.Context,
    file: FileArg,
    idempotency_key: Annotated[str | None, typer.Option(
        "--idempotency-key", metavar="KEY", help="Retry-safe: a repeat with the same KEY and file creates nothing "
        "new and gets the first answer.")] = None,
) -> None:
    """Create a draft node from a template (the factory dry-runs it first and refuses blocking risks)."""
    session: Session = ctx.obj
    session.show(session.client.create(read_descriptor(file), idempotency_key), render.created)


@commands.command("list")
def list_nodes(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option(help="Only nodes in this state (draft, canary, stable, …).")] = None,
    route: Annotated[str | None, typer.Option(help="Only versions of this route.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind: analysis, action or memory.")] = None,
    backend: Annotated[str | None, typer.Option(help="Only this backend: adapter, script or wasm.")] = None,
    search: Annotated[str | None, typer.Option(help="Text to look for in ids.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many nodes.")] = None,
) -> None:
    """List nodes: id, state, backend, route, version, creator."""
    session: Session = ctx.obj
    found = session.client.nodes(state=state, route=route, kind=kind, backend=backend, search=search,
                                 limit=limit)
    session.show(found, render.nodes)


@commands.command()
def show(ctx: typer.Context, node_id: NodeId) -> None:
    """Show one node: summary, the actions allowed now, its transition history and dry-run risks."""
    session: Session = ctx.obj
    session.show(session.client.node(node_id), render.node)


def _transition(ctx: typer.Context, action: str, node_id: str, reason: str | None, yes: bool,
                force: bool = False) -> None:
    """The lifecycle commands: confirm (a human in the loop), then POST the action."""
    confirm(yes, f"{action}{' (forced)' if force else ''} node {node_id}?",
            f"refusing to {action} {node_id} without confirmation: input is not a terminal; pass --yes to confirm")
    session: Session = ctx.obj
    session.show(session.client.transition(node_id, action, reason, force),
                 lambda data: render.transitioned(action, data))


@commands.command()
def approve(
    ctx: typer.Context, node_id: NodeId, reason: Reason = None, yes: Yes = False,
    force: Annotated[bool, typer.Option("--force", help="Admin only: approve past an analysis that has not passed "
                                              "(give a --reason; it is audited).")] = False,
) -> None:
    """Approve a node's next step: draft → canary → experimental → stable."""
    _transition(ctx, "approve", node_id, reason, yes, force)


def _add_transition_command(action: str, summary: str) -> None:
    def command(ctx: typer.Context, node_id: NodeId, reason: Reason = None, yes: Yes = False) -> None:
        _transition(ctx, action, node_id, reason, yes)

    command.__doc__ = summary
    commands.command(action)(command)


for _action, _summary in SIMPLE_TRANSITIONS.items():
    _add_transition_command(_action, _summary)


@commands.command()
def analysis(ctx: typer.Context, node_id: NodeId) -> None:
    """A node's analysis: each SLO metric's value, threshold and verdict, the stable baseline, the phase."""
    session: Session = ctx.obj
    session.show(session.client.analysis(node_id), render.analysis)


# ---- traffic and commands ----------------------------------------------------------------------

@commands.command()
def invoke(
    ctx: typer.Context,
    route: Annotated[str, typer.Argument(metavar="ROUTE", help="A node id without its .vN suffix, e.g. analysis.echo.")],
    data: Annotated[str, typer.Option("--input", "-i", help="The input as JSON (or @FILE, or - for stdin).")] = "{}",
    key: Annotated[str | None, typer.Option("--key", "-k", help="Sticky split: the same key reaches the same "
                                                                "version.")] = None,
) -> None:
    """Invoke a route as traffic does: the stable version, or a canary/experimental candidate by its weight."""
    session: Session = ctx.obj
    session.show(session.client.invoke(route, json_arg(data, "--input"), key), render.invoked)


@commands.command()
def say(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="A command in Russian or English, e.g. "
                                        "\"создай голосовой орган v1\" or \"upgrade vision to v2 (grayscale)\".")],
    yes: Yes = False,
) -> None:
    """Say what to do: shows the plan, the policy outcome and the diff, then asks to confirm."""
    session: Session = ctx.obj
    planned = session.client.command(text)
    session.show(planned, render.command_plan)
    token = planned.get("confirm_token")
    if planned.get("plan", {}).get("read_only"):
        return
    if not token:
        refused = [s for s in planned.get("policy", {}).get("steps", []) if not s.get("allowed")]
        reason = refused[0]["reason"] if refused else "the dry-run has blocking risks"
        raise CliError(refused[0]["code"] if refused else "dry_run_failed", f"nothing to confirm: {reason}")
    confirm(yes, "confirm this plan?", "refusing to confirm without a terminal; pass --yes to confirm")
    session.show(session.client.confirm(token), render.command_done)

