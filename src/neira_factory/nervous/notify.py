"""The optional webhook: every event POSTed as signed JSON to NEIRA_NOTIFY_WEBHOOK_URL, once for the cluster.

Every replica's bus carries every replica's events (nervous/tail.py); each replica's notifier delivers only
the events that replica made (the event log's `replica`), so each event is delivered by exactly one
replica. A daemon thread reads the bus and delivers events one at a time, in order. Each delivery is
`{id, type, resource, data, ts}` (the id is the event log's, as on /events) with the headers

    Content-Type: application/json
    X-Neira-Event: <type>
    X-Neira-Delivery: <uuid4, the same for every attempt of one event>
    X-Neira-Timestamp: <unix seconds of this attempt>
    X-Neira-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

Connection errors, timeouts, 5xx and 429 are retried with exponential backoff
(backoff_s * 2**attempt) up to `attempts` tries; any other non-2xx answer is final. Outcomes are
counted in notify_deliveries_total{outcome}: delivered (per event), retried (per retry),
failed (per event given up). A receiver checks a delivery with `verify_signature`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import queue
import secrets
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..config import Settings
from ..domain.events import Event
from .events import CLOSED, EventBus

log = logging.getLogger(__name__)

SECRET_FILE = "webhook-secret"
SIGNATURE_PREFIX = "sha256="
STOP_DEADLINE_S = 5.0  # how long stop() keeps delivering what is queued
USER_AGENT = "neira-factory-webhook"


def sign(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """The X-Neira-Signature value for `body` sent at `timestamp`: `sha256=<hex>`."""
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(secret: str, timestamp: int | str, body: bytes | str, header: str | None, *,
                     max_age_s: float | None = None, now: float | None = None) -> bool:
    """Whether `header` (X-Neira-Signature) signs `body` at `timestamp` (X-Neira-Timestamp) with `secret`.

    The comparison takes constant time. With `max_age_s`, a timestamp further than that from
    `now` (default: the current time) is refused too, so a captured delivery cannot be replayed later.
    """
    if not header or not secret:
        return False
    if max_age_s is not None:
        try:
            age = abs((time.time() if now is None else now) - int(timestamp))
        except (TypeError, ValueError):
            return False
        if age > max_age_s:
            return False
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), header.strip().encode())


def webhook_secret(settings: Settings) -> str:
    """NEIRA_NOTIFY_WEBHOOK_SECRET, or else a secret generated once into `<var>/webhook-secret` (0600)."""
    if settings.notify_webhook_secret:
        return settings.notify_webhook_secret
    path = settings.var_dir / SECRET_FILE
    secret, created = _ensure_secret(path)
    if created:
        log.warning("webhook deliveries are signed with a generated secret; give the receiver the secret in %s "
                    "(or set NEIRA_NOTIFY_WEBHOOK_SECRET)", path)
    return secret


def _ensure_secret(path: Path) -> tuple[str, bool]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it meanwhile: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secret + "\n")
            return secret, True
    secret = path.read_text().strip()
    if not secret:
        raise ValueError(f"{path} is empty: delete it to generate a new webhook secret, "
                         "or set NEIRA_NOTIFY_WEBHOOK_SECRET")
    return secret, False


def _where(url: str) -> str:
    """The URL without credentials, query or fragment, for logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"


