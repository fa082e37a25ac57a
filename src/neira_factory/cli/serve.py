"""`serve`: start the factory (through services.serving), say what it started with, and run the HTTP server."""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from . import render
from .common import CliError

if TYPE_CHECKING:  # imported where used: a client command loads neither
    from ..config import Settings
    from ..services.serving import Started

DEFAULT_EXAMPLES = Path("examples")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
APP = "neira_factory.api.serving:app"  # uvicorn builds the app (factory=True) over what the start-up prepared

commands = typer.Typer()


def configure_logging(level: str) -> None:
    """The server's log: one line per record (time, level, logger, message) on stderr, at `level`, from the
    factory, uvicorn and the libraries alike. `serve` starts uvicorn with `log_config=None`, so uvicorn adds
    no handler of its own: its loggers pass their records up to this one, and nothing is logged twice."""
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr, force=True)


def _masked(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url).render_as_string(hide_password=True)


def _facts(started: Started, settings: Settings, examples_dir: Path | None, no_examples: bool) -> dict[str, str]:
    """What the start-up banner says besides the URL: the database, the examples, where the admin token is."""
    if examples_dir is None:
        examples_fact = "off (--no-examples)" if no_examples else f"none (no ./{DEFAULT_EXAMPLES} directory)"
    else:
        examples_fact = f"{len(started.examples)} loaded from {examples_dir}" + (
            "" if started.examples else " (examples load only into an empty database)")
    if started.tokens.generated_admin_file:
        token_fact = f"generated, in {started.tokens.generated_admin_file} (send it as NEIRA_TOKEN)"
    elif settings.admin_token:
        token_fact = "admin token from NEIRA_ADMIN_TOKEN"
    elif settings.tokens_file:
        token_fact = f"from the tokens file {settings.tokens_file}"
    else:
        token_fact = "none (only write/read tokens are configured)"
    return {"database": _masked(settings.database_url), "examples": examples_fact, "admin token": token_fact}


@commands.command()
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

    from ..config import Settings
    from ..services import serving

    documents = examples or (DEFAULT_EXAMPLES if DEFAULT_EXAMPLES.is_dir() else None)
    examples_dir = None if no_examples else documents
    try:
        settings = Settings.from_env(examples_dir=documents)  # commands plan from the examples even unloaded
        configure_logging(settings.log_level)
        started = serving.start(settings, examples_dir)
    except (OSError, ValueError, SQLAlchemyError) as exc:
        raise CliError("startup_failed", str(exc)) from None
    url_host = f"[{host}]" if ":" in host else host
    render.serving(f"http://{url_host}:{port}", _facts(started, settings, examples_dir, no_examples))
    uvicorn.run(APP, factory=True, host=host, port=port, log_config=None, timeout_graceful_shutdown=10)
