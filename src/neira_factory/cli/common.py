"""What the commands share: the session (the global options, and the client made from them), the CLI's own
refusals, argument types, reading files and asking for confirmation."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from . import render
from .client import FactoryClient

NodeId = Annotated[str, typer.Argument(metavar="ID", show_default=False,
                                       help="Node id, e.g. analysis.text_normalize.v1.")]
Reason = Annotated[str | None, typer.Option("--reason", "-r", help="Why; kept in the audit trail.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (needed without a terminal).")]


class CliError(Exception):
    """A refusal by the CLI itself (a malformed file, a missing confirmation): exit 1."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


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


def read_text(source: str) -> tuple[str, str]:
    """(a name to show, the text) of a file, or of stdin for `-`."""
    name = "<stdin>" if source == "-" else source
    try:
        return name, sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError("invalid_file", f"cannot read {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CliError("invalid_file", f"{name} is not UTF-8 text: {exc}") from None


def json_arg(text: str, option: str) -> Any:
    """An option's JSON value: the text itself, @FILE's content, or stdin for `-`."""
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
        raise CliError("bad_input", f"{option} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def confirm(yes: bool, question: str, refusal: str) -> None:
    """A human in the loop: unless --yes, ask `question` (no: abort); without a terminal, refuse with `refusal`."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError("confirmation_required", refusal)
    typer.confirm(question, abort=True)