class WebhookNotifier:
    """Delivers bus events to one webhook URL from a daemon thread; `start()`, then `stop()` at shutdown.
    With `replica`, only the events that replica made (None: every event on the bus)."""

    def __init__(self, url: str, secret: str, bus: EventBus, metrics_counter: Any, *, replica: str | None = None,
                 attempts: int = 5, backoff_s: float = 0.5, timeout_s: float = 5.0,
                 stop_deadline_s: float = STOP_DEADLINE_S):
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ValueError(f"the webhook URL must be an http:// or https:// URL, got {_where(url)!r}")
        if not secret:
            raise ValueError("the webhook secret must not be empty")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.url = url
        self._secret = secret
        self.bus = bus
        self.replica = replica
        self.counter = metrics_counter
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.stop_deadline_s = stop_deadline_s
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._deadline: float | None = None  # monotonic; set by stop()

    @classmethod
    def from_settings(cls, settings: Settings, bus: EventBus, metrics_counter: Any, **options: Any
                      ) -> WebhookNotifier | None:
        """A notifier for NEIRA_NOTIFY_WEBHOOK_URL of the events this replica makes, or None when it is not set."""
        if not settings.notify_webhook_url:
            return None
        return cls(settings.notify_webhook_url, webhook_secret(settings), bus, metrics_counter,
                   replica=settings.replica, **options)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the notifier is already started")
        self._stopping.clear()
        self._deadline = None
        self._queue = self.bus.subscribe(self.replica)
        self._thread = threading.Thread(target=self._run, name="neira-webhook", daemon=True)
        self._thread.start()
        log.info("webhook notifications go to %s", _where(self.url))

    def stop(self, deadline_s: float | None = None) -> None:
        """Deliver what is queued (for at most `deadline_s`, default stop_deadline_s), then end the thread."""
        if self._thread is None:
            return
        budget = self.stop_deadline_s if deadline_s is None else deadline_s
        self._deadline = time.monotonic() + budget
        self._stopping.set()
        # a request already in flight may take up to timeout_s past the deadline
        self._thread.join(budget + self.timeout_s + 1.0)
        if self._thread.is_alive():
            log.warning("the webhook thread did not end in time; it is a daemon and ends with the process")
        self.bus.unsubscribe(self._queue)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the delivery thread ----------------------------------------------------------------
    def _run(self) -> None:
        assert self._queue is not None
        with httpx.Client(timeout=self.timeout_s, follow_redirects=False,
                          headers={"User-Agent": USER_AGENT}) as client:
            while True:
                try:
                    item = self._queue.get(timeout=0.1)
                except queue.Empty:
                    if self._stopping.is_set():
                        return
                    continue
                if item is CLOSED:  # the bus closing ends streams; deliveries go on until stop()
                    continue
                if self._past_deadline():
                    self._abandon(item)
                    continue
                event_id, event = item
                try:
                    self.deliver(client, event_id, event)
                except Exception:  # one bad event must not end the notifier
                    log.exception("webhook delivery of event %s failed unexpectedly", event_id)
                    self.counter.labels("failed").inc()

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _abandon(self, item: tuple[int, Event]) -> None:
        log.warning("webhook: event %s (%s) not delivered: the factory is shutting down", item[0], item[1].type)
        self.counter.labels("failed").inc()

    def body(self, event_id: int, event: Event) -> bytes:
        document = {"id": event_id, **event.to_dict()}
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str).encode()

    def deliver(self, client: httpx.Client, event_id: int, event: Event) -> bool:
        """POST one event, retrying as described above; True when the receiver accepted it."""
        body = self.body(event_id, event)
        delivery = str(uuid.uuid4())
        problem = ""
        for attempt in range(self.attempts):
            if attempt:
                self.counter.labels("retried").inc()
                if not self._sleep(self.backoff_s * 2 ** (attempt - 1)):
                    problem += "; gave up at shutdown"
                    break
            timestamp = int(time.time())
            headers = {"Content-Type": "application/json", "X-Neira-Event": event.type,
                       "X-Neira-Delivery": delivery, "X-Neira-Timestamp": str(timestamp),
                       "X-Neira-Signature": sign(self._secret, timestamp, body)}
            try:
                response = client.post(self.url, content=body, headers=headers, timeout=self._timeout())
            except httpx.HTTPError as exc:  # connection refused, timeout, protocol error: worth a retry
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if 200 <= response.status_code < 300:
                self.counter.labels("delivered").inc()
                return True
            problem = f"HTTP {response.status_code}"
            if not (response.status_code >= 500 or response.status_code == 429):
                break
        log.warning("webhook: event %s (%s) not delivered to %s: %s", event_id, event.type, _where(self.url),
                    problem)
        self.counter.labels("failed").inc()  # after the log: whoever waits on the count sees the reason
        return False

    def _timeout(self) -> float:
        if self._deadline is None:
            return self.timeout_s
        return max(0.1, min(self.timeout_s, self._deadline - time.monotonic()))

    def _sleep(self, seconds: float) -> bool:
        """Wait before a retry; False when stop()'s deadline comes first (no time left to retry)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self._deadline is not None and end > self._deadline:
                return False
            if self._stopping.is_set():
                time.sleep(left)
            else:
                self._stopping.wait(left)  # stop() wakes this to re-check against its deadline
        return True
