"""Settings from the environment, with sensible defaults for a single embedded instance; beside them `tokens`
(bearer tokens to actors) and `secret_file` (secrets generated on first use)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def _int(name: str, default: int) -> int:
    """A positive integer setting; NEIRA_<name> wins over <name>."""
    names = (name,) if name.startswith("NEIRA_") else (f"NEIRA_{name}", name)
    raw = next((os.environ[n] for n in names if os.environ.get(n)), None)
    if raw is None:
        return default
    value = int(raw)
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value


VAR_DIR_ENV = "NEIRA_VAR_DIR"


def var_dir_from_env() -> Path:
    """NEIRA_VAR_DIR (default ./var): the server's own files; also read where no Settings reach (the wasm
    backend's module directory, <var_dir>/modules)."""
    return Path(os.environ.get(VAR_DIR_ENV, "var"))


MIN_UI_SECRET_LEN = 32
MIN_AUDIT_KEY_LEN = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_OUTPUT_BYTES_CEILING = 1024 * 1024 * 1024  # NEIRA_MAX_OUTPUT_BYTES may not go above 1 GiB
LLM_PROVIDERS = ("ollama", "openai")  # NEIRA_LLM_PROVIDER: the optional LLM interpreter's kinds of server


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
    watchdog_soft_ms: int = 500  # an invocation slower than this is reported (watchdog_timeouts_total{kind="soft"})
    watchdog_hard_ms: int = 10_000  # the cap on any node's limits.timeout_ms
    stats_window_s: int = 10  # one statistics window = one analysis measurement
    stats_flush_ms: int = 1000  # how often a replica writes its counters to the database
    cache_ttl_ms: int = 1000  # how stale another replica's route or policy change may be seen here
    stats_retention_h: int = 168  # statistics windows and measurements older than this are deleted
    events_poll_ms: int = 250  # SQLite: how often a replica reads the event log for the others' events
    events_retention_h: int = 24  # events older than this are deleted from the event log
    output_retention_h: int = 24  # files side-effecting nodes wrote into <var_dir>/output older than this go
    notify_webhook_url: str | None = None
    notify_webhook_secret: str | None = None
    ui_secret: str | None = field(default=None, repr=False)  # None: <var_dir>/ui-secret, generated on first use
    audit_key: str | None = field(default=None, repr=False)  # keys the audit chain; None: <var_dir>/audit-key, generated
    log_level: str = "INFO"  # the server log's level, one of LOG_LEVELS (any case)
    max_output_bytes: int = 16 * 1024 * 1024  # a node's output as JSON text, shared references counted each time
    # the optional LLM interpreter of commands the rules cannot read (services/llm_client.py); None: rules alone
    llm_provider: str | None = None  # one of LLM_PROVIDERS
    llm_base_url: str | None = None  # None: the provider's default (Ollama http://localhost:11434, OpenAI's API)
    llm_model: str | None = None  # required with a provider
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout_s: int = 20  # how long one command waits for the model
    replica: str = field(default_factory=lambda: f"{os.uname().nodename}:{os.getpid()}")

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{(self.var_dir / 'neira.db').resolve()}")
        if self.ui_secret is not None and len(self.ui_secret) < MIN_UI_SECRET_LEN:
            raise ValueError(f"NEIRA_UI_SECRET must be at least {MIN_UI_SECRET_LEN} characters")
        if self.audit_key is not None and len(self.audit_key) < MIN_AUDIT_KEY_LEN:
            raise ValueError(f"NEIRA_AUDIT_KEY must be at least {MIN_AUDIT_KEY_LEN} characters")
        if self.max_output_bytes > MAX_OUTPUT_BYTES_CEILING:
            raise ValueError(f"NEIRA_MAX_OUTPUT_BYTES may be at most {MAX_OUTPUT_BYTES_CEILING}")
        level = self.log_level.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"NEIRA_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        object.__setattr__(self, "log_level", level)
        self._check_llm()

    def _check_llm(self) -> None:
        if self.llm_provider is None:
            return
        if self.llm_provider not in LLM_PROVIDERS:
            raise ValueError(f"NEIRA_LLM_PROVIDER must be one of {', '.join(LLM_PROVIDERS)}, got {self.llm_provider!r}")
        if not self.llm_model:
            raise ValueError("NEIRA_LLM_MODEL is required with NEIRA_LLM_PROVIDER")

    @property
    def output_dir(self) -> Path:
        """Where side-effecting nodes write files (pruned after output_retention_h)."""
        return self.var_dir / "output"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        values = dict(
            var_dir=var_dir_from_env(),
            database_url=env.get("NEIRA_DATABASE_URL", ""),
            admin_token=env.get("NEIRA_ADMIN_TOKEN") or None,
            write_token=env.get("NEIRA_WRITE_TOKEN") or None,
            read_token=env.get("NEIRA_READ_TOKEN") or None,
            tokens_file=Path(env["NEIRA_TOKENS_FILE"]) if env.get("NEIRA_TOKENS_FILE") else None,
            capabilities_file=Path(env.get("NEIRA_CAPABILITIES_FILE", "capabilities.yaml")),
            four_eyes=_flag("NEIRA_FOUR_EYES"),
            max_body_bytes=int(env.get("NEIRA_MAX_BODY_BYTES", 1_048_576)),
            watchdog_soft_ms=_int("WATCHDOG_SOFT_MS", 500),
            watchdog_hard_ms=_int("WATCHDOG_HARD_MS", 10_000),
            stats_window_s=_int("NEIRA_STATS_WINDOW_S", 10),
            stats_flush_ms=_int("NEIRA_STATS_FLUSH_MS", 1000),
            cache_ttl_ms=_int("NEIRA_CACHE_TTL_MS", 1000),
            stats_retention_h=_int("NEIRA_STATS_RETENTION_H", 168),
            events_poll_ms=_int("NEIRA_EVENTS_POLL_MS", 250),
            events_retention_h=_int("NEIRA_EVENTS_RETENTION_H", 24),
            output_retention_h=_int("NEIRA_OUTPUT_RETENTION_H", 24),
            notify_webhook_url=env.get("NEIRA_NOTIFY_WEBHOOK_URL") or None,
            notify_webhook_secret=env.get("NEIRA_NOTIFY_WEBHOOK_SECRET") or None,
            ui_secret=env.get("NEIRA_UI_SECRET") or None,
            audit_key=env.get("NEIRA_AUDIT_KEY") or None,
            log_level=env.get("NEIRA_LOG_LEVEL") or "INFO",
            max_output_bytes=_int("NEIRA_MAX_OUTPUT_BYTES", 16 * 1024 * 1024),
            llm_provider=(env.get("NEIRA_LLM_PROVIDER") or "").strip().lower() or None,
            llm_base_url=env.get("NEIRA_LLM_BASE_URL") or None,
            llm_model=(env.get("NEIRA_LLM_MODEL") or "").strip() or None,
            llm_api_key=env.get("NEIRA_LLM_API_KEY") or None,
            llm_timeout_s=_int("NEIRA_LLM_TIMEOUT_S", 20),
        )
        values.update(overrides)
        return cls(**values)
