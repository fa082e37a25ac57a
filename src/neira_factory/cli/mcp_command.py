"""`mcp`: the factory's tools for agents, as a Model Context Protocol server over stdio (cli/mcp_server.py)."""
from __future__ import annotations

import typer

from .common import CliError, Session

commands = typer.Typer()


def _require_settings(ctx: typer.Context) -> None:
    """The factory's URL and the caller's token must both be given explicitly: an agent host starts the server with no
    terminal to ask from, so a missing one is an error at start, not a default that points somewhere else."""
    session: Session = ctx.obj
    source = ctx.find_root().get_parameter_source("url")  # an enum of Typer's own click: compared by name
    if source is None or source.name == "DEFAULT":
        raise CliError("missing_setting", "NEIRA_URL is not set: give the factory's base URL "
                                          "(e.g. NEIRA_URL=http://127.0.0.1:8080) in the server's environment")
    if not session.url.startswith(("http://", "https://")):
        raise CliError("missing_setting", f"NEIRA_URL is not an http(s) URL: {session.url!r}")
    if not session.token:
        raise CliError("missing_setting", "NEIRA_TOKEN is not set: give the caller's bearer token (admin, write or "
                                          "read scope) in the server's environment; the factory's policy decides "
                                          "with it as for any client")


@commands.command()
def mcp(ctx: typer.Context) -> None:
    """Serve the factory's tools to agents (Claude Desktop, Neira's orchestrator): MCP over stdio.

    Tools: dryrun_node, create_node, approve_node (needs confirm: true), build_organ, organ_status, invoke,
    say, confirm_plan, list_nodes, analysis. Each calls the HTTP API at NEIRA_URL with NEIRA_TOKEN, so the
    factory's policy decides as for any client; a refusal comes back as a tool error with its code and
    reason. Both variables are required. Stdout carries the protocol; logs go to stderr.
    """
    _require_settings(ctx)
    from .mcp_server import serve_stdio  # the SDK loads only for this command

    session: Session = ctx.obj
    serve_stdio(session.client)
