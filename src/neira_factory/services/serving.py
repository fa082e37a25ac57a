"""A serving process's start-up, done once before it listens: the services on their migrated database, the
examples loaded into an empty one, the tokens. The app the server then builds (`api.serving`) runs over them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..config.tokens import TokenRegistry
from ..library import text_search
from .bootstrap import Services, build_services
from .examples import load_examples


@dataclass(frozen=True)
class Started:
    services: Services
    tokens: TokenRegistry
    examples: list[str]  # the ids loaded from the examples directory


_started: Started | None = None


def start(settings: Settings, examples_dir: Path | None) -> Started:
    """Build the services, load the examples in `examples_dir` (None: none) into an empty database, and load the
    tokens (with none configured, an admin token is generated into a file). pymorphy3's dictionaries are loaded
    first: the first memory op or Russian command would otherwise spend its timeout loading them."""
    global _started
    text_search.morph()
    services = build_services(settings)
    examples = load_examples(services.examples, examples_dir) if examples_dir else []
    _started = Started(services, TokenRegistry.load(settings), examples)
    return _started


def started() -> Started:
    """What `start` prepared in this process."""
    if _started is None:
        raise RuntimeError("nothing was started in this process: services.serving.start() comes first")
    return _started
