"""Admin UI sessions and CSRF tokens, signed with a server secret (stateless: nothing is stored).

A session is a cookie `neira_session` holding `{a: actor, s: scope, sid, iat, exp}` as base64url JSON
plus an HMAC-SHA256 signature. The token the user signed in with is not kept anywhere: it is resolved
to an actor once, at sign-in, by the same TokenRegistry the API uses; every later request acts as that
actor, and every action still goes through the services, so the PolicyEngine decides as for the API.

The CSRF token of a session is HMAC(secret, sid): it is put into a hidden field of every POST form (and
an `X-CSRF-Token` header for the page's fetch calls) and compared on every POST. The sign-in form,
which has no session yet, is protected the same way with a short-lived random `neira_login` cookie.

The secret comes from `NEIRA_UI_SECRET` (replicas behind one name share it), else from
`<var>/ui-secret`, generated on first use (mode 0600) like the generated admin token. Changing or
deleting the secret ends every session.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ...domain.actors import SCOPES, Actor

SESSION_COOKIE = "neira_session"
LOGIN_COOKIE = "neira_login"
LANG_COOKIE = "neira_lang"
FLASH_COOKIE = "neira_flash"
COOKIE_PATH = "/admin"
SESSION_TTL_S = 8 * 3600  # absolute lifetime of a session
LOGIN_TTL_S = 3600  # how long a sign-in form stays valid
SECRET_ENV = "NEIRA_UI_SECRET"
SECRET_FILE = "ui-secret"
MIN_SECRET_LEN = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    actor: Actor
    sid: str
    issued_at: int
    expires_at: int
    csrf: str


class SessionSigner:
    """Signs and checks session cookies and CSRF tokens with one server secret (loaded lazily)."""

    def __init__(self, var_dir: Path):
        self._path = var_dir / SECRET_FILE
        self._lock = threading.Lock()
        self._keys: tuple[bytes, bytes] | None = None
        self._ended: dict[str, int] = {}  # sids signed out on this replica -> their expiry

    # -- the secret ----------------------------------------------------------------------------
    def _load(self) -> tuple[bytes, bytes]:
        with self._lock:
            if self._keys is None:
                secret = self._secret()
                self._keys = (hmac.new(secret, b"neira-ui session v1", hashlib.sha256).digest(),
                              hmac.new(secret, b"neira-ui csrf v1", hashlib.sha256).digest())
            return self._keys

    def _secret(self) -> bytes:
        given = os.environ.get(SECRET_ENV)
        if given:
            if len(given) < MIN_SECRET_LEN:
                raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_LEN} characters")
            return given.encode()
        if not self._path.exists():
            self._path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it meanwhile
                pass
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_urlsafe(48) + "\n")
        secret = self._path.read_text().strip()
        if len(secret) < MIN_SECRET_LEN:
            raise ValueError(f"{self._path}: the UI secret is too short; delete the file to generate a new one")
        return secret.encode()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._load()[0], payload.encode(), hashlib.sha256).digest())

    def _csrf_for(self, value: str) -> str:
        return _b64(hmac.new(self._load()[1], value.encode(), hashlib.sha256).digest())

    # -- sessions ------------------------------------------------------------------------------
    def issue(self, actor: Actor, now: float | None = None) -> tuple[str, Session]:
        """A new session for `actor`: (cookie value, session)."""
        issued = int(now if now is not None else time.time())
        sid = secrets.token_urlsafe(16)
        body = {"a": actor.name, "s": actor.scope, "sid": sid, "iat": issued, "exp": issued + SESSION_TTL_S}
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}", self._session(body)

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie stands for, or None (missing, forged, expired or signed out)."""
        if not cookie or cookie.count(".") != 1 or len(cookie) > 4096:
            return None
        payload, signature = cookie.split(".")
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            body = json.loads(_unb64(payload))
            if not isinstance(body, dict) or body.get("s") not in SCOPES or not isinstance(body.get("a"), str) \
                    or not isinstance(body.get("sid"), str) or not isinstance(body.get("exp"), int) \
                    or not isinstance(body.get("iat"), int):
                return None
        except (ValueError, UnicodeDecodeError):
            return None
        current = now if now is not None else time.time()
        if body["exp"] <= current or body["sid"] in self._ended:
            return None
        return self._session(body)

    def end(self, session: Session) -> None:
        """Sign out: this replica refuses the session's cookie from now on (the browser forgets it too)."""
        with self._lock:
            current = time.time()
            self._ended = {sid: exp for sid, exp in self._ended.items() if exp > current}
            self._ended[session.sid] = session.expires_at

    def _session(self, body: dict) -> Session:
        return Session(Actor(body["a"], body["s"]), body["sid"], body["iat"], body["exp"],
                       self._csrf_for(f"session:{body['sid']}"))

    # -- CSRF --------------------------------------------------------------------------------------
    def csrf_ok(self, session: Session, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(session.csrf, given)

    def login_nonce(self) -> str:
        return secrets.token_urlsafe(16)

    def login_csrf(self, nonce: str) -> str:
        return self._csrf_for(f"login:{nonce}")

    def login_csrf_ok(self, nonce: str | None, given: str | None) -> bool:
        return bool(nonce) and bool(given) and hmac.compare_digest(self.login_csrf(nonce), given)
