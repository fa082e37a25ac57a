"""`GET /events` over a real uvicorn server (in a thread): auth, live events, replay, filters, heartbeat, ends."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from neira_factory.api.app import create_app
from neira_factory.services.bootstrap import Services, build_services
from neira_factory.config.tokens import TokenRegistry

from notify_support import Stream, open_events
from support import auth, make_settings

NODE = "analysis.reverse.v7"
TEMPLATE = {"id": NODE, "version": "0.7.0", "analysis_type": "reverse"}
WAIT_S = 10.0  # the longest any test waits for something on a stream
# the writes these tests make; the supervisor's analysis.verdict for the new canary may come between them
WRITES = {"types": "node.,capability."}


@dataclass
class Live:
    url: str
    factory: Services

    def client(self, scope: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=auth(scope) if scope else {}, timeout=10.0)


@pytest.fixture
def live(factory) -> Iterator[Live]:
    """The real app under uvicorn on a free loopback port, in a background thread."""
    with serving(factory) as server:
        yield server


@contextmanager
def serving(factory: Services) -> Iterator[Live]:
    """`factory`'s app under uvicorn on a free loopback port, in a background thread, while the block runs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(factory, TokenRegistry.load(factory.settings))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield Live(f"http://127.0.0.1:{port}", factory)
    finally:
        server.should_exit = True
        thread.join(WAIT_S)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


def stream(live: Live, scope: str = "read", *, params: dict | None = None, headers: dict | None = None,
           ready: bool = True) -> AbstractContextManager[Stream]:
    """`GET /events` as `scope`; with `ready`, after the server's first item (the subscription is in place)."""
    return open_events(live.url, {**auth(scope), **(headers or {})}, params, ready=ready, read_timeout=WAIT_S)


def create_and_approve(live: Live) -> None:
    writer = live.client("write")
    r = writer.post("/factory/nodes", json={"template": TEMPLATE, "reason": "events test"})
    assert r.status_code == 201, r.text
    r = writer.post(f"/factory/nodes/{NODE}/approve", json={"reason": "clean"})
    assert r.status_code == 200 and r.json()["state"] == "canary", r.text


def set_capability(live: Live, name: str, state: str) -> None:
    r = live.client("admin").put(f"/capabilities/{name}", json={"state": state, "reason": "events test"})
    assert r.status_code == 200, r.text


# ---- who may listen -------------------------------------------------------------------------

def test_a_token_is_needed(live):
    with live.client() as c:
        r = c.get("/events")
        assert r.status_code == 401 and r.json()["code"] == "unauthorized", r.text
        assert r.headers["content-type"].startswith("application/json")
        r = c.get("/events", headers={"Authorization": "Bearer not-a-token"})
        assert r.status_code == 401, r.text


@pytest.mark.parametrize("scope", ["read", "write", "admin"])
def test_every_scope_may_read_the_stream_also_in_safe_mode(live, scope):
    r = live.client("admin").post("/immune/safe-mode", json={"on": True, "reason": "events test"})
    assert r.status_code == 200, r.text
    with stream(live, scope, ready=False) as s:
        assert s.response.headers["content-type"].startswith("text/event-stream")
        assert s.response.headers["cache-control"] == "no-cache"
        assert s.next() == {"retry": "3000"}


# ---- what it says -----------------------------------------------------------------------------

def test_node_creation_and_approval_stream_as_events(live):
    with stream(live) as s:
        create_and_approve(live)
        created = s.next_event()
        moved = s.next_event()
    assert created["event"] == "node.created" and created["data"]["type"] == "node.created"
    assert created["data"]["resource"] == NODE
    assert created["data"]["data"] == {"state": "draft", "route": "analysis.reverse", "actor": "writer"}
    assert moved["event"] == "node.transition" and moved["data"]["resource"] == NODE
    assert (moved["data"]["data"]["from"], moved["data"]["data"]["to"]) == ("draft", "canary")
    for item in (created, moved):
        assert set(item["data"]) == {"id", "type", "resource", "data", "ts"}
        assert item["data"]["id"] == int(item["id"])
        assert isinstance(item["data"]["ts"], float)
    assert int(moved["id"]) > int(created["id"])


