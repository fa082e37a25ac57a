"""training_runs_finished_total through the real /metrics: every training run that ends is counted once,
by its outcome: converged, not_converged and failed when its search ends (a failure of the worker itself
included), rejected when a human stops it before; rejecting a run that had ended counts nothing more."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from test_training import DATA, WRITE, make_node, rt, started, wait  # noqa: F401 - rt is a fixture

OUTCOMES = ("converged", "not_converged", "failed", "rejected")


def runs_finished(client) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    family = next(f for f in text_string_to_metric_families(response.text) if f.name == "training_runs_finished")
    return {s.labels["outcome"]: s.value for s in family.samples if s.name == "training_runs_finished_total"}


def reject(client, run_id: str) -> None:
    response = client.post(f"/training/{run_id}/reject", json={"reason": "enough"}, headers=WRITE)
    assert response.status_code == 200 and response.json()["state"] == "rejected", response.text


def test_every_run_that_ends_is_counted_once_by_its_outcome(rt):  # noqa: F811 - the fixture imported above
    client, f = rt
    make_node(client)
    assert runs_finished(client) == dict.fromkeys(OUTCOMES, 0.0)  # every outcome is exported from the start

    converged = wait(client, started(client, target=0.8, patience=100))
    assert converged["state"] == "converged"
    contradictory = [*DATA, {"input": {"text": "free win prize"}, "expected": "uncertain"}]
    assert wait(client, started(client, dataset=contradictory, target=1.0, patience=100,
                                max_iterations=3))["state"] == "not_converged"
    numbers = [{"input": d["input"], "expected": 1.0} for d in DATA]  # mse on a classifier: every evaluation fails
    assert wait(client, started(client, dataset=numbers, objective="mse", max_errors=2,
                                patience=100))["state"] == "failed"
    assert runs_finished(client) == {"converged": 1.0, "not_converged": 1.0, "failed": 1.0, "rejected": 0.0}

    reject(client, converged["run_id"])  # counted already, as converged
    waiting = wait(client, started(client, approve_every=1, patience=100))
    assert waiting["state"] == "waiting"
    reject(client, waiting["run_id"])  # stopped before its search ended
    assert runs_finished(client) == {"converged": 1.0, "not_converged": 1.0, "failed": 1.0, "rejected": 1.0}

    # The worker itself fails: the run's dataset snapshot no longer matches its sha256 when it resumes.
    tampered = wait(client, started(client, dataset=DATA[:4], approve_every=1, patience=100))
    with f.write() as uow:
        sha = uow.training.get_run(tampered["run_id"])["dataset_sha256"]
        uow.conn.execute(text("UPDATE artifacts SET content = :c WHERE sha256 = :s"), {"c": b"[]", "s": sha})
    assert client.post(f"/training/{tampered['run_id']}/continue", json={}, headers=WRITE).status_code == 200
    run = wait(client, tampered["run_id"])
    assert run["state"] == "failed" and run["reason"].startswith("internal error: IntegrityError"), run["reason"]
    assert runs_finished(client) == {"converged": 1.0, "not_converged": 1.0, "failed": 2.0, "rejected": 1.0}
