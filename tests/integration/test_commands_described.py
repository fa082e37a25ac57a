"""Nodes from a description over HTTP (POST /factory/commands): «создай узел, который …» plans one create_node
step of the best-fitting library implementation (draft_content = the command, params = its defaults), the
dry-run runs its example, a confirmation makes a draft that runs; a description nothing fits is 422
`no_implementation` naming the closest implementations with their scores."""
import pytest
from fastapi.testclient import TestClient

from neira_factory.api.app import create_app
from neira_factory.config.tokens import TokenRegistry
from neira_factory.services.bootstrap import build_services

from support import ROOT, auth, make_settings

WRITE, READ = auth("write"), auth("read")


@pytest.fixture
def client(tmp_path):
    f = build_services(make_settings(tmp_path, examples_dir=ROOT / "examples"))
    yield TestClient(create_app(f, TokenRegistry.load(f.settings)))
    f.db.dispose()


def say(client, text):
    return client.post("/factory/commands", json={"text": text}, headers=WRITE)


@pytest.mark.parametrize("text,node_id,impl,params", [
    # examples/ has analysis.image_downscale.v1 and analysis.reverse.v1: the next free version is 2
    ("сделай узел, который уменьшает картинки", "analysis.image_downscale.v2", "image_downscale", {"max_side": 1024}),
    ("make a node that reverses a string", "analysis.reverse.v2", "reverse", {}),
])
def test_a_described_node_is_planned_dry_run_and_made_a_draft_that_runs(client, text, node_id, impl, params):
    planned = say(client, text)
    assert planned.status_code == 200, planned.text
    body = planned.json()
    assert body["intent"]["action"] == "create" and body["intent"]["description"]
    step, = body["plan"]["steps"]
    assert (step["op"], step["target"]) == ("create_node", node_id)
    template = step["body"]["template"]
    assert template["draft_content"] == text and template["adapter"] == {"impl": impl}
    assert {name: spec["value"] for name, spec in template["params"].items()} == params
    choice = body["plan"]["choice"]
    assert choice["impl"] == impl and choice["score"] >= choice["threshold"] and len(choice["runners_up"]) == 3
    report = body["report"][node_id]
    assert not [r for r in report["risks"] if r["severity"] == "blocking"]
    assert [e["ok"] for e in report["examples"]] == [True]  # its example ran on the default params
    assert body["policy"]["allowed"] is True and body["confirm_token"]
    done = client.post("/factory/commands/confirm", json={"confirm_token": body["confirm_token"]}, headers=WRITE)
    assert done.status_code == 200, done.text
    assert done.json()["created"] == [{"id": node_id, "state": "draft"}]
    made = client.get(f"/factory/nodes/{node_id}", headers=READ).json()
    assert made["template"]["draft_content"] == text and made["state"] == "draft"
    example = template["examples"][0]["input"]
    ran = client.post(f"/factory/nodes/{node_id}/run", json={"input": example}, headers=WRITE)
    assert ran.status_code == 200, ran.text


@pytest.mark.parametrize("text,lang,closest", [
    ("сделай узел для определения тональности отзыва", "ru", None),
    ("make a node that detects the sentiment of a review", "en", None),
    ("create a node to recognise faces in photos", "en", "ocr"),
])
def test_a_description_nothing_fits_is_refused_naming_the_closest(client, text, lang, closest):
    refused = say(client, text)
    assert refused.status_code == 422, refused.text
    error = refused.json()
    assert error["code"] == "no_implementation" and error["description"] in text
    assert error["reason"].startswith("Нет такой реализации" if lang == "ru" else "There is no such implementation")
    assert all(c["score"] < error["threshold"] for c in error["closest"])
    if closest:
        assert error["closest"][0]["impl"] == closest
    assert client.get("/factory/nodes", headers=READ).json() == []  # nothing planned, nothing made


def test_an_implementation_that_needs_params_is_named_but_not_planned(client):
    refused = say(client, "make a node that extracts email addresses from text")
    assert refused.status_code == 422 and refused.json()["code"] == "no_implementation"
    first = refused.json()["closest"][0]
    assert first["impl"] == "regex_extract" and first["needs"] == ["pattern"]
    assert "pattern" in refused.json()["reason"]
