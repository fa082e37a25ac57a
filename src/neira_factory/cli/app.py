"""The `neira-factory` command: `serve` runs the factory; every other command is a client of its HTTP API.

Client commands talk to NEIRA_URL (or --url) with NEIRA_TOKEN (or --token) as a bearer
token. Exit codes: 0 done; 1 the factory (or the CLI) refused, with `error: <code>:
<reason>` on stderr; 2 the factory could not be reached (or a usage error).
"""
from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from . import admin, mcp_command, memory, nodes, render, serve, training
from .client import DEFAULT_URL, ApiError, Unreachable
from .common import CliError, Session


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
for _commands in (nodes.commands, training.commands, admin.commands, serve.commands, mcp_command.commands):
    app.add_typer(_commands)
app.add_typer(admin.caps, name="caps")
app.add_typer(admin.audit, name="audit")
app.add_typer(training.runs, name="training")
app.add_typer(memory.commands, name="memory")


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
