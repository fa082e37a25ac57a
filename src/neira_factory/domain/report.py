"""Dry-run findings: risks with a severity; a blocking one stops create and approve."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["blocking", "warning", "info"]


@dataclass(frozen=True)
class Risk:
    code: str
    severity: Severity
    message: str
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def replaces_example(node_id: str, doing: str) -> Risk:
    """The warning of a dry-run whose id is an untouched example draft (Node.yields_to): `doing` replaces it."""
    return Risk("replaces_example", "warning", f"{node_id} is an example loaded at start-up and still an untouched "
                f"draft: {doing} replaces it", "id")


def blocking(risks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in risks if r.get("severity") == "blocking"]
