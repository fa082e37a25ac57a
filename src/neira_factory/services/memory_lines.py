"""Memory records as JSON Lines (an export's lines, an import's body), read and checked where they are written
(the CLI checks a file before it sends any of it) and where they arrive (POST /memory/{route}/import).

A body is JSON Lines (one record a line; blank lines skipped) or one JSON array of records. Each record is
what a `put` takes (domain/memory.RecordIn) after the fields only an export carries are dropped (`version`,
`priority`, `created_at`, `updated_at`, `usage`, `score`), so an export imports as it is. A refusal is
BadInput naming the record's line (or its place in the array) and the field: `line 7: description: Field
required`, with `line: 7` (or `record: 7`) in the error body.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..domain import json_values
from ..domain.errors import BadInput
from ..domain.memory import MAX_RECORD_BYTES, RecordIn

EXPORT_ONLY = ("version", "priority", "created_at", "updated_at", "usage", "score")


@dataclass(frozen=True)
class Place:
    """Where a record was read: `line` N of JSON Lines, or `record` N (from 1) of a JSON array."""

    kind: str
    n: int

    def __str__(self) -> str:
        return f"{self.kind} {self.n}"

    def refuse(self, field: str, why: str) -> BadInput:
        return BadInput(f"{self}: {field}: {why}", field=field, **{self.kind: self.n})


def parse(raw: bytes | str) -> tuple[list[Any], list[Place]]:
    """The values of a body (JSON Lines, or a JSON array when it starts with `[`) and where each was read."""
    text = raw if isinstance(raw, str) else _text(raw)
    if text.lstrip().startswith("["):
        try:
            items = json_values.parse(text, "body")
        except json_values.NotJSON as exc:
            raise BadInput(f"{exc.path}: {exc.reason}", field="body") from None
        if not isinstance(items, list):
            raise BadInput("body: expected JSON Lines or one JSON array of records", field="body")
        return items, [Place("record", n) for n in range(1, len(items) + 1)]
    values, places = [], []
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        place = Place("line", n)
        try:
            values.append(json_values.parse(line, str(place)))
        except json_values.NotJSON as exc:
            raise place.refuse("body", exc.reason) from None
        places.append(place)
    return values, places


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise Place("line", line).refuse("body", f"not UTF-8 text (byte {exc.start})") from None


def record_in(value: Any, place: Place) -> RecordIn:
    """One record as a `put` takes it (the export-only fields dropped); BadInput names the place and field."""
    if not isinstance(value, dict):
        raise place.refuse("record", f"a record is a JSON object, found {type(value).__name__}")
    data = {k: v for k, v in value.items() if k not in EXPORT_ONLY}
    size = len(json.dumps(data, ensure_ascii=False, default=str).encode())
    if size > MAX_RECORD_BYTES:
        raise place.refuse("record", f"{size} bytes as JSON; a record is at most {MAX_RECORD_BYTES} bytes (64 KiB)")
    try:
        return RecordIn.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise place.refuse(".".join(str(p) for p in error["loc"]) or "record", error["msg"]) from None


def checked(values: Sequence[Any], places: Sequence[Place] | None = None) -> list[RecordIn]:
    """Every record checked, or BadInput for the first that is not one (`places` default: line 1, 2, …)."""
    places = places or [Place("line", n) for n in range(1, len(values) + 1)]
    return [record_in(value, place) for value, place in zip(values, places, strict=True)]

