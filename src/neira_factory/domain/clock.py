"""The clock the factory stamps its records with: timezone-aware UTC."""
from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
