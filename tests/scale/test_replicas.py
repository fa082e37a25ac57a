"""Replicas: several real `neira-factory serve` processes on ONE PostgreSQL database behave as one factory.

- 100 concurrent requests on one node, spread over three replicas: exactly one wins each transition, the
  others get 409; the history and the audit trail hold each transition once; the chain verifies;
- canary statistics counted on three replicas add up, in the analysis, to what the clients were served;
- a change made on one replica is in force on the others within NEIRA_CACHE_TTL_MS (+ one request):
  safe-mode (cached on the invocation path), a rollback (cached route tables), a capability gate (create);
- replicas started together on an empty database all come up.
"""
from __future__ import annotations

import time
from collections import Counter

import httpx
import psycopg
import pytest
from scale_support import REPLICA_ENV, client, launch, parallel
from sqlalchemy.engine import make_url

TTL_MS = int(REPLICA_ENV["NEIRA_CACHE_TTL_MS"])
MARGIN_S = 0.5  # one request on a busy two-core CI machine, plus scheduling
BOUND_S = TTL_MS / 1000 + MARGIN_S
ROUTE = "analysis.shared"
# no analysis verdict during these tests: the supervisor must not roll a candidate back under our feet
NEVER_DECIDED = {"min_requests": 100_000, "baseline": {"latency_slack_ms": 10_000}}
RACERS = 100


def node(node_id: str, **rollout) -> dict:
    return {"id": node_id, "version": "0.1.0", "analysis_type": "shared", "adapter": {"impl": "echo"},
            "rollout": {**NEVER_DECIDED, **rollout}}


def script_node(node_id: str) -> dict:
    return {"id": node_id, "version": "0.1.0", "analysis_type": "scripted", "backend": "script",
            "script": {"source": "fn run(input) { input }"}}


def history(reader: httpx.Client, node_id: str) -> list[tuple]:
    detail = reader.get(f"/factory/nodes/{node_id}")
    assert detail.status_code == 200, detail.text
    return [(h["action"], h["from_state"], h["to_state"]) for h in detail.json()["history"]]


def node_audit(reader: httpx.Client, node_id: str) -> list[tuple]:
    """The node's audit entries, oldest first: (action, state before, state after)."""
    entries = reader.get("/audit", params={"resource": node_id, "limit": 1000}).json()
    return [(e["action"], (e["before"] or {}).get("state"), (e["after"] or {}).get("state"))
            for e in reversed(entries)]


def verify_chain(reader: httpx.Client) -> None:
    verify = reader.get("/audit/verify")
    assert verify.status_code == 200, verify.text
    assert verify.json()["ok"] is True and verify.json()["problems"] == [], verify.json()


def outcome(r: httpx.Response):
    """The status of a success, (status, code) of a refusal."""
    return r.status_code if r.is_success else (r.status_code, r.json().get("code"))


# ---- one winner per transition -----------------------------------------------------------------------------


