"""The `neira-factory` command: `serve` runs the factory; every other command is a client of its HTTP API.

Client commands talk to NEIRA_URL (or --url) with NEIRA_TOKEN (or --token) as a bearer
token. Exit codes: 0 done; 1 the factory (or the CLI) refused, with `error: <code>:
<reason>` on stderr; 2 the factory could not be reached (or a usage error).
"""
from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from typer.core import TyperGroup

from . import cli_render as render
from .cli_client import DEFAULT_URL, ApiError, FactoryClient, Unreachable
from .domain.capabilities import GateState

DEFAULT_EXAMPLES = Path("examples")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class CliError(Exception):
    """A refusal by the CLI itself (a malformed file, a missing confirmation): exit 1."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


class FactoryGroup(TyperGroup):
    """Turns every command's errors into `error: <code>: <reason>` on stderr and an exit code, in one place."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ApiError as exc:
            render.error(exc.code, exc.reason, exc.extra)
            raise typer.Exit(1) from None
        except CliError as exc:
            render.error(exc.code, exc.reason, {})
            raise typer.Exit(1) from None
        except Unreachable as exc:
            render.error("unreachable", str(exc), {})
            raise typer.Exit(2) from None


app = typer.Typer(cls=FactoryGroup, no_args_is_help=True, add_completion=False, rich_markup_mode="rich",
                  help=__doc__)
caps_app = typer.Typer(no_args_is_help=True, help="Capability gates: which backends and organs are open.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit trail.")
training_app = typer.Typer(no_args_is_help=True, help="Training runs: list, show, plot; approve, reject, continue.")
app.add_typer(caps_app, name="caps")
app.add_typer(audit_app, name="audit")
app.add_typer(training_app, name="training")


@dataclass
class Session:
    """The global options, and the client made from them on first use."""

    url: str
    token: str | None
    as_json: bool
    _client: FactoryClient | None = None

    @property
    def client(self) -> FactoryClient:
        if self._client is None:
            self._client = FactoryClient(self.url, self.token)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def show(self, data: Any, renderer: Callable[[Any], None]) -> None:
        if self.as_json:
            render.print_json(data)
        else:
            renderer(data)


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[str, typer.Option("--url", envvar="NEIRA_URL", help="The factory's base URL.")] = DEFAULT_URL,
    token: Annotated[str | None, typer.Option("--token", envvar="NEIRA_TOKEN", show_default=False,
                                              help="Bearer token (admin, write or read scope).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the server's JSON instead of tables.")] = False,
) -> None:
    session = Session(url, token, as_json)
    ctx.obj = session
    ctx.call_on_close(session.close)


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


