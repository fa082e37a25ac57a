"""Bearer tokens → actors. Tokens come from the environment or a tokens file; none is built in.

With no token configured at all, a first run generates an admin token into
`<var>/admin-token` (mode 0600) and says where it is. Only token hashes are kept
in memory for comparison.

The tokens file is read again when it changes (its size, modification time or inode; looked at no more
than once per RELOAD_CHECK_S), so a token added, down-scoped or revoked there is in force on the next
request after that, without a restart. A changed file that cannot be read, is not a valid tokens file, or
would leave no token at all is not taken: the tokens stay as they were and the error is logged.

A token's *fingerprint* under a key is HMAC-SHA256(key, sha256(token)): what a signed admin UI
session keeps to find its token again on every request (the token itself cannot be recovered from
it, nor guessed offline without the key).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from ..domain.actors import SCOPES, Actor
from . import Settings
from .secret_file import generated_secret

log = logging.getLogger(__name__)
RELOAD_CHECK_S = 1.0  # how often the tokens file is looked at for changes (one stat)
ENV_ACTORS = (("admin_token", "admin", "admin"), ("write_token", "writer", "write"), ("read_token", "reader", "read"))


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _fingerprint(digest: bytes, key: bytes) -> str:
    return hmac.new(key, digest, hashlib.sha256).hexdigest()


class TokenRegistry:
    def __init__(self, entries: dict[bytes, Actor], generated_admin_file: Path | None = None, *,
                 reload: Callable[[], dict[bytes, Actor] | None] | None = None,
                 check_s: float = RELOAD_CHECK_S, clock: Callable[[], float] = time.monotonic):
        self._entries = entries
        self.generated_admin_file = generated_admin_file
        self._reload = reload  # the entries anew when the tokens file changed, else None
        self._check_s = check_s
        self._clock = clock
        self._next_check = clock() + check_s
        self._lock = threading.Lock()

    def _current(self) -> dict[bytes, Actor]:
        """The entries, read again first when the tokens file changed (at most once per check_s)."""
        if self._reload is not None and self._clock() >= self._next_check:
            with self._lock:
                if self._clock() >= self._next_check:
                    fresh = self._reload()
                    if fresh is not None:
                        self._entries = fresh
                    self._next_check = self._clock() + self._check_s
        return self._entries

    def actor_for(self, token: str | None) -> Actor | None:
        if not token:
            return None
        digest = _digest(token)
        found = None
        for known, actor in self._current().items():
            if hmac.compare_digest(known, digest):
                found = actor
        return found

    def fingerprint(self, token: str, key: bytes) -> str:
        """The token's fingerprint under `key` (see the module's docstring)."""
        return _fingerprint(_digest(token), key)

    def actor_for_fingerprint(self, fingerprint: str, key: bytes) -> Actor | None:
        """The actor of the known token with this fingerprint, or None (revoked, or never known)."""
        found = None
        for known, actor in self._current().items():
            if hmac.compare_digest(_fingerprint(known, key), fingerprint):
                found = actor
        return found

    @classmethod
    def load(cls, settings: Settings, *, check_s: float = RELOAD_CHECK_S,
             clock: Callable[[], float] = time.monotonic) -> TokenRegistry:
        base: dict[bytes, Actor] = {}
        for attr, name, scope in ENV_ACTORS:
            token = getattr(settings, attr)
            if token:
                base[_digest(token)] = Actor(name, scope)
        path = settings.tokens_file
        seen = _file_state(path) if path else None
        from_file = _read_tokens_file(path) if path else {}
        generated = None
        if not base and not from_file:
            generated = settings.var_dir / "admin-token"
            base[_digest(ensure_admin_token(generated))] = Actor("admin", "admin")
        if path is None:
            return cls(base, generated)

        def reload() -> dict[bytes, Actor] | None:
            nonlocal seen
            state = _file_state(path)
            if state == seen:
                return None
            seen = state  # a file that cannot be taken is reported once, and looked at again when it changes
            try:
                fresh = {**base, **_read_tokens_file(path)}
                if not fresh:
                    raise ValueError("no token left: every request would be refused")
            except (OSError, ValueError, yaml.YAMLError) as exc:
                log.error("the tokens file %s changed but cannot be taken (%s); the tokens stay as they were",
                          path, exc)
                return None
            log.info("the tokens file %s was read again: %d token(s)", path, len(fresh))
            return fresh

        return cls({**base, **from_file}, generated, reload=reload, check_s=check_s, clock=clock)


def _file_state(path: Path) -> tuple[int, int, int] | None:
    """What tells a changed file: (inode, size, modification time in ns); None when it cannot be looked at."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _read_tokens_file(path: Path) -> dict[bytes, Actor]:
    """The entries of a tokens file: a YAML list of {token, actor, scope}."""
    items = yaml.safe_load(path.read_text())
    if items is not None and not isinstance(items, list):
        raise ValueError(f"{path}: a tokens file is a YAML list of {{token, actor, scope}}")
    entries: dict[bytes, Actor] = {}
    for item in items or []:
        if (not isinstance(item, dict) or item.get("scope") not in SCOPES or not item.get("token")
                or not item.get("actor")):
            raise ValueError(f"{path}: each entry needs token, actor and scope in {SCOPES}")
        entries[_digest(str(item["token"]))] = Actor(str(item["actor"]), item["scope"])
    return entries


def ensure_admin_token(path: Path) -> str:
    """Read the generated admin token, creating it (0600) on first run."""
    return generated_secret(path, 32)
