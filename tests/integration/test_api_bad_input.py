"""Bad input over the real app: a 4xx naming the field, and nothing written."""
from support import auth


def node_count(client) -> int:
    """Nodes a client made (the factory's own modules, factory.*, are seeded at start-up)."""
    return len([n for n in client.get("/factory/nodes", headers=auth("read")).json()
                if not n["id"].startswith("factory.")])


def test_malformed_json_names_its_position(client):
    response = client.post("/factory/nodes", content=b'{"id": "analysis.x.v1",\n "version": }',
                           headers={**auth("write"), "content-type": "application/json"})
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "body" and "malformed JSON at character" in body["reason"]
    assert node_count(client) == 0


def test_unknown_extension_field_points_at_it(client):
    template = {"id": "analysis.reverse.v1", "version": "0.1.0", "analysis_type": "reverse",
                "limits": {"timeout_ms": 100, "cpu": 2}}
    response = client.post("/factory/nodes", json={"spec": {"backend": "adapter", "template": template}},
                           headers=auth("write"))
    assert response.status_code == 422
    assert response.json()["field"] == "spec.template.limits.cpu"
    assert node_count(client) == 0


def test_invalid_transition_lists_the_allowed_actions(client):
    template = {"id": "analysis.reverse.v1", "version": "0.1.0", "analysis_type": "reverse"}
    assert client.post("/factory/nodes", json=template, headers=auth("write")).status_code == 201
    response = client.post("/factory/nodes/analysis.reverse.v1/rollback", json={}, headers=auth("write"))
    assert response.status_code == 409
    assert response.json() | {"reason": ""} == {"code": "invalid_transition", "reason": "", "state": "draft",
                                                "allowed": ["approve", "disable", "quarantine"]}


def test_the_two_spellings_of_the_operations_limit_must_agree(client):
    template = {"id": "analysis.reverse.v1", "version": "0.1.0", "analysis_type": "reverse",
                "rollout": {"slo": {"operations_p95_max": 100, "max_operations_p95": 200}}}
    response = client.post("/factory/nodes", json=template, headers=auth("write"))
    assert response.status_code == 422
    assert response.json()["field"] == "rollout.slo"
    assert "operations_p95_max and max_operations_p95 (its former name) disagree" in response.json()["reason"]
    assert node_count(client) == 0
    template["rollout"]["slo"]["max_operations_p95"] = 100  # the same limit twice is one limit
    assert client.post("/factory/nodes", json=template, headers=auth("write")).status_code == 201
    stored = client.get("/factory/nodes/analysis.reverse.v1", headers=auth("read")).json()["template"]
    assert stored["rollout"]["slo"]["operations_p95_max"] == 100 and "max_operations_p95" not in stored["rollout"]["slo"]
