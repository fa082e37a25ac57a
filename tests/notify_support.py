"""Helpers shared by the notification tests: a real webhook receiver and a reader for the `GET /events` SSE stream.

- `Receiver`: an HTTP server on 127.0.0.1 that records every POST (headers, body) and answers scripted statuses
  (`answer` changes the one it gives once the script is done).
- `Stream`: an open SSE response read one item at a time; `open_events(...)` opens one on a base URL.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import httpx

STREAM_WAIT_S = 10.0  # the longest a stream read waits by default
DELIVERY_WAIT_S = 15.0  # the longest `Receiver.wait_for` waits by default


# ---- a real webhook receiver ----------------------------------------------------------------

class Receiver:
    """A ThreadingHTTPServer on 127.0.0.1 that records each POST and answers the next scripted status.

    `statuses` are answered in turn, then `default`; `requests` holds (headers, body) per POST, in order.
    Usable as a context manager (closed on exit).
    """

    def __init__(self, statuses: list[int] | None = None, default: int = 200):
        self.statuses = list(statuses or [])
        self.default = default
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Condition()  # guards `requests`/`statuses`; notified on each arrival
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers.items()), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                    receiver.lock.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def answer(self, status: int) -> None:
        """From now on (after any scripted statuses left), answer `status`."""
        with self.lock:
            self.default = status

    def bodies(self) -> list[dict]:
        """The JSON bodies received so far, in order."""
        with self.lock:
            return [json.loads(body) for _, body in self.requests]

    def wait_for(self, event_type: str, timeout: float = DELIVERY_WAIT_S, *,
                 after: int = 0) -> tuple[dict[str, str], bytes]:
        """The first delivery whose `X-Neira-Event` is `event_type` (among the requests from the `after`th on),
        waiting up to `timeout` s for it."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for headers, body in self.requests[after:]:
                    if headers.get("X-Neira-Event") == event_type:
                        return headers, body
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {event_type} delivery in {timeout} s; got {len(self.requests)} others")
                self.lock.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---- an SSE reader --------------------------------------------------------------------------

class Stream:
    """An open SSE response, read one item at a time: events as dicts, comments as {'comment': ...}.

    Iterating it yields the events (comments and `retry:` skipped) until the server ends the stream.
    """

    def __init__(self, response: httpx.Response):
        self.response = response
        self._lines = response.iter_lines()

    def _read(self, deadline: float | None) -> dict | None:
        """The next complete item, or None when the stream ends (or `deadline` passes first)."""
        fields: dict = {}
        for line in self._lines:
            if line.startswith(":"):
                fields.setdefault("comment", line[1:].strip())
            elif line:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                fields[name] = f"{fields[name]}\n{value}" if name == "data" and name in fields else value
            elif fields:
                if "data" in fields:
                    fields["data"] = json.loads(fields["data"])
                return fields
            if deadline is not None and time.monotonic() > deadline:
                break
        return None

    def next(self, timeout: float = STREAM_WAIT_S) -> dict:
        item = self._read(time.monotonic() + timeout)
        if item is None:
            raise AssertionError(f"nothing complete on the stream within {timeout} s (or it ended)")
        return item

    def next_event(self, timeout: float = STREAM_WAIT_S) -> dict:
        """The next item that is an event (comments and `retry:` skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            item = self.next(max(0.0, deadline - time.monotonic()))
            if "event" in item:
                return item

    def __iter__(self) -> Iterator[dict]:
        """The events until the server ends the stream (a quiet stream fails on the response's read timeout)."""
        while (item := self._read(None)) is not None:
            if "event" in item:
                yield item

    def next_of(self, event_type: str) -> dict:
        """The next event of `event_type` (other events skipped); fails if the stream ends first."""
        for event in self:
            if event["event"] == event_type:
                return event
        raise AssertionError(f"the stream ended before a {event_type} event")

    def ended(self, timeout: float = STREAM_WAIT_S) -> bool:
        """Whether the server ends the stream within `timeout` (items before the end are skipped)."""
        deadline = time.monotonic() + timeout
        for _ in self._lines:
            if time.monotonic() > deadline:
                return False
        return True


@contextmanager
def open_events(base_url: str, headers: dict[str, str], params: dict | None = None, *, ready: bool = True,
                read_timeout: float = STREAM_WAIT_S) -> Iterator[Stream]:
    """`GET /events` on `base_url` as a Stream; with `ready`, after the server's first item (`retry: 3000`),
    i.e. once the subscription is in place. A read timeout makes a stream that goes quiet fail the test
    instead of hanging it."""
    timeout = httpx.Timeout(10.0, read=read_timeout)
    with httpx.Client(base_url=base_url, timeout=timeout) as client, \
            client.stream("GET", "/events", params=params, headers=headers) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        s = Stream(r)
        if ready:
            assert next(s._lines, None) == "retry: 3000" and next(s._lines, None) == ""
        yield s
