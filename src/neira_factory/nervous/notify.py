"""The optional webhook: the cluster's events POSTed as signed JSON to NEIRA_NOTIFY_WEBHOOK_URL, in id order, at
least once, by one replica at a time.

A durable cursor, the `webhook_cursor` row, says how far the event log is delivered (or given up). The replica
that holds its lease (LEASE_S, renewed every third of it, between the retries of a slow delivery too) delivers
for the cluster; the others look every STANDBY_S whether the lease is free or has run out. The holder reads
the log above the cursor up to what its tail has published (there the ids are final and in order), POSTs each
event and then advances the cursor; the bus's events wake it. A webhook's row starts at the log's end, so a
first configuration delivers no history. `stop()` delivers for a few seconds at most, then releases the lease.

A holder killed between a POST and the advance leaves that event to the next holder, which delivers it again:
receivers drop duplicates by X-Neira-Delivery, derived from the event (`delivery_id`), so the same for every
attempt from every replica. Each delivery is `{id, type, resource, data, ts}` (the id is the event log's, as
on /events) with the headers

    Content-Type: application/json
    X-Neira-Event: <type>
    X-Neira-Delivery: <uuid5 of the event's id and ts: the same for every attempt, from every replica>
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
import queue
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.exc import SQLAlchemyError

from ..config import Settings
from ..config.secret_file import generated_secret
from ..domain.events import Event
from .events import CLOSED
from .tail import EventTail

log = logging.getLogger(__name__)

SECRET_FILE = "webhook-secret"
SIGNATURE_PREFIX = "sha256="
STOP_DEADLINE_S = 5.0  # how long stop() keeps delivering what is pending
USER_AGENT = "neira-factory-webhook"
CURSOR = "webhook"  # the webhook_cursor row
LEASE_S = 15.0  # how long a holder's delivery lease lasts; renewed every third of it
STANDBY_S = 1.0  # how often a replica without the lease looks whether it is free
BATCH = 100  # events read from the log at a time
RETRY_S = 1.0  # after the database failed: wait this long before trying again
DELIVERY_NAMESPACE = uuid.UUID("967ba0fe-2eae-4d8a-9321-a52ca162715b")  # of X-Neira-Delivery (never change it)


def delivery_id(event_id: int, event: Event) -> str:
    """X-Neira-Delivery for this event: the same for every attempt, from every replica."""
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{event_id}:{event.ts!r}"))


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
    created = not path.exists()
    secret = generated_secret(path, 32)
    if not secret:
        raise ValueError(f"{path} is empty: delete it to generate a new webhook secret, "
                         "or set NEIRA_NOTIFY_WEBHOOK_SECRET")
    if created:
        log.warning("webhook deliveries are signed with a generated secret; give the receiver the secret in %s "
                    "(or set NEIRA_NOTIFY_WEBHOOK_SECRET)", path)
    return secret


def _where(url: str) -> str:
    """The URL without credentials, query or fragment, for logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"


