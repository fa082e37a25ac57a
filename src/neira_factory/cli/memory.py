"""Memory commands (`neira-factory memory ...`): a memory route's records one at a time through the route
(search, get, put, forget: POST /invoke/{route}), and its whole store (show, export, import: /memory/{route})."""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from . import render
from .client import ApiError
from .common import CliError, Session, Yes, confirm, json_arg, read_text

CHUNK_LINES = 1000  # records a request, at most
CHUNK_BYTES = 512 * 1024  # and about this much JSON (under the server's default 1 MiB body limit)

Route = Annotated[str, typer.Argument(metavar="ROUTE", show_default=False,
                                      help="A memory node's route: its id without the .vN suffix, e.g. memory.facts.")]
RecordId = Annotated[str, typer.Argument(metavar="ID", show_default=False, help="The record's id.")]

commands = typer.Typer(no_args_is_help=True, help="Memory nodes: search, read, write and forget records; show, "
                                                  "export and import a route's store.")


def _op(ctx: typer.Context, route: str, data: dict[str, Any], renderer: Any) -> dict[str, Any]:
    session: Session = ctx.obj
    answer = session.client.invoke(route, data, None)
    session.show(answer, renderer)
    return answer


@commands.command()
def show(ctx: typer.Context, route: Route) -> None:
    """The route's store: the node read, the store's name, records, evictions, capacity, language, retention."""
    session: Session = ctx.obj
    session.show(session.client.memory(route), render.memory_summary)


@commands.command()
def search(
    ctx: typer.Context, route: Route,
    query: Annotated[str, typer.Argument(metavar="QUERY", show_default=False, help="What to look for, in words.")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100, help="At most this many records.")] = 10,
    type_: Annotated[str | None, typer.Option("--type", "-t", help="Only records of this type (fact, rule, …).")] = None,
) -> None:
    """Search the route's records by text: the best matches by relevance and priority, best first (read scope)."""
    data = {"op": "search", "query": query, "limit": limit, **({"type": type_} if type_ else {})}
    _op(ctx, route, data, render.memory_results)


@commands.command()
def get(ctx: typer.Context, route: Route, record_id: RecordId) -> None:
    """Show one record by id: the cell, its version, priority and usage (read scope). Exits 1 when there is none."""
    answer = _op(ctx, route, {"op": "get", "id": record_id}, render.memory_record)
    if (answer.get("output") or {}).get("record") is None:
        raise CliError("not_found", f"no record {record_id!r} in {route}")


@commands.command()
def put(
    ctx: typer.Context, route: Route,
    description: Annotated[str | None, typer.Option("--description", "-d", help="The record's text (required "
                                                    "unless --json has it).")] = None,
    type_: Annotated[str | None, typer.Option("--type", "-t", help="fact (default), rule, concept, …")] = None,
    keyword: Annotated[list[str] | None, typer.Option("--keyword", "-k", metavar="WORD",
                                                      help="A keyword it is found by (repeat for more).")] = None,
    credibility: Annotated[float | None, typer.Option("--credibility", "-c", min=0.0, max=1.0,
                                                      help="How far to trust it, 0 to 1 (default 0.5).")] = None,
    record_id: Annotated[str | None, typer.Option("--id", help="Its id: an existing id gets a new version "
                                                  "(default: a new id).")] = None,
    record: Annotated[str | None, typer.Option("--json", metavar="JSON", help="The whole record as a JSON object "
                                               "(or @FILE, or - for stdin); the options above override its "
                                               "fields.")] = None,
) -> None:
    """Write a record (write scope; admin in safe-mode): a new one, or the next version of --id's."""
    data = json_arg(record, "--json") if record is not None else {}
    if not isinstance(data, dict):
        raise CliError("bad_input", "--json is a record: a JSON object such as {\"description\": \"...\"}")
    given = {"id": record_id, "description": description, "type": type_, "keywords": keyword or None,
             "credibility": credibility}
    data.update({k: v for k, v in given.items() if v is not None})
    _op(ctx, route, {"op": "put", "record": data}, render.memory_written)