def test_last_event_id_replays_what_was_missed(live):
    with stream(live) as s:
        set_capability(live, "factory_script", "experimental")
        seen = s.next_event()
    # while nobody listens
    create_and_approve(live)
    set_capability(live, "factory_script", "locked")
    with stream(live, params=WRITES, headers={"Last-Event-ID": seen["id"]}) as s:
        missed = [s.next_event() for _ in range(3)]
        set_capability(live, "factory_script", "experimental")  # and then it follows live
        after = s.next_event()
    assert [m["event"] for m in missed] == ["node.created", "node.transition", "capability.changed"]
    ids = [int(m["id"]) for m in missed] + [int(after["id"])]
    assert int(seen["id"]) < ids[0] < ids[1] < ids[2] < ids[3]
    assert after["event"] == "capability.changed" and after["data"]["data"]["to"] == "experimental"

    # the query parameter does the same; the header wins over it
    with stream(live, params={**WRITES, "last_event_id": ids[1]}) as s:
        assert [int(s.next_event()["id"]) for _ in range(2)] == ids[2:]
    with stream(live, params={**WRITES, "last_event_id": 0}, headers={"Last-Event-ID": str(ids[2])}) as s:
        assert int(s.next_event()["id"]) == ids[3]


def test_a_client_resumes_on_another_replica_and_follows_its_writes_there(live, tmp_path):
    with stream(live) as s:
        set_capability(live, "factory_script", "experimental")
        seen = s.next_event()
    create_and_approve(live)  # while the client is away, and before the other replica even started
    set_capability(live, "factory_script", "locked")
    other = build_services(make_settings(tmp_path, live.factory.settings.database_url, replica="replica-b"))
    try:
        with serving(other) as b, stream(b, params=WRITES, headers={"Last-Event-ID": seen["id"]}) as s:
            missed = [s.next_event() for _ in range(3)]  # from the event log: b has published none of them
            set_capability(live, "factory_script", "experimental")  # made on the first replica ...
            after = s.next_event()  # ... followed live on the other
    finally:
        other.db.dispose()
    assert [m["event"] for m in missed] == ["node.created", "node.transition", "capability.changed"]
    ids = [int(m["id"]) for m in missed] + [int(after["id"])]
    assert int(seen["id"]) < ids[0] < ids[1] < ids[2] < ids[3]
    assert after["event"] == "capability.changed" and after["data"]["data"]["to"] == "experimental"
    assert ids[-1] in [i for i, *_ in live.factory.bus.recent]  # the same id on both replicas


def test_a_replay_says_which_events_are_no_longer_kept(live, monkeypatch):
    monkeypatch.setattr("neira_factory.nervous.events.REPLAY", 2)
    monkeypatch.setattr(live.factory.bus, "recent", type(live.factory.bus.recent)(maxlen=1))
    for state in ("experimental", "locked", "experimental"):
        set_capability(live, "factory_script", state)
    last = live.factory.bus.last_id
    with stream(live, params={"last_event_id": last - 3}) as s:
        assert s.next() == {"comment": f"events {last - 2}..{last - 2} are no longer kept"}
        assert [int(s.next_event()["id"]) for _ in range(2)] == [last - 1, last]


@pytest.mark.parametrize("ahead", [1000, 2 ** 70])  # e.g. from before the database was reset; beyond BIGINT
def test_an_id_the_event_log_never_gave_gets_the_new_events(live, ahead):
    set_capability(live, "factory_script", "experimental")
    unknown = live.factory.bus.last_id + ahead
    with stream(live, headers={"Last-Event-ID": str(unknown)}) as s:
        assert s.next()["comment"].startswith(f"event {unknown} is not in the event log")
        set_capability(live, "factory_script", "locked")
        event = s.next_event()
    assert int(event["id"]) == live.factory.bus.last_id < unknown


