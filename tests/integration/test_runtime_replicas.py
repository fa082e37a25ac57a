"""Two factories (two replicas) on one PostgreSQL: their statistics add up in one analysis, and a
transition made on one is in force on the other within the cache TTL."""
import time

from fastapi.testclient import TestClient

from neira_factory.api.app import create_app
from neira_factory.services.bootstrap import build_services
from neira_factory.config.tokens import TokenRegistry

from runtime_support import ERRORS, WRITE, analysis, invoke, make_candidate, make_stable, template, traffic
from support import make_settings

TTL_MS = 200


def replica(tmp_path, url, name):
    f = build_services(make_settings(tmp_path / name, url, replica=name, cache_ttl_ms=TTL_MS))
    return f, TestClient(create_app(f, TokenRegistry.load(f.settings)))


def test_statistics_of_two_replicas_add_up_and_changes_propagate(tmp_path, fresh_pg_url):
    f1, one = replica(tmp_path, fresh_pg_url, "replica-a")
    f2, two = replica(tmp_path, fresh_pg_url, "replica-b")
    try:
        v1 = make_stable(one, template(1))
        v2 = make_candidate(one, template(2, canary_weight=0.5))
        served_one = traffic(one, 80)
        served_two = traffic(two, 80, offset=1000)
        assert served_two.get(v2, 0) > 0, "the second replica routes to the candidate the first one approved"
        assert not any(k.startswith("error:") for k in {**served_one, **served_two}), ERRORS[-3:]
        f2.flush_stats()
        report = analysis(one, v2)  # flushes replica-a, reads both
        assert report["stats"]["requests"] == served_one.get(v2, 0) + served_two.get(v2, 0)
        assert report["baseline"]["requests"] == served_one.get(v1, 0) + served_two.get(v1, 0)
        with f1.read() as uow:
            replicas = {r["replica"] for r in uow.stats.rows(v2, "canary")}
        assert replicas == {"replica-a", "replica-b"}

        assert one.post(f"/factory/nodes/{v2}/rollback", json={"reason": "enough"}, headers=WRITE).status_code == 200
        time.sleep(TTL_MS / 1000 + 0.05)
        assert {invoke(two, {"text": "x"}, key=f"k{i}").json()["node_id"] for i in range(40)} == {v1}
    finally:
        f1.db.dispose()
        f2.db.dispose()

