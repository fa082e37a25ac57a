"""Labelled examples a run is trained on: inline `[{input, expected}]`, a JSONL text (one such
object a line), or a node template's own examples that have `expected`.

Errors point at the culprit (`dataset.3.expected`, `dataset.file: line 7`) and never quote a
file's content, so naming a file that is not a dataset cannot leak it.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..domain.errors import BadInput
from ..domain.templates import Example

MAX_EXAMPLES = 10_000
DATASET_MEDIA_TYPE = "application/x-ndjson"


@dataclass(frozen=True)
class Sample:
    input: Any
    expected: Any

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "expected": self.expected}


def _problem(item: Any) -> tuple[str, str] | None:
    """What is wrong with one example: (the sub-field, if any, and why), or None."""
    if not isinstance(item, dict):
        return "", "expected an object {input, expected}"
    unknown = sorted(set(item) - {"input", "expected"})
    if unknown:
        return f".{unknown[0]}", "unknown field; an example is {input, expected}"
    if "input" not in item:
        return ".input", "required"
    if item.get("expected") is None:
        return ".expected", "required (a training example needs the output it should give)"
    return None


def _sample(item: Any, where: str) -> Sample:
    problem = _problem(item)
    if problem:
        sub, why = problem
        raise BadInput(f"{where}{sub}: {why}", field=f"{where}{sub}")
    return Sample(item["input"], item["expected"])


def _checked(samples: list[Sample], where: str) -> list[Sample]:
    if not samples:
        raise BadInput(f"{where}: no examples", field=where)
    if len(samples) > MAX_EXAMPLES:
        raise BadInput(f"{where}: {len(samples)} examples; at most {MAX_EXAMPLES}", field=where)
    return samples


def from_items(items: Any, where: str = "dataset") -> list[Sample]:
    """Inline examples: a JSON list of `{input, expected}`."""
    if not isinstance(items, list):
        raise BadInput(f"{where}: expected a list of {{input, expected}} or {{file}}", field=where)
    if len(items) > MAX_EXAMPLES:
        raise BadInput(f"{where}: {len(items)} examples; at most {MAX_EXAMPLES}", field=where)
    return _checked([_sample(item, f"{where}.{i}") for i, item in enumerate(items)], where)


def from_text(text: str, where: str = "dataset.file") -> list[Sample]:
    """A dataset file: JSON Lines (one `{input, expected}` a line; blank lines and `#` comments skipped),
    or one JSON list of them."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{where}: not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}", field=where) from None
        return from_items(items, where)
    samples = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{where}: line {number} is not JSON ({exc.msg} at column {exc.colno})",
                           field=where, line=number) from None
        problem = _problem(item)
        if problem:
            sub, why = problem
            raise BadInput(f"{where}: line {number}: {sub.lstrip('.') or 'example'}: {why}", field=where,
                           line=number)
        samples.append(Sample(item["input"], item["expected"]))
        if len(samples) > MAX_EXAMPLES:
            raise BadInput(f"{where}: more than {MAX_EXAMPLES} examples", field=where)
    return _checked(samples, where)


def from_examples(examples: Iterable[Example], node_id: str) -> list[Sample]:
    """The template's own examples that say what they expect."""
    samples = [Sample(e.input, e.expected) for e in examples if e.expected is not None]
    if not samples:
        raise BadInput(f"dataset: {node_id} has no examples with `expected`; give a dataset "
                       "([{input, expected}] or {file})", field="dataset")
    return samples


def to_jsonl(samples: list[Sample]) -> bytes:
    """The canonical stored form (one artifact per distinct dataset)."""
    return "".join(json.dumps(s.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
                   for s in samples).encode()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