class WebhookNotifier:
    """Delivers the cluster's event log to one webhook URL from a daemon thread while this replica (`replica`)
    holds the delivery lease; `start()`, then `stop()` at shutdown. `tail` is this replica's event tail: its
    database holds the log and the cursor, its bus says how far the log is final and wakes the thread."""

    def __init__(self, url: str, secret: str, tail: EventTail, metrics_counter: Any, *, replica: str,
                 attempts: int = 5, backoff_s: float = 0.5, timeout_s: float = 5.0,
                 stop_deadline_s: float = STOP_DEADLINE_S, lease_s: float = LEASE_S, standby_s: float = STANDBY_S):
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ValueError(f"the webhook URL must be an http:// or https:// URL, got {_where(url)!r}")
        if not secret:
            raise ValueError("the webhook secret must not be empty")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if lease_s <= timeout_s:
            raise ValueError("the lease must last longer than one attempt (lease_s > timeout_s)")
        self.url = url
        self._secret = secret
        self.db = tail.db
        self.bus = tail.bus
        self.replica = replica
        self.counter = metrics_counter
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.stop_deadline_s = stop_deadline_s
        self.lease_s = lease_s
        self.standby_s = standby_s
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._deadline: float | None = None  # monotonic; set by stop()
        self._upto: int | None = None  # the cursor while this replica holds the lease, else None
        self._held_until = 0.0  # monotonic: when the lease runs out at the earliest
        self._renew_at = 0.0  # monotonic: when to renew the lease (or, without it, look whether it is free)

    @classmethod
    def from_settings(cls, settings: Settings, tail: EventTail, metrics_counter: Any, **options: Any
                      ) -> WebhookNotifier | None:
        """A notifier for NEIRA_NOTIFY_WEBHOOK_URL on this replica, or None when it is not set."""
        if not settings.notify_webhook_url:
            return None
        return cls(settings.notify_webhook_url, webhook_secret(settings), tail, metrics_counter,
                   replica=settings.replica, **options)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Subscribe to the bus, take the lease if it is free (creating the cursor: the events committed from
        now on are delivered), and start the thread."""
        if self._thread is not None:
            raise RuntimeError("the notifier is already started")
        self._stopping.clear()
        self._deadline = None
        self._queue = self.bus.subscribe()
        self._renew_at = 0.0
        self._hold()
        self._thread = threading.Thread(target=self._run, name="neira-webhook", daemon=True)
        self._thread.start()
        log.info("webhook notifications go to %s", _where(self.url))

    def stop(self, deadline_s: float | None = None) -> None:
        """Deliver what is pending (for at most `deadline_s`, default stop_deadline_s), release the lease and
        end the thread. What is left stays above the cursor for the next holder."""
        if self._thread is None:
            return
        budget = self.stop_deadline_s if deadline_s is None else deadline_s
        self._deadline = time.monotonic() + budget
        self._stopping.set()
        self._wake()
        # a request already in flight may take up to timeout_s past the deadline
        self._thread.join(budget + self.timeout_s + 1.0)
        if self._thread.is_alive():
            log.warning("the webhook thread did not end in time; it is a daemon and ends with the process")
        self.bus.unsubscribe(self._queue)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def holding(self) -> bool:
        """Whether this replica holds the delivery lease (as of its last take or renewal)."""
        return self._upto is not None

    # -- the lease --------------------------------------------------------------------------
    def _hold(self) -> bool:
        """Whether this replica holds the lease with time left for one more attempt; takes or renews it when
        due. A renewal that fails (the database is away) keeps the lease it has until that runs out. A
        stopping notifier takes no lease it does not hold."""
        if time.monotonic() >= self._renew_at and not (self._stopping.is_set() and self._upto is None):
            started = time.monotonic()
            try:
                with self.db.unit_of_work() as uow:
                    upto = uow.webhook_cursor.take(CURSOR, self.replica, self.lease_s)
            except SQLAlchemyError as exc:
                log.warning("webhook: the delivery lease cannot be taken or renewed: %s", exc)
                self._renew_at = time.monotonic() + min(RETRY_S, self.standby_s)
            else:
                self._took(upto, started)
        return self._upto is not None and time.monotonic() + self.timeout_s < self._held_until

    def _took(self, upto: int | None, started: float) -> None:
        if upto is None:
            if self._upto is not None:
                log.warning("webhook: another replica took the delivery lease; this one stops delivering")
            self._upto = None
            self._renew_at = started + min(self.standby_s, self.lease_s / 3)
            return
        if self._upto is None:
            log.info("webhook: this replica delivers for the cluster, from event %s on", upto + 1)
        self._upto = upto
        self._held_until = started + self.lease_s
        self._renew_at = started + self.lease_s / 3

    def _advance(self, event_id: int) -> bool:
        """Move the cursor past `event_id` (delivered or given up); False when the lease was lost meanwhile."""
        with self.db.unit_of_work() as uow:
            kept = uow.webhook_cursor.advance(CURSOR, self.replica, event_id)
        if not kept:
            log.warning("webhook: another replica took the delivery lease; event %s may be delivered twice",
                        event_id)
            self._upto = None
            return False
        self._upto = event_id
        return True

    def _release(self) -> None:
        if self._upto is None:
            return
        try:
            with self.db.unit_of_work() as uow:
                uow.webhook_cursor.release(CURSOR, self.replica)
        except SQLAlchemyError as exc:
            log.warning("webhook: the delivery lease cannot be released (another replica takes it when it runs "
                        "out): %s", exc)
        self._upto = None

    # -- the delivery thread ----------------------------------------------------------------
    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s, follow_redirects=False,
                          headers={"User-Agent": USER_AGENT}) as client:
            while True:
                try:
                    more = self._hold() and self._deliver_batch(client)
                except Exception:  # the database went away: the thread must outlive it
                    log.exception("webhook: the event log or the delivery cursor cannot be read or written")
                    more = False
                if self._stopping.is_set() and (not more or self._past_deadline()):
                    break
                if not more:
                    self._wait()
            self._release()

    def _deliver_batch(self, client: httpx.Client) -> bool:
        """Deliver the next events above the cursor that this replica's tail has published; True when every
        event read was settled (delivered or given up), so there may be more."""
        assert self._upto is not None
        final = self.bus.last_id  # below it the log's ids are final, in order, gaps resolved
        if final <= self._upto:
            return False
        with self.db.unit_of_work(write=False) as uow:
            rows = [row for row in uow.event_log.after(self._upto, BATCH) if row[0] <= final]
        for event_id, event, _ in rows:
            try:
                settled = self.deliver(client, event_id, event)
            except Exception:  # one bad event must not end the notifier
                log.exception("webhook delivery of event %s failed unexpectedly", event_id)
                self.counter.labels("failed").inc()
                settled = True
            if not settled or not self._advance(event_id):
                return False
        return bool(rows)

    def _wait(self) -> None:
        """Until the bus brings events (or stop() wakes it), at most until the lease is due."""
        assert self._queue is not None
        try:
            self._queue.get(timeout=max(0.0, self._renew_at - time.monotonic()))
        except queue.Empty:
            return
        while True:  # one wake-up for everything that came meanwhile
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def _wake(self) -> None:
        try:
            self._queue.put_nowait(CLOSED)
        except queue.Full:  # a full queue wakes the thread anyway
            pass

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def body(self, event_id: int, event: Event) -> bytes:
        document = {"id": event_id, **event.to_dict()}
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str).encode()

    def deliver(self, client: httpx.Client, event_id: int, event: Event) -> bool:
        """POST one event, retrying as described above; True when it is settled (delivered, or given up),
        False when shutdown's deadline or the loss of the lease cut it off (it stays for the next holder)."""
        body = self.body(event_id, event)
        delivery = delivery_id(event_id, event)
        problem = ""
        for attempt in range(self.attempts):
            if attempt:
                self.counter.labels("retried").inc()
                if not self._sleep(self.backoff_s * 2 ** (attempt - 1)):
                    return self._cut_off(event_id, event)
            if self._past_deadline() or not self._hold():
                return self._cut_off(event_id, event)
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
        return True

    def _cut_off(self, event_id: int, event: Event) -> bool:
        why = "the factory is shutting down" if self._stopping.is_set() else "this replica lost the delivery lease"
        log.warning("webhook: event %s (%s) not delivered yet: %s; it is delivered by the next holder of the "
                    "lease", event_id, event.type, why)
        return False

    def _timeout(self) -> float:
        if self._deadline is None:
            return self.timeout_s
        return max(0.1, min(self.timeout_s, self._deadline - time.monotonic()))

    def _sleep(self, seconds: float) -> bool:
        """Wait before a retry, renewing the lease meanwhile; False when stop()'s deadline comes first (no
        time left to retry) or the lease is lost."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self._deadline is not None and end > self._deadline:
                return False
            if not self._hold():
                return False
            step = min(left, max(0.0, self._renew_at - time.monotonic()))
            if self._stopping.is_set():
                time.sleep(step)
            else:
                self._stopping.wait(step)  # stop() wakes this to re-check against its deadline
        return True
