"""Administration commands: capability gates (`caps`), the audit trail (`audit`), safe mode, and the status."""
from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from ..domain.capabilities import GateState
from . import render
from .common import Reason, Session

commands = typer.Typer()
caps = typer.Typer(no_args_is_help=True, help="Capability gates: which backends and organs are open.")
audit = typer.Typer(no_args_is_help=True, help="The hash-chained audit trail.")


class Switch(StrEnum):
    on = "on"
    off = "off"


@caps.command("list")
def caps_list(ctx: typer.Context) -> None:
    """List the capability gates with their states, and whether safe mode is on."""
    session: Session = ctx.obj
    session.show(session.client.capabilities(), render.capabilities)


@caps.command("set")
def caps_set(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Gate name, e.g. factory_script.")],
    state: Annotated[GateState, typer.Argument(metavar="STATE", help="The gate's new state.")],
    reason: Reason = None,
) -> None:
    """Set a capability gate's state (admin; audited)."""
    session: Session = ctx.obj
    session.show(session.client.set_capability(name, state.value, reason), render.capability_set)


@audit.command("list")
def audit_list(
    ctx: typer.Context,
    resource: Annotated[str | None, typer.Option(help="Only entries about this resource (a node id, …).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many entries, newest first.")] = None,
) -> None:
    """List audit entries, newest first."""
    session: Session = ctx.obj
    session.show(session.client.audit(resource=resource, limit=limit), render.audit)


@audit.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Verify the audit trail. Exits 1 when it is broken.

    Checks the chain's keyed hashes and links, its head against the checkpoint kept outside the database, and
    every node's digest against the one its audited creation recorded."""
    session: Session = ctx.obj
    data = session.client.audit_verify()
    session.show(data, render.audit_verified)
    if not data.get("ok"):
        raise typer.Exit(1)


@commands.command("safe-mode")
def safe_mode(
    ctx: typer.Context,
    switch: Annotated[Switch, typer.Argument(metavar="MODE", help="on or off.")],
    reason: Reason = None,
) -> None:
    """Turn safe mode on or off (admin; audited). In safe mode every write needs an admin token."""
    session: Session = ctx.obj
    session.show(session.client.safe_mode(switch is Switch.on, reason), render.safe_mode)


@commands.command()
def status(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option(help="List only nodes and organs in this state.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, max=1000, help="List at most this many of each (by id).")] = None,
) -> None:
    """The factory's introspection status: version, database, safe mode, gates, watchdogs, queues, totals by
    state, each node's and organ's health, and each backend's load (fabricators)."""
    session: Session = ctx.obj
    session.show(session.client.status(state=state, limit=limit), render.status)
