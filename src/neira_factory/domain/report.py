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


def blocking(risks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in risks if r.get("severity") == "blocking"]