def test_concurrent_requests_on_three_replicas_win_each_transition_once(replicas):
    writer, admin, reader = client(replicas[0], "write"), client(replicas[0], "admin"), client(replicas[1], "read")
    # request i goes through replica i % 3, on a connection of its own
    writers = [client(s, "write") for s in replicas]
    admins = [client(s, "admin") for s in replicas]

    def race(clients: list[httpx.Client], node_id: str, action: str, body: dict) -> list[httpx.Response]:
        return parallel(lambda i: clients[i % len(clients)].post(f"/factory/nodes/{node_id}/{action}", json=body),
                        range(RACERS))

    # (1) 100 humans approve one draft: one moves it to canary. Each other one either lost the race (the
    # conditional update found the row moved: invalid_transition) or arrived after the commit and so asked for
    # canary → experimental, which has no passing analysis (analysis_not_passed). Nobody moves it twice.
    racy = "analysis.racy.v1"
    assert writer.post("/factory/nodes", json=node(racy)).status_code == 201
    answers = race(writers, racy, "approve", {"reason": "race"})
    codes = Counter(map(outcome, answers))
    assert codes[200] == 1, codes
    assert set(codes) <= {200, (409, "invalid_transition"), (409, "analysis_not_passed")}, codes
    won = next(r.json() for r in answers if r.status_code == 200)
    assert (won["previous"], won["state"]) == ("draft", "canary")
    assert history(reader, racy) == [("create", None, "draft"), ("approve", "draft", "canary")]

    # (2) 100 rollbacks of that canary: one wins; a rolled-back node has no rollback, so every other answer is
    # invalid_transition, whether it lost the race or came late.
    codes = Counter(map(outcome, race(writers, racy, "rollback", {"reason": "race"})))
    assert codes == {200: 1, (409, "invalid_transition"): RACERS - 1}, codes
    assert history(reader, racy)[-1] == ("rollback", "canary", "rolled_back")
    assert node_audit(reader, racy) == [("node.create", None, "draft"), ("node.approve", "draft", "canary"),
                                        ("node.rollback", "canary", "rolled_back")]

    # (3) 100 admins force-approve one draft: each of draft → canary → experimental → stable is won by exactly
    # one request; the others lost a race or found it stable (invalid_transition).
    forced = "analysis.forced.v1"
    assert admin.post("/factory/nodes", json=node(forced)).status_code == 201
    answers = race(admins, forced, "approve", {"reason": "race", "force": True})
    wins = [(r.json()["previous"], r.json()["state"]) for r in answers if r.status_code == 200]
    losers = Counter(outcome(r) for r in answers if r.status_code != 200)
    assert set(losers) <= {(409, "invalid_transition")}, losers
    chain = [("draft", "canary"), ("canary", "experimental"), ("experimental", "stable")]
    assert len(wins) == len(set(wins)) >= 1 and sorted(wins, key=chain.index) == chain[:len(wins)], wins
    assert history(reader, forced) == [("create", None, "draft"), *(("approve", a, b) for a, b in chain[:len(wins)])]
    assert node_audit(reader, forced) == [("node.create", None, "draft"),
                                          *(("node.approve", a, b) for a, b in chain[:len(wins)])]

    # every replica reads the same states, and the one chain verifies from each
    for server in replicas:
        r = client(server, "read")
        assert r.get(f"/factory/nodes/{racy}").json()["state"] == "rolled_back"
        assert r.get(f"/factory/nodes/{forced}").json()["state"] == chain[len(wins) - 1][1]
        verify_chain(r)


# ---- statistics and propagation ----------------------------------------------------------------------------


def invoke(c: httpx.Client, key: str) -> str:
    """One request through the route with a sticky key; the version that answered."""
    r = c.post(f"/invoke/{ROUTE}", json={"input": {"key": key}, "key": key})
    assert r.status_code == 200, r.text
    assert r.json()["output"] == {"key": key}
    return r.json()["node_id"]


def wait_until(predicate, bound_s: float, poll_s: float = 0.01) -> float:
    """Seconds until predicate() first holds; fails when it does not within bound_s + 1 s."""
    begin = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - begin
        elapsed = time.monotonic() - begin
        if elapsed > bound_s + 1.0:
            pytest.fail(f"not in force after {elapsed:.2f} s (bound {bound_s:.2f} s)")
        time.sleep(poll_s)


