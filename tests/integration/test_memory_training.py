"""A memory node's ranking weights are tunable params: the Training Orchestrator tunes `priority_weight`
against searches with the id that should come first (objective mrr, and accuracy at 1 as exact_match on
`results[0].id`), reading the shared store and writing nothing to it."""
from __future__ import annotations

from test_training import ACTIVE, READ, WRITE, app_for, wait

import pytest
from support import auth, make_settings

from neira_factory.services.bootstrap import build_services

ADMIN = auth("admin")
NODE = "memory.laws.v1"
PARAMS = {"text_weight": {"value": 1.0},
          "priority_weight": {"value": 0.5, "min": 0.0, "max": 8.0, "step": 0.5, "tunable": True}}
# Each query matches a weak record on every word, and a credible, much-used one on fewer: the credible one is
# the right answer, which only a high enough priority_weight ranks first.
RECORDS = [
    {"id": "weak.gravity", "description": "закон тяготения яблоко", "credibility": 0.05},
    {"id": "newton", "description": "Закон всемирного тяготения открыл Ньютон", "credibility": 1.0},
    {"id": "weak.ohm", "description": "закон Ома ток сопротивление напряжение", "credibility": 0.05},
    {"id": "ohm", "description": "Закон Ома связывает ток и напряжение", "credibility": 1.0},
]
DATA = [{"input": {"op": "search", "query": "закон тяготения яблоко"}, "expected": "newton"},
        {"input": {"op": "search", "query": "закон Ома ток сопротивление"}, "expected": "ohm"}]


@pytest.fixture
def rt(tmp_path):
    f = build_services(make_settings(tmp_path))
    client = app_for(f)
    yield client, f
    f.trainers.stop()
    f.db.dispose()


def stable_memory(client):
    body = {"id": NODE, "version": "0.1.0", "memory_type": "laws", "backend": "memory", "params": PARAMS}
    assert client.post("/factory/nodes", json=body, headers=WRITE).status_code == 201
    for _ in range(3):
        response = client.post(f"/factory/nodes/{NODE}/approve", json={"force": True, "reason": "first version"},
                               headers=ADMIN)
        assert response.status_code == 200, response.text
    for record in RECORDS:
        assert client.post("/invoke/memory.laws", json={"input": {"op": "put", "record": record}},
                           headers=WRITE).status_code == 200
    for record in ("newton", "ohm"):  # the credible records are also the ones in demand
        for _ in range(20):
            client.post("/invoke/memory.laws", json={"input": {"op": "get", "id": record}}, headers=READ)


def records(f):
    with f.read() as uow:
        return uow.memory.stores()["memory.laws"][0]  # the store defaults to the route


@pytest.mark.parametrize("objective,field", [("mrr", None), ("exact_match", "results[0].id")])
def test_training_raises_priority_weight_until_the_credible_record_ranks_first(rt, objective, field):
    client, f = rt
    stable_memory(client)
    f.flush_stats()
    before = records(f)
    body = {"dataset": DATA, "objective": objective, "max_iterations": 30, "patience": 8, "target": 1.0}
    if field:
        body["field"] = field
    response = client.post(f"/factory/nodes/{NODE}/train", json=body, headers=WRITE)
    assert response.status_code == 202, response.text
    run = wait(client, response.json()["run_id"])
    assert run["state"] not in ACTIVE
    baseline = run["iterations"][0]
    assert baseline["params"] == {"priority_weight": 0.5} and baseline["metric"] < 1.0
    assert run["best"]["metric"] == 1.0, run["iterations"]
    assert run["best"]["params"]["priority_weight"] > 0.5
    assert records(f) == before  # evaluations read the store and wrote nothing
