"""Helpers shared by tests: tokens, auth headers, settings for a factory under test."""
from __future__ import annotations

from pathlib import Path

TOKENS = {"admin": "admin-token-for-tests", "write": "write-token-for-tests", "read": "read-token-for-tests"}
ROOT = Path(__file__).resolve().parents[1]


def auth(scope: str) -> dict[str, str]:
    """Headers for a caller with `scope` (admin, write, read)."""
    return {"Authorization": f"Bearer {TOKENS[scope]}"}


def make_settings(tmp_path: Path, url: str | None = None, **overrides):
    from neira_factory.config import Settings

    return Settings(var_dir=tmp_path, database_url=url or f"sqlite:///{tmp_path / 'factory.db'}",
                    admin_token=TOKENS["admin"], write_token=TOKENS["write"], read_token=TOKENS["read"],
                    capabilities_file=ROOT / "capabilities.yaml", **overrides)
