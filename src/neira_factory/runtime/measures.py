"""What is measured for one node version over a period: requests, errors, latency, resources, shadow.

`VersionStats` is recorded per invocation, merged across windows and replicas,
stored as a row of plain JSON values and summarised for people and analysis.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..domain.errors import EXECUTION_ERROR_KINDS
from .histogram import Histogram

ERROR_KINDS = EXECUTION_ERROR_KINDS
CLIENT_ERRORS = frozenset({"bad_input"})  # the client's fault, not the node's


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class VersionStats:
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latency_ms: Histogram = field(default_factory=Histogram)
    operations: Histogram = field(default_factory=Histogram)
    memory_peak_bytes: int = 0
    shadow_compared: int = 0
    shadow_mismatched: int = 0

    def record(self, ms: float, error: str | None = None, operations: int | None = None,
               memory_bytes: int | None = None) -> None:
        """Add one invocation; `operations` and `memory_bytes` only where the backend reports them."""
        if error is not None:
            if error not in ERROR_KINDS:
                raise ValueError(f"unknown error kind {error!r}; expected one of {', '.join(ERROR_KINDS)}")
            self.errors[error] = self.errors.get(error, 0) + 1
        self.requests += 1
        self.latency_ms.add(ms)
        if operations is not None:
            self.operations.add(operations)
        if memory_bytes is not None and memory_bytes > self.memory_peak_bytes:
            self.memory_peak_bytes = memory_bytes

    def record_shadow(self, mismatch: bool) -> None:
        """Add one shadow comparison of the candidate's output with the stable one's."""
        self.shadow_compared += 1
        self.shadow_mismatched += bool(mismatch)

    @property
    def error_count(self) -> int:
        """Errors that are the node's fault: every kind but a client's bad input."""
        return sum(n for kind, n in self.errors.items() if kind not in CLIENT_ERRORS)

    @property
    def failures(self) -> int:
        """Every failed request, a client's bad input included."""
        return sum(self.errors.values())

    @property
    def error_rate(self) -> float | None:
        return self.error_count / self.requests if self.requests else None

    @property
    def mismatch_rate(self) -> float | None:
        return self.shadow_mismatched / self.shadow_compared if self.shadow_compared else None

    def merge(self, other: VersionStats) -> None:
        """Add `other`'s measurements to these (memory keeps the larger peak)."""
        self.requests += other.requests
        for kind, n in other.errors.items():
            self.errors[kind] = self.errors.get(kind, 0) + n
        self.latency_ms.merge(other.latency_ms)
        self.operations.merge(other.operations)
        self.memory_peak_bytes = max(self.memory_peak_bytes, other.memory_peak_bytes)
        self.shadow_compared += other.shadow_compared
        self.shadow_mismatched += other.shadow_mismatched

    @classmethod
    def merged(cls, items: Iterable[VersionStats]) -> VersionStats:
        total = cls()
        for item in items:
            total.merge(item)
        return total

    def to_row(self) -> dict[str, Any]:
        """Plain JSON-ready values for storage."""
        return {
            "requests": self.requests,
            "errors": dict(self.errors),
            "latency_hist": self.latency_ms.to_dict(),
            "ops_hist": self.operations.to_dict(),
            "memory_peak_bytes": self.memory_peak_bytes,
            "shadow_compared": self.shadow_compared,
            "shadow_mismatched": self.shadow_mismatched,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> VersionStats:
        """The inverse of `to_row`; a missing or null field reads as empty."""
        return cls(
            requests=int(row.get("requests") or 0),
            errors={kind: int(n) for kind, n in (row.get("errors") or {}).items()},
            latency_ms=Histogram.from_dict(row.get("latency_hist")),
            operations=Histogram.from_dict(row.get("ops_hist")),
            memory_peak_bytes=int(row.get("memory_peak_bytes") or 0),
            shadow_compared=int(row.get("shadow_compared") or 0),
            shadow_mismatched=int(row.get("shadow_mismatched") or 0),
        )

    def summary(self) -> dict[str, Any]:
        """Rounded figures for people and reports; None where nothing was measured."""
        return {
            "requests": self.requests,
            "errors": dict(self.errors),
            "error_rate": _rounded(self.error_rate, 6),
            "p50_ms": _rounded(self.latency_ms.quantile(0.5), 3),
            "p95_ms": _rounded(self.latency_ms.quantile(0.95), 3),
            "p99_ms": _rounded(self.latency_ms.quantile(0.99), 3),
            "operations_p95": _rounded(self.operations.quantile(0.95), 1),
            "memory_peak_bytes": self.memory_peak_bytes,
            "shadow_compared": self.shadow_compared,
            "mismatch_rate": _rounded(self.mismatch_rate, 6),
        }
