"""Labelled datasets read where they are written (the CLI reads a local file before sending it inline): the checks
the factory makes on a training run's dataset."""
from __future__ import annotations

from typing import Any

from ..training.datasets import from_text


def samples(text: str, where: str) -> list[dict[str, Any]]:
    """The `{input, expected}` examples of JSON Lines (or a JSON list of them); BadInput names the culprit by
    `where` and its line or index."""
    return [sample.to_dict() for sample in from_text(text, where=where)]