def test_canary_statistics_add_up_and_changes_reach_every_replica_within_the_ttl(replicas):
    admin, reader = client(replicas[0], "admin"), client(replicas[0], "read")
    writers = [client(s, "write") for s in replicas]

    v1, v2 = f"{ROUTE}.v1", f"{ROUTE}.v2"
    assert admin.post("/factory/nodes", json=node(v1)).status_code == 201
    assert admin.post(f"/factory/nodes/{v1}/approve", json={}).status_code == 200
    for _ in range(2):
        r = admin.post(f"/factory/nodes/{v1}/approve", json={"force": True, "reason": "the first version"})
        assert r.status_code == 200, r.text
    assert admin.post("/factory/nodes", json=node(v2, canary_weight=0.5)).status_code == 201
    assert admin.post(f"/factory/nodes/{v2}/approve", json={"reason": "canary"}).status_code == 200
    time.sleep(TTL_MS / 1000 + 0.05)  # every replica now routes with v2 in canary

    # 3 × 120 requests, a third through each replica, concurrently; the clients count who answered
    per_replica = 120

    def traffic(i: int) -> dict[str, str]:
        return {key: invoke(writers[i], key) for key in (f"user-{i}-{j}" for j in range(per_replica))}

    answered = parallel(traffic, range(len(replicas)))
    served = Counter(who for per in answered for who in per.values())
    assert set(served) == {v1, v2} and sum(served.values()) == len(replicas) * per_replica, served
    for per in answered:
        assert {v1, v2} <= set(per.values()), "each replica splits the route"

    # within a flush interval (200 ms) or two, any replica's analysis holds every replica's count, never more
    def totals() -> tuple[int, int]:
        report = client(replicas[2], "read").get(f"/factory/nodes/{v2}/analysis")
        assert report.status_code == 200, report.text
        counted = (report.json()["stats"]["requests"], report.json()["baseline"]["requests"])
        assert counted[0] <= served[v2] and counted[1] <= served[v1], (counted, served)
        return counted

    wait_until(lambda: totals() == (served[v2], served[v1]), bound_s=2.0, poll_s=0.1)
    report = reader.get(f"/factory/nodes/{v2}/analysis").json()
    assert report["state"] == "canary" and report["stats"]["requests"] == served[v2], report["stats"]
    assert not report["stats"]["errors"], report["stats"]

    # keys the canary serves: sticky, so each goes to v2 for as long as v2 takes canary traffic
    v2_keys = [key for per in answered for key, who in per.items() if who == v2]
    keys = iter(v2_keys * 1000)
    other = writers[1]  # replica B; every change below is made on replica A

    # safe-mode on A: B stops sending traffic to the candidate within the bound (B caches the policy state)
    assert all(invoke(other, key) == v2 for key in v2_keys[:5])  # B's cache holds "safe-mode off" now
    assert admin.post("/immune/safe-mode", json={"on": True, "reason": "scale test"}).status_code == 200
    safe_on = wait_until(lambda: invoke(other, next(keys)) == v1, BOUND_S)
    assert {invoke(w, key) for w in writers for key in v2_keys[:20]} == {v1}, "safe-mode holds on every replica"
    assert admin.post("/immune/safe-mode", json={"on": False, "reason": "scale test done"}).status_code == 200
    safe_off = wait_until(lambda: invoke(other, next(keys)) == v2, BOUND_S)

    # a rollback on A: B serves the stable version only, within the bound (B caches the route table)
    assert admin.post(f"/factory/nodes/{v2}/rollback", json={"reason": "scale test"}).status_code == 200
    rolled = wait_until(lambda: invoke(other, next(keys)) == v1, BOUND_S)
    assert {invoke(w, key) for w in writers for key in v2_keys[:20]} == {v1}

    # a capability gate locked on A: C refuses to create a script node within the bound
    assert admin.put("/capabilities/factory_script", json={"state": "experimental", "reason": "t"}).status_code == 200
    made = iter(range(1, 10_000))

    def refused() -> bool:
        r = writers[2].post("/factory/nodes", json=script_node(f"analysis.scripted.v{next(made)}"))
        assert r.status_code in (201, 403), r.text
        return r.status_code == 403 and r.json()["code"] == "capability_disabled"

    assert not refused(), "unlocked on A: C creates script nodes"
    assert admin.put("/capabilities/factory_script", json={"state": "locked", "reason": "t"}).status_code == 200
    locked = wait_until(refused, BOUND_S)
    assert refused() and refused()

    for seen_after, what in ((safe_on, "safe-mode on"), (safe_off, "safe-mode off"), (rolled, "a rollback"),
                             (locked, "a locked gate")):
        assert seen_after <= BOUND_S, f"{what} reached another replica after {seen_after:.3f} s > {BOUND_S:.3f} s"
    verify_chain(reader)


# ---- concurrent creates ----------------------------------------------------------------------------------------


