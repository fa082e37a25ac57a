"""Admin UI sessions and CSRF tokens, signed with a server secret (stateless: nothing is stored).

A session is a cookie `neira_session` holding `{a: actor, s: scope, t: token fingerprint, sid, iat, exp}`
as base64url JSON plus an HMAC-SHA256 signature. The token the user signed in with is not kept: the
cookie holds its fingerprint (HMAC of the token's SHA-256 under a key derived from the secret, see
`TokenRegistry.fingerprint`), which cannot be turned back into the token. On every request the
fingerprint is looked up in the same TokenRegistry the API uses: a session whose token is no longer
known (revoked), or now belongs to another actor or scope, has ended, so the UI never grants more than
the token would through the API. Every action still goes through the services, so the PolicyEngine
decides as for the API.

The CSRF token of a session is HMAC(secret, sid): it is put into a hidden field of every POST form (and
an `X-CSRF-Token` header for the page's fetch calls) and compared on every POST. The sign-in form,
which has no session yet, is protected the same way with a short-lived random `neira_login` cookie.

The secret is the `ui_secret` setting (`NEIRA_UI_SECRET`; replicas behind one name share it), else
`<var>/ui-secret`, generated on first use (mode 0600) like the generated admin token. Changing or
deleting the secret ends every session.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass

from ...config import MIN_UI_SECRET_LEN, Settings
from ...config.secret_file import generated_secret
from ...config.tokens import TokenRegistry
from ...domain.actors import SCOPES, Actor

SESSION_COOKIE = "neira_session"
LOGIN_COOKIE = "neira_login"
LANG_COOKIE = "neira_lang"
FLASH_COOKIE = "neira_flash"
COOKIE_PATH = "/admin"
SESSION_TTL_S = 8 * 3600  # absolute lifetime of a session
LOGIN_TTL_S = 3600  # how long a sign-in form stays valid
SECRET_FILE = "ui-secret"


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


@dataclass(frozen=True)
class _Keys:
    session: bytes  # signs the cookies
    csrf: bytes  # derives CSRF tokens
    token: bytes  # fingerprints the tokens


class SessionSigner:
    """Signs and checks session cookies and CSRF tokens with one server secret (loaded lazily), and ends
    a session as soon as `tokens` no longer know its token as the same actor and scope."""

    def __init__(self, settings: Settings, tokens: TokenRegistry):
        self._given = settings.ui_secret
        self._path = settings.var_dir / SECRET_FILE
        self._tokens = tokens
        self._lock = threading.Lock()
        self._keys: _Keys | None = None
        self._ended: dict[str, int] = {}  # sids signed out on this replica -> their expiry

    # -- the secret ----------------------------------------------------------------------------
    def _load(self) -> _Keys:
        with self._lock:
            if self._keys is None:
                secret = self._secret()

                def derive(purpose: bytes) -> bytes:
                    return hmac.new(secret, purpose, hashlib.sha256).digest()

                self._keys = _Keys(session=derive(b"neira-ui session v1"), csrf=derive(b"neira-ui csrf v1"),
                                   token=derive(b"neira-ui token v1"))
            return self._keys

    def _secret(self) -> bytes:
        if self._given:  # its length is checked by Settings
            return self._given.encode()
        secret = generated_secret(self._path)
        if len(secret) < MIN_UI_SECRET_LEN:
            raise ValueError(f"{self._path}: the UI secret is too short; delete the file to generate a new one")
        return secret.encode()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._load().session, payload.encode(), hashlib.sha256).digest())

    def _csrf_for(self, value: str) -> str:
        return _b64(hmac.new(self._load().csrf, value.encode(), hashlib.sha256).digest())

    # -- sessions ------------------------------------------------------------------------------
    def sign_in(self, token: str, now: float | None = None) -> tuple[str, Session] | None:
        """A new session for the actor of `token`: (cookie value, session), or None for an unknown token."""
        actor = self._tokens.actor_for(token)
        if actor is None:
            return None
        issued = int(now if now is not None else time.time())
        body = {"a": actor.name, "s": actor.scope, "t": self._tokens.fingerprint(token, self._load().token),
                "sid": secrets.token_urlsafe(16), "iat": issued, "exp": issued + SESSION_TTL_S}
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}", self._session(body)

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie stands for, or None (missing, forged, expired, signed out, or its token
        revoked or given another actor or scope since)."""
        if not cookie or cookie.count(".") != 1 or len(cookie) > 4096:
            return None
        payload, signature = cookie.split(".")
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            body = json.loads(_unb64(payload))
            if not isinstance(body, dict) or body.get("s") not in SCOPES or not isinstance(body.get("a"), str) \
                    or not isinstance(body.get("t"), str) or not isinstance(body.get("sid"), str) \
                    or not isinstance(body.get("exp"), int) or not isinstance(body.get("iat"), int):
                return None
        except (ValueError, UnicodeDecodeError):
            return None
        current = now if now is not None else time.time()
        if body["exp"] <= current or body["sid"] in self._ended:
            return None
        if self._tokens.actor_for_fingerprint(body["t"], self._load().token) != Actor(body["a"], body["s"]):
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
