"""Bearer tokens → actors. Tokens come from the environment or a tokens file; none is built in.

With no token configured at all, a first run generates an admin token into
`<var>/admin-token` (mode 0600) and says where it is. Only token hashes are kept
in memory for comparison.

A token's *fingerprint* under a key is HMAC-SHA256(key, sha256(token)): what a signed admin UI
session keeps to find its token again on every request (the token itself cannot be recovered from
it, nor guessed offline without the key).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import yaml

from .config import Settings
from .domain.actors import SCOPES, Actor

ENV_ACTORS = (("admin_token", "admin", "admin"), ("write_token", "writer", "write"), ("read_token", "reader", "read"))


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _fingerprint(digest: bytes, key: bytes) -> str:
    return hmac.new(key, digest, hashlib.sha256).hexdigest()


class TokenRegistry:
    def __init__(self, entries: dict[bytes, Actor], generated_admin_file: Path | None = None):
        self._entries = entries
        self.generated_admin_file = generated_admin_file

    def actor_for(self, token: str | None) -> Actor | None:
        if not token:
            return None
        digest = _digest(token)
        found = None
        for known, actor in self._entries.items():
            if hmac.compare_digest(known, digest):
                found = actor
        return found

    def fingerprint(self, token: str, key: bytes) -> str:
        """The token's fingerprint under `key` (see the module's docstring)."""
        return _fingerprint(_digest(token), key)

    def actor_for_fingerprint(self, fingerprint: str, key: bytes) -> Actor | None:
        """The actor of the known token with this fingerprint, or None (revoked, or never known)."""
        found = None
        for known, actor in self._entries.items():
            if hmac.compare_digest(_fingerprint(known, key), fingerprint):
                found = actor
        return found

    @classmethod
    def load(cls, settings: Settings) -> "TokenRegistry":
        entries: dict[bytes, Actor] = {}
        for attr, name, scope in ENV_ACTORS:
            token = getattr(settings, attr)
            if token:
                entries[_digest(token)] = Actor(name, scope)
        if settings.tokens_file:
            for item in yaml.safe_load(settings.tokens_file.read_text()) or []:
                if item.get("scope") not in SCOPES or not item.get("token") or not item.get("actor"):
                    raise ValueError(f"{settings.tokens_file}: each entry needs token, actor and scope in {SCOPES}")
                entries[_digest(str(item["token"]))] = Actor(str(item["actor"]), item["scope"])
        generated = None
        if not entries:
            generated = settings.var_dir / "admin-token"
            entries[_digest(ensure_admin_token(generated))] = Actor("admin", "admin")
        return cls(entries, generated)


def ensure_admin_token(path: Path) -> str:
    """Read the generated admin token, creating it (0600) on first run."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token