def test_concurrent_creates_of_one_node_on_three_replicas_make_it_once_and_never_answer_500(replicas):
    """A client that times out retries its create, maybe on another replica, while the first attempt still runs.

    100 concurrent creates of one template with one Idempotency-Key, spread over the replicas, then 100 of another
    template with no key: one node each, one create in its history and audit trail; every other answer is the
    stored 201 (the same id) or a 409 (conflict / idempotency_key_reused / idempotency_key_in_use). Never a 500 for anything a client sent.

    Before the fix, on PostgreSQL the losers got 500: checks inside a transaction are not locks under READ
    COMMITTED. Now an artifact is stored with INSERT … ON CONFLICT DO NOTHING, and a key taken by a concurrent
    request is a 409 `idempotency_key_in_use`.
    """
    writers = [client(s, "write") for s in replicas]
    reader = client(replicas[1], "read")
    keyed, bare = "analysis.retried.v1", "analysis.doubled.v1"

    def create(node_id: str, headers: dict) -> list[httpx.Response]:
        body = {"template": node(node_id), "reason": "race"}
        return parallel(lambda i: writers[i % len(writers)].post("/factory/nodes", json=body, headers=headers),
                        range(RACERS))

    answers = {keyed: create(keyed, {"Idempotency-Key": "one-key"}), bare: create(bare, {})}
    for node_id, got in answers.items():
        codes = Counter(map(outcome, got))
        created = [r.json() for r in got if r.status_code == 201]
        assert created and all(c["id"] == node_id and c["state"] == "draft" for c in created), created
        assert set(codes) <= {200, 201, (409, "conflict"), (409, "idempotency_key_reused"), (409, "idempotency_key_in_use")}, (
            f"{node_id}: {dict(codes)}")
        assert history(reader, node_id) == [("create", None, "draft")]
        assert node_audit(reader, node_id) == [("node.create", None, "draft")]
    assert Counter(map(outcome, answers[bare]))[201] == 1, "without a key, one create wins"


# ---- start-up ------------------------------------------------------------------------------------------------


def test_replicas_started_together_on_an_empty_postgresql_all_come_up(fresh_pg_url, postgres_url, tmp_path):
    """The usual first deployment: N replicas start at once against a new, empty database.

    Every replica runs the Alembic upgrade (and the seeding) at start. To make "at once" exact rather than
    luck, the test holds an exclusive lock on the new database's `pg_class` while the replicas start, so each
    one waits at its first catalog lookup, and releases them together once all are waiting. Every replica
    must come up healthy, and the database must hold one set of seeds.
    """
    n = 3
    admin_url = make_url(fresh_pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    # the watcher connects to another database: a new connection to the locked one waits for the lock too
    watch_url = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    gate = psycopg.connect(admin_url, connect_timeout=10)
    servers = []
    try:
        gate.execute("LOCK TABLE pg_catalog.pg_class IN ACCESS EXCLUSIVE MODE")
        oid = gate.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[0]
        servers = [launch(tmp_path / f"var{i}", tmp_path / f"log{i}", database_url=fresh_pg_url, wait=False)
                   for i in range(n)]
        with psycopg.connect(watch_url, autocommit=True, connect_timeout=10) as watch:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(s.proc.poll() is not None for s in servers):
                waiting = watch.execute("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND database = %s",
                                        (oid,)).fetchone()[0]
                if waiting >= n:
                    break
                time.sleep(0.05)
        gate.rollback()  # all of them go at once

        outcome_of: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while len(outcome_of) < n and time.monotonic() < deadline:
            for s in servers:
                if s.url in outcome_of:
                    continue
                if s.proc.poll() is not None:
                    outcome_of[s.url] = f"exited with {s.proc.returncode}: {s.stderr()[-600:]}{s.stdout()[-600:]}"
                    continue
                try:
                    if httpx.get(f"{s.url}/healthz", timeout=1.0).status_code == 200:
                        outcome_of[s.url] = "ok"
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
        failed = {url: why for url, why in outcome_of.items() if why != "ok"}
        assert not failed and len(outcome_of) == n, f"replicas that did not come up: {failed}"
        with psycopg.connect(admin_url, connect_timeout=10) as conn:
            seeds = conn.execute("SELECT action, resource, count(*) FROM audit WHERE action LIKE '%%.seed' "
                                 "GROUP BY action, resource ORDER BY resource").fetchall()
        assert len(seeds) == 3 and {row[2] for row in seeds} == {1}, seeds
    finally:
        gate.close()
        for s in servers:
            s.stop()