def test_without_last_event_id_only_new_events_come(live):
    set_capability(live, "factory_script", "experimental")
    with stream(live) as s:
        set_capability(live, "factory_script", "locked")
        event = s.next_event()
    assert event["data"]["data"] == {"from": "experimental", "to": "locked", "actor": "admin"}


def test_types_filters_by_prefix_live_and_in_the_replay(live):
    create_and_approve(live)  # node.* events: filtered out of the replay below
    with stream(live, params={"types": "capability.,safe_mode.", "last_event_id": 0}) as s:
        set_capability(live, "factory_script", "experimental")
        r = live.client("write").post("/factory/nodes", json={"template": {**TEMPLATE, "id": "analysis.reverse.v8"}})
        assert r.status_code == 201, r.text
        r = live.client("admin").post("/immune/safe-mode", json={"on": True})
        assert r.status_code == 200, r.text
        got = [s.next_event()["event"] for _ in range(2)]
    assert got == ["capability.changed", "safe_mode.changed"]

    with stream(live, params={"types": " node.transition , ", "last_event_id": 0}) as s:
        assert s.next_event()["event"] == "node.transition"


def test_heartbeat_comments_while_idle(live):
    with stream(live, params={"heartbeat": 0.05}) as s:
        assert s.next(timeout=5) == {"comment": "keep-alive"}
        assert s.next(timeout=5) == {"comment": "keep-alive"}


@pytest.mark.parametrize("params,headers,field", [
    ({"heartbeat": 0}, {}, "query.heartbeat"),
    ({"heartbeat": 0.01}, {}, "query.heartbeat"),
    ({"heartbeat": 61}, {}, "query.heartbeat"),
    ({"heartbeat": "soon"}, {}, "query.heartbeat"),
    ({"heartbeat": "nan"}, {}, "query.heartbeat"),
    ({"last_event_id": -1}, {}, "query.last_event_id"),
    ({"types": "x" * 501}, {}, "query.types"),
    ({}, {"Last-Event-ID": "abc"}, "header.Last-Event-ID"),
])
def test_bad_parameters_are_422(live, params, headers, field):
    with live.client("read") as c:
        r = c.get("/events", params=params, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input" and r.json()["field"].lower() == field.lower(), r.json()


# ---- when it ends -------------------------------------------------------------------------------

def test_a_client_that_goes_away_is_unsubscribed(live):
    bus = live.factory.bus
    with stream(live):
        assert bus.subscriber_count == 1
    deadline = time.monotonic() + WAIT_S
    while bus.subscriber_count:
        assert time.monotonic() < deadline, "the stream's subscription outlived its client"
        time.sleep(0.02)


def test_closing_the_bus_ends_open_streams(live):
    with stream(live) as first, stream(live, params={"heartbeat": 0.05}) as second:
        live.factory.bus.close()
        assert first.ended(timeout=5) and second.ended(timeout=5)
    with stream(live, ready=False) as late:  # after close, a new stream ends at once
        assert late.ended(timeout=5)


# ---- documented -----------------------------------------------------------------------------------

def test_openapi_and_metrics(live):
    with live.client() as c:
        op = c.get("/openapi.json").json()["paths"]["/events"]["get"]
        text = c.get("/metrics").text
    assert "text/event-stream" in op["responses"]["200"]["content"]
    for code in ("401", "403", "422"):
        assert "application/json" in op["responses"][code]["content"], code
    assert {p["name"] for p in op["parameters"]} == {"types", "last_event_id", "heartbeat", "Last-Event-ID"}
    for outcome in ("delivered", "retried", "failed"):
        assert f'notify_deliveries_total{{outcome="{outcome}"}} 0.0' in text