def _read_text(source: str) -> tuple[str, str]:
    """(a name to show, the text) of a file, or of stdin for `-`."""
    name = "<stdin>" if source == "-" else source
    try:
        return name, sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError("invalid_file", f"cannot read {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CliError("invalid_file", f"{name} is not UTF-8 text: {exc}") from None


def read_descriptor(source: str) -> dict[str, Any]:
    """A node template (or `{template}` / `{spec}` request) from a file, or from stdin for `-`."""
    name, text = _read_text(source)
    document = parse_descriptor(text, name)
    if not isinstance(document, dict):
        found = "an empty document" if document is None else f"a {type(document).__name__}"
        raise CliError("invalid_file", f"{name}: expected a node template (a mapping of fields), found {found}")
    return document


# ---- nodes -------------------------------------------------------------------------------------

FileArg = Annotated[str, typer.Argument(metavar="FILE", show_default=False,
                                        help="Node template, YAML or JSON; - reads stdin.")]
NodeId = Annotated[str, typer.Argument(metavar="ID", show_default=False,
                                       help="Node id, e.g. analysis.text_normalize.v1.")]
Reason = Annotated[str | None, typer.Option("--reason", "-r", help="Why; kept in the audit trail.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (needed without a terminal).")]


@app.command()
def dryrun(ctx: typer.Context, file: FileArg) -> None:
    """Dry-run a node template: risks, dependencies, and its examples run with side effects off.

    Creates nothing. Exits 1 when the report is not ok (it has a blocking risk).
    """
    session: Session = ctx.obj
    data = session.client.dryrun(read_descriptor(file))
    session.show(data, render.dryrun)
    if not data.get("ok"):
        raise typer.Exit(1)


@app.command()
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


@app.command("list")
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


@app.command()
def show(ctx: typer.Context, node_id: NodeId) -> None:
    """Show one node: summary, the actions allowed now, its transition history and dry-run risks."""
    session: Session = ctx.obj
    session.show(session.client.node(node_id), render.node)


def _transition(ctx: typer.Context, action: str, node_id: str, reason: str | None, yes: bool,
                force: bool = False) -> None:
    """The lifecycle commands: confirm (a human in the loop), then POST the action."""
    if not yes:
        if not sys.stdin.isatty():
            raise CliError("confirmation_required", f"refusing to {action} {node_id} without confirmation: input is "
                           "not a terminal; pass --yes to confirm")
        typer.confirm(f"{action}{' (forced)' if force else ''} node {node_id}?", abort=True)
    session: Session = ctx.obj
    session.show(session.client.transition(node_id, action, reason, force),
                 lambda data: render.transitioned(action, data))


@app.command()
def approve(
    ctx: typer.Context, node_id: NodeId, reason: Reason = None, yes: Yes = False,
    force: Annotated[bool, typer.Option("--force", help="Admin only: approve past an analysis that has not passed "
                                              "(give a --reason; it is audited).")] = False,
) -> None:
    """Approve a node's next step: draft → canary → experimental → stable."""
    _transition(ctx, "approve", node_id, reason, yes, force)


SIMPLE_TRANSITIONS = {
    "disable": "Disable a node: it stops serving and stops running.",
    "rollback": "Roll a canary, experimental or stable node back: traffic returns to the previous stable version.",
    "quarantine": "Admin: quarantine a node; it stops receiving traffic with the next request.",
    "release": "Admin: release a quarantined node to its previous state (after an integrity re-check).",
}


def _add_transition_command(action: str, summary: str) -> None:
    def command(ctx: typer.Context, node_id: NodeId, reason: Reason = None, yes: Yes = False) -> None:
        _transition(ctx, action, node_id, reason, yes)

    command.__doc__ = summary
    app.command(action)(command)


for _action, _summary in SIMPLE_TRANSITIONS.items():
    _add_transition_command(_action, _summary)


@app.command()
def analysis(ctx: typer.Context, node_id: NodeId) -> None:
    """A node's analysis: each SLO metric's value, threshold and verdict, the stable baseline, the phase."""
    session: Session = ctx.obj
    session.show(session.client.analysis(node_id), render.analysis)


@app.command()
def invoke(
    ctx: typer.Context,
    route: Annotated[str, typer.Argument(metavar="ROUTE", help="A node id without its .vN suffix, e.g. analysis.echo.")],
    data: Annotated[str, typer.Option("--input", "-i", help="The input as JSON (or @FILE, or - for stdin).")] = "{}",
    key: Annotated[str | None, typer.Option("--key", "-k", help="Sticky split: the same key reaches the same "
                                                                "version.")] = None,
) -> None:
    """Invoke a route as traffic does: the stable version, or a canary/experimental candidate by its weight."""
    session: Session = ctx.obj
    session.show(session.client.invoke(route, _json_input(data), key), render.invoked)


@app.command()
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
    if not yes:
        if not sys.stdin.isatty():
            raise CliError("confirmation_required", "refusing to confirm without a terminal; pass --yes to confirm")
        typer.confirm("confirm this plan?", abort=True)
    session.show(session.client.confirm(token), render.command_done)


def _json_input(text: str) -> Any:
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as exc:
            raise CliError("unreadable_input", f"cannot read {text[1:]}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError("bad_input", f"--input is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


# ---- training ----------------------------------------------------------------------------------

RUN_ACTIVE = ("queued", "running", "paused")


class Objective(StrEnum):
    accuracy = "accuracy"
    f1 = "f1"
    mse = "mse"
    exact_match = "exact_match"


RunId = Annotated[str, typer.Argument(metavar="RUN", show_default=False, help="Training run id, e.g. tr-0123456789ab.")]


def read_dataset(source: str) -> list[dict[str, Any]]:
    """A local dataset file (JSON Lines of {input, expected}, or a JSON list of them), checked here and sent inline."""
    from .domain.errors import BadInput
    from .training.datasets import from_text

    name, text = _read_text(source)
    try:
        return [sample.to_dict() for sample in from_text(text, where=name)]
    except BadInput as exc:
        raise CliError("invalid_file", exc.reason) from None


@app.command()
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
    run_id = run["run_id"]
    while True:
        run = _follow(session, run, interval)
        if run["state"] != "waiting":
            break
        session.show(run, render.training_run)
        if session.as_json or not sys.stdin.isatty():
            raise CliError("waiting", f"run {run_id} waits for a human at iteration {run['iterations_done']}: "
                           f"neira-factory training continue {run_id}")
        if not typer.confirm(f"continue run {run_id}?", default=True):
            raise typer.Exit(1)
        run = session.client.training_decide(run_id, "continue", {})
    session.show(run, render.training_run)
    if run["state"] != "converged":
        raise typer.Exit(1)


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


@training_app.command("list")
def training_list(
    ctx: typer.Context,
    node: Annotated[str | None, typer.Option(help="Only runs of this node.")] = None,
    state: Annotated[str | None, typer.Option(help="Only runs in this state (running, converged, …).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many runs, newest first.")] = None,
) -> None:
    """List training runs, newest first."""
    session: Session = ctx.obj
    session.show(session.client.training_runs(node=node, state=state, limit=limit), render.training_runs)


@training_app.command("show")
def training_show(ctx: typer.Context, run_id: RunId) -> None:
    """Show a run with its iterations (params, metric, failures, time), the best one starred."""
    session: Session = ctx.obj
    session.show(session.client.training_run(run_id), render.training_run)


def _decide(ctx: typer.Context, action: str, run_id: str, body: dict[str, Any], yes: bool, question: str) -> None:
    if not yes:
        if not sys.stdin.isatty():
            raise CliError("confirmation_required", f"refusing to {action} run {run_id} without confirmation: input "
                           "is not a terminal; pass --yes to confirm")
        typer.confirm(question, abort=True)
    session: Session = ctx.obj
    session.show(session.client.training_decide(run_id, action, body),
                 lambda data: render.training_decided(action, data))


@training_app.command("approve")
def training_approve(
    ctx: typer.Context, run_id: RunId, reason: Reason = None, yes: Yes = False,
    iteration: Annotated[int | None, typer.Option(min=1, help="Approve this iteration's params instead of the best "
                                                              "(a rollback to an earlier param set).")] = None,
) -> None:
    """Approve a run: its best params (or --iteration's) become a new draft version of the node."""
    body = {k: v for k, v in {"reason": reason, "iteration": iteration}.items() if v is not None}
    which = f"iteration {iteration}'s" if iteration else "the best"
    _decide(ctx, "approve", run_id, body, yes, f"create a new draft version with {which} params of run {run_id}?")


@training_app.command("reject")
def training_reject(ctx: typer.Context, run_id: RunId, reason: Reason = None, yes: Yes = False) -> None:
    """Reject a run: discard its params (and stop it if it still runs)."""
    _decide(ctx, "reject", run_id, {"reason": reason} if reason else {}, yes, f"reject run {run_id}?")


@training_app.command("continue")
def training_continue(ctx: typer.Context, run_id: RunId, reason: Reason = None) -> None:
    """Let a run that waits at an --approve-every checkpoint go on."""
    session: Session = ctx.obj
    session.show(session.client.training_decide(run_id, "continue", {"reason": reason} if reason else {}),
                 lambda data: render.training_decided("continue", data))


@training_app.command("plot")
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


# ---- capabilities, audit, immune, introspection ------------------------------------------------

@caps_app.command("list")
def caps_list(ctx: typer.Context) -> None:
    """List the capability gates with their states, and whether safe mode is on."""
    session: Session = ctx.obj
    session.show(session.client.capabilities(), render.capabilities)


@caps_app.command("set")
def caps_set(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Gate name, e.g. factory_script.")],
    state: Annotated[GateState, typer.Argument(metavar="STATE", help="The gate's new state.")],
    reason: Reason = None,
) -> None:
    """Set a capability gate's state (admin; audited)."""
    session: Session = ctx.obj
    session.show(session.client.set_capability(name, state.value, reason), render.capability_set)


@audit_app.command("list")
def audit_list(
    ctx: typer.Context,
    resource: Annotated[str | None, typer.Option(help="Only entries about this resource (a node id, …).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many entries, newest first.")] = None,
) -> None:
    """List audit entries, newest first."""
    session: Session = ctx.obj
    session.show(session.client.audit(resource=resource, limit=limit), render.audit)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Verify the audit trail. Exits 1 when it is broken.

    Checks the chain's keyed hashes and links, its head against the checkpoint kept outside the database, and
    every node's digest against the one its audited creation recorded."""
    session: Session = ctx.obj
    data = session.client.audit_verify()
    session.show(data, render.audit_verified)
    if not data.get("ok"):
        raise typer.Exit(1)


class Switch(StrEnum):
    on = "on"
    off = "off"


@app.command("safe-mode")
def safe_mode(
    ctx: typer.Context,
    switch: Annotated[Switch, typer.Argument(metavar="MODE", help="on or off.")],
    reason: Reason = None,
) -> None:
    """Turn safe mode on or off (admin; audited). In safe mode every write needs an admin token."""
    session: Session = ctx.obj
    session.show(session.client.safe_mode(switch is Switch.on, reason), render.safe_mode)


@app.command()
def status(ctx: typer.Context) -> None:
    """The factory's introspection status: version, database, safe mode, gates, nodes by state."""
    session: Session = ctx.obj
    session.show(session.client.status(), render.status)


# ---- serve -------------------------------------------------------------------------------------

def configure_logging(level: str) -> None:
    """The server's log: one line per record (time, level, logger, message) on stderr, at `level`, from the
    factory, uvicorn and the libraries alike. `serve` starts uvicorn with `log_config=None`, so uvicorn adds
    no handler of its own: its loggers pass their records up to this one, and nothing is logged twice."""
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr, force=True)


def _masked(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url).render_as_string(hide_password=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
    examples: Annotated[Path | None, typer.Option(
        metavar="DIR", exists=True, file_okay=False, show_default=False,
        help="Load the example templates in DIR, as drafts, into an empty database "
             f"(default: ./{DEFAULT_EXAMPLES}, if it exists).")] = None,
    no_examples: Annotated[bool, typer.Option("--no-examples", help="Load no examples.")] = False,
) -> None:
    """Run the factory: the HTTP API and its interactive docs at /docs.

    Reads NEIRA_DATABASE_URL (default: SQLite under ./var), NEIRA_ADMIN_TOKEN, NEIRA_WRITE_TOKEN,
    NEIRA_READ_TOKEN and NEIRA_TOKENS_FILE. With no token configured, the first run generates an
    admin token into a file and says where it is. The log goes to stderr at NEIRA_LOG_LEVEL
    (default INFO).
    """
    if examples and no_examples:
        raise typer.BadParameter("give --examples DIR or --no-examples, not both", param_hint="--examples")
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from .api.app import create_app
    from .config import Settings
    from .services.bootstrap import build_factory, load_examples
    from .tokens import TokenRegistry

    documents = examples or (DEFAULT_EXAMPLES if DEFAULT_EXAMPLES.is_dir() else None)
    examples_dir = None if no_examples else documents
    try:
        settings = Settings.from_env(examples_dir=documents)  # commands plan from the examples even unloaded
        configure_logging(settings.log_level)
        factory = build_factory(settings)
        created = load_examples(factory, examples_dir) if examples_dir else []
        tokens = TokenRegistry.load(settings)
    except (OSError, ValueError, SQLAlchemyError) as exc:
        raise CliError("startup_failed", str(exc)) from None
    if examples_dir is None:
        examples_fact = "off (--no-examples)" if no_examples else f"none (no ./{DEFAULT_EXAMPLES} directory)"
    else:
        examples_fact = f"{len(created)} loaded from {examples_dir}" + (
            "" if created else " (examples load only into an empty database)")
    if tokens.generated_admin_file:
        token_fact = f"generated, in {tokens.generated_admin_file} (send it as NEIRA_TOKEN)"
    elif settings.admin_token:
        token_fact = "admin token from NEIRA_ADMIN_TOKEN"
    elif settings.tokens_file:
        token_fact = f"from the tokens file {settings.tokens_file}"
    else:
        token_fact = "none (only write/read tokens are configured)"
    url_host = f"[{host}]" if ":" in host else host
    render.serving(f"http://{url_host}:{port}", {
        "database": _masked(settings.database_url), "examples": examples_fact, "admin token": token_fact})
    uvicorn.run(create_app(factory, tokens), host=host, port=port, log_config=None, timeout_graceful_shutdown=10)