@commands.command()
def forget(ctx: typer.Context, route: Route, record_id: RecordId, yes: Yes = False) -> None:
    """Delete a record (write scope; admin in safe-mode; audited). Asks first unless --yes."""
    confirm(yes, f"forget record {record_id} of {route}?",
            f"refusing to forget {record_id} without confirmation: input is not a terminal; pass --yes to confirm")

    def forgotten(answer: dict[str, Any]) -> None:
        gone = (answer.get("output") or {}).get("forgotten")
        render.out.print(f"forgot {record_id}" if gone else f"no record {record_id} in {route}: nothing to forget")

    _op(ctx, route, {"op": "forget", "id": record_id}, forgotten)


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    if path is None or str(path) == "-":
        yield sys.stdout
        return
    try:
        with path.open("w", encoding="utf-8") as stream:
            yield stream
    except OSError as exc:
        raise CliError("unwritable_output", f"cannot write {path}: {exc.strerror or exc}") from None


@commands.command()
def export(
    ctx: typer.Context, route: Route,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE",
                                                help="Write the JSON Lines here (default: stdout).")] = None,
) -> None:
    """Export every record of the route's store as JSON Lines (read scope), with a progress bar on stderr.

    The file imports as it is: neira-factory memory import ROUTE FILE."""
    session: Session = ctx.obj
    total = session.client.memory(route).get("records")
    count = 0
    with _output(output) as stream, render.RecordProgress(f"export {route}", total) as progress:
        for line in session.client.memory_export(route):
            stream.write(line + "\n")
            count += 1
            progress.advance(1)
    render.err.print(f"exported {count} record(s) of {route}" + (f" to {output}" if output else ""))


def _chunks(values: list[Any], size: int) -> Iterator[tuple[int, bytes]]:
    """(records in it, JSON Lines) of at most `size` records and about CHUNK_BYTES each."""
    lines: list[bytes] = []
    weight = 0
    for value in values:
        line = json.dumps(value, ensure_ascii=False).encode() + b"\n"
        if lines and (len(lines) >= size or weight + len(line) > CHUNK_BYTES):
            yield len(lines), b"".join(lines)
            lines, weight = [], 0
        lines.append(line)
        weight += len(line)
    if lines:
        yield len(lines), b"".join(lines)


@commands.command("import")
def import_(
    ctx: typer.Context, route: Route,
    file: Annotated[str, typer.Argument(metavar="FILE", show_default=False,
                                        help="JSON Lines, one record a line (an export's file as it is), or a JSON "
                                             "array of records; - reads stdin.")],
    chunk: Annotated[int, typer.Option("--chunk", min=1, max=10_000, help="Records a request, at most.")] = CHUNK_LINES,
) -> None:
    """Import records into the route's store (write scope; admin in safe-mode; audited), with a progress bar.

    Every record is checked here first: a bad line stops the import before anything is sent, naming its
    line and field. Then the records go in requests of --chunk records; an existing id gets a new version."""
    from ..domain.errors import BadInput
    from ..services import memory_lines

    name, text = read_text(file)
    try:
        values, places = memory_lines.parse(text)
        memory_lines.checked(values, places)
    except BadInput as exc:
        raise CliError("invalid_file", f"{name}: {exc.reason}") from None
    session: Session = ctx.obj
    result = {"route": route, "store": None, "imported": 0, "evicted": 0, "requests": 0}
    with render.RecordProgress(f"import {route}", len(values)) as progress:
        for records, body in _chunks(values, chunk):
            try:
                done = session.client.memory_import(route, body, source=Path(name).name)
            except ApiError as exc:
                exc.extra["imported_before"] = result["imported"]
                raise
            result.update(store=done["store"], imported=result["imported"] + done["imported"],
                          evicted=result["evicted"] + done["evicted"], requests=result["requests"] + 1)
            progress.advance(records)
    session.show(result, render.memory_imported)
