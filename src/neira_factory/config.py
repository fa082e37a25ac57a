"""Settings from the environment, with sensible defaults for a single embedded instance."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    var_dir: Path = Path("var")
    database_url: str = ""
    admin_token: str | None = None
    write_token: str | None = None
    read_token: str | None = None
    tokens_file: Path | None = None
    capabilities_file: Path = Path("capabilities.yaml")
    examples_dir: Path | None = None
    four_eyes: bool = False
    max_body_bytes: int = 1_048_576
    replica: str = field(default_factory=lambda: f"{os.uname().nodename}:{os.getpid()}")

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{(self.var_dir / 'neira.db').resolve()}")

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        values = dict(
            var_dir=Path(env.get("NEIRA_VAR_DIR", "var")),
            database_url=env.get("NEIRA_DATABASE_URL", ""),
            admin_token=env.get("NEIRA_ADMIN_TOKEN") or None,
            write_token=env.get("NEIRA_WRITE_TOKEN") or None,
            read_token=env.get("NEIRA_READ_TOKEN") or None,
            tokens_file=Path(env["NEIRA_TOKENS_FILE"]) if env.get("NEIRA_TOKENS_FILE") else None,
            capabilities_file=Path(env.get("NEIRA_CAPABILITIES_FILE", "capabilities.yaml")),
            four_eyes=_flag("NEIRA_FOUR_EYES"),
            max_body_bytes=int(env.get("NEIRA_MAX_BODY_BYTES", 1_048_576)),
        )
        values.update(overrides)
        return cls(**values)
