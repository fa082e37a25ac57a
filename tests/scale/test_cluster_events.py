"""The event stream is the cluster's: three real `neira-factory serve` replicas on ONE PostgreSQL database,
whose caches would keep another replica's change for 30 s (NEIRA_CACHE_TTL_MS) if nothing dropped them.

- an SSE client on replica B receives the transitions made on replica A, under the ids A's own stream uses,
  within a second (the event log's NOTIFY; the safety poll is 5 s);
- the client goes away, writes go on (on A and on B), and it reconnects to replica C with its Last-Event-ID:
  C replays exactly what it missed, in order, and then follows live what A does;
- a rollback on A is in force on B as soon as B has its event: B's cached route table drops then, not after
  the TTL.
"""
from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from e2e_support import Server
from notify_support import open_events
from scale_support import REPLICA_ENV, client, launch
from support import auth

WAIT_S = 15.0
ENV = {**REPLICA_ENV, "NEIRA_CACHE_TTL_MS": "30000"}
# no analysis verdict during these tests: the supervisor must not move the candidates under our feet
NEVER_DECIDED = {"min_requests": 100_000, "baseline": {"latency_slack_ms": 10_000}}


@pytest.fixture(scope="module")
def cluster(replica_db, tmp_path_factory) -> Iterator[list[Server]]:
    """Three replicas on the module's database (ENV), started one after the other."""
    servers: list[Server] = []
    try:
        for i in range(3):
            servers.append(launch(tmp_path_factory.mktemp(f"events{i}-var"), tmp_path_factory.mktemp(f"events{i}-log"),
                                  database_url=replica_db, env=ENV))
        yield servers
    finally:
        for server in servers:
            server.stop()


def node(node_id: str, **rollout) -> dict:
    return {"id": node_id, "version": "0.1.0", "analysis_type": node_id.split(".")[1], "adapter": {"impl": "echo"},
            "rollout": {**NEVER_DECIDED, **rollout}}


def ok(r: httpx.Response) -> dict:
    assert r.is_success, r.text
    return r.json()


def test_a_stream_follows_every_replica_and_resumes_on_another(cluster):
    a, b, c = cluster
    writer_a, writer_b = client(a, "write"), client(b, "write")
    first, second, third = "analysis.cluster.v1", "analysis.cluster.v2", "analysis.cluster.v3"
    node_events = {"types": "node."}

    with open_events(a.url, auth("read"), node_events, read_timeout=WAIT_S) as on_a, \
            open_events(b.url, auth("read"), node_events, read_timeout=WAIT_S) as on_b:
        ok(writer_a.post("/factory/nodes", json={"template": node(first), "reason": "cluster events"}))
        ok(writer_a.post(f"/factory/nodes/{first}/approve", json={"reason": "to canary"}))
        answered = time.monotonic()
        created, moved = on_b.next_event(), on_b.next_event()
        seen_after_s = time.monotonic() - answered
        assert [on_a.next_event() for _ in range(2)] == [created, moved]  # the same events, the same ids
    assert (created["event"], created["data"]["resource"]) == ("node.created", first)
    assert (moved["event"], moved["data"]["data"]["to"]) == ("node.transition", "canary")
    assert seen_after_s < 1.0, f"B saw A's transition {seen_after_s:.3f} s after A answered"

    # away: a rollback on A and a new node on B
    ok(writer_a.post(f"/factory/nodes/{first}/rollback", json={"reason": "while away"}))
    ok(writer_b.post("/factory/nodes", json={"template": node(second), "reason": "made on B"}))

    resume = {**auth("read"), "Last-Event-ID": moved["id"]}
    with open_events(c.url, resume, node_events, read_timeout=WAIT_S) as on_c:
        missed = [on_c.next_event(), on_c.next_event()]
        ok(writer_a.post("/factory/nodes", json={"template": node(third), "reason": "live, made on A"}))
        live = on_c.next_event()
    assert [(m["event"], m["data"]["resource"]) for m in missed] == [("node.transition", first),
                                                                     ("node.created", second)]
    assert missed[0]["data"]["data"]["to"] == "rolled_back"
    assert (live["event"], live["data"]["resource"]) == ("node.created", third)
    ids = [int(moved["id"])] + [int(e["id"]) for e in (*missed, live)]
    assert ids == sorted(set(ids)), ids  # in order, none twice


def invoke(c: httpx.Client, route: str, key: str) -> str:
    """One request through the route with a sticky key; the version that answered."""
    return ok(c.post(f"/invoke/{route}", json={"input": {"key": key}, "key": key}))["node_id"]


def test_a_rollback_is_in_force_on_another_replica_as_its_event_arrives(cluster):
    a, b, _ = cluster
    admin_a, writer_b = client(a, "admin"), client(b, "write")
    route = "analysis.rollback_event"
    v1, v2 = f"{route}.v1", f"{route}.v2"
    ok(admin_a.post("/factory/nodes", json=node(v1)))
    ok(admin_a.post(f"/factory/nodes/{v1}/approve", json={}))
    for _ in range(2):
        ok(admin_a.post(f"/factory/nodes/{v1}/approve", json={"force": True, "reason": "the first version"}))
    ok(admin_a.post("/factory/nodes", json=node(v2, canary_weight=0.5)))
    ok(admin_a.post(f"/factory/nodes/{v2}/approve", json={"reason": "canary"}))
    v2_keys = [key for key in (f"user-{i}" for i in range(40)) if invoke(writer_b, route, key) == v2]
    assert v2_keys, "B routes some keys to the canary (its route table is cached now, for 30 s)"

    with open_events(b.url, auth("read"), {"types": "node."}, read_timeout=WAIT_S) as on_b:
        ok(admin_a.post(f"/factory/nodes/{v2}/rollback", json={"reason": "cluster events"}))
        rolled = on_b.next_event()
        served = {invoke(writer_b, route, key) for key in v2_keys}
    assert (rolled["data"]["resource"], rolled["data"]["data"]["to"]) == (v2, "rolled_back")
    assert served == {v1}, "B's cached route table dropped on A's event"
