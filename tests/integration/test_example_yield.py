"""An example loaded at start-up that nobody has moved yields to a client's template of its id (Neira's files use
the examples' ids): the dry-run warns instead of refusing, create and build replace it, audited with the
example's digest. Once replaced, approved, or for anything else, the id is taken: 409."""
import pytest
from fastapi.testclient import TestClient

from neira_factory.api.app import create_app
from neira_factory.config.tokens import TokenRegistry
from neira_factory.services.bootstrap import build_services
from neira_factory.services.examples import load_examples

from support import ROOT, auth, make_settings

ADMIN, WRITE, READ = auth("admin"), auth("write"), auth("read")
MINE = {"id": "analysis.reverse.v1", "version": "0.2.0", "analysis_type": "reverse", "adapter": {"impl": "reverse"},
        "examples": [{"input": {"text": "ab"}, "expected": {"text": "ba"}}]}
ORGAN = {"id": "organ.reverse.v1", "version": "0.2.0", "roles": ["reverse"], "cells": ["analysis.reverse.v1"],
         "pathways": [{"name": "text", "cells": ["analysis.reverse.v1"]}], "policies": {"stage": "draft"}}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    f = build_services(make_settings(tmp_path_factory.mktemp("var")))
    assert {"analysis.reverse.v1", "analysis.echo.v1", "organ.reverse.v1"} <= set(load_examples(f.examples,
                                                                                              ROOT / "examples"))
    with TestClient(create_app(f, TokenRegistry.load(f.settings))) as client:
        yield client
    f.db.dispose()


def id_risks(report):
    return [(r["code"], r["severity"]) for r in report["risks"] if r.get("field") == "id"]


def test_a_node_template_replaces_the_untouched_example_of_its_id(loaded):
    client = loaded
    example = client.get("/factory/nodes/analysis.reverse.v1", headers=READ).json()
    assert (example["created_by"], example["version"]) == ("examples", "0.1.0")
    dry = client.post("/factory/nodes/dryrun", json=MINE, headers=WRITE).json()
    assert dry["ok"] is True and id_risks(dry["report"]) == [("replaces_example", "warning")]
    assert client.get("/factory/nodes/analysis.reverse.v1", headers=READ).json()["version"] == "0.1.0"

    created = client.post("/factory/nodes", json=MINE, headers=WRITE)
    assert created.status_code == 201 and created.json()["state"] == "draft", created.text
    mine = client.get("/factory/nodes/analysis.reverse.v1", headers=READ).json()
    assert (mine["created_by"], mine["version"], mine["artifact_sha256"]) == ("writer", "0.2.0",
                                                                     created.json()["sha256"])
    assert [(h["action"], h["actor"]) for h in mine["history"]] == [("create", "examples"), ("create", "writer")]
    entry = client.get("/audit", params={"resource": "analysis.reverse.v1", "action": "node.create"},
                       headers=READ).json()[0]
    assert entry["actor"] == "writer" and entry["after"]["replaced_example"] == example["artifact_sha256"]

    again = client.post("/factory/nodes", json=MINE, headers=WRITE)  # a client's draft does not yield
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert id_risks(client.post("/factory/nodes/dryrun", json=MINE, headers=WRITE).json()["report"]) == [
        ("conflict", "blocking")]
    assert client.get("/audit/verify", headers=READ).json()["ok"] is True


def test_an_example_someone_moved_is_taken(loaded):
    client = loaded
    assert client.post("/factory/nodes/analysis.echo.v1/approve", json={}, headers=WRITE).status_code == 200
    echo = {"id": "analysis.echo.v1", "version": "0.2.0", "analysis_type": "echo", "adapter": {"impl": "echo"}}
    refused = client.post("/factory/nodes", json=echo, headers=WRITE)
    assert refused.status_code == 409 and refused.json()["code"] == "conflict"
    assert client.get("/factory/nodes/analysis.echo.v1", headers=READ).json()["state"] == "canary"


def test_an_organ_build_replaces_the_untouched_example_organ(loaded):
    client = loaded
    dry = client.post("/organs/build", json={"organ_template": ORGAN, "dryrun": True}, headers=WRITE)
    assert dry.status_code == 200 and id_risks(dry.json()["report"]) == [("replaces_example", "warning")]
    assert client.get("/factory/nodes/organ.reverse.v1", headers=READ).json()["created_by"] == "examples"
    built = client.post("/organs/build?dryrun=false", json={"organ_template": ORGAN}, headers=WRITE)
    assert built.status_code == 200 and built.json()["organ_id"] == "organ.reverse.v1", built.text
    organ = client.get("/factory/nodes/organ.reverse.v1", headers=READ).json()
    assert (organ["created_by"], organ["version"]) == ("writer", "0.2.0")
    for dryrun in (True, False):  # now it is taken: the dry-run answers what the build would
        r = client.post("/organs/build", json={"organ_template": ORGAN, "dryrun": dryrun}, headers=WRITE)
        assert r.status_code == 409 and r.json()["code"] == "conflict", r.text


def test_an_example_that_a_node_leaving_draft_names_is_taken(loaded):
    """A node that leaves draft runs what it links to from then on: the untouched example it names stops
    yielding, so no client can change what an approved node runs by replacing that example."""
    client = loaded
    wrapper = {"id": "analysis.wrapper.v1", "version": "0.1.0", "analysis_type": "wrapper",
               "links": ["analysis.text_normalize.v1"],
               "examples": [{"input": {"text": " AB "}, "expected": {"normalized": "ab"}}]}
    assert client.post("/factory/nodes", json=wrapper, headers=WRITE).status_code == 201
    evil = {"id": "analysis.text_normalize.v1", "version": "6.6.6", "analysis_type": "text_normalize",
            "adapter": {"impl": "echo"}}
    dry = client.post("/factory/nodes/dryrun", json=evil, headers=WRITE).json()  # a draft naming it: still yields
    assert id_risks(dry["report"]) == [("replaces_example", "warning")]
    assert client.post("/factory/nodes/analysis.wrapper.v1/approve", json={}, headers=WRITE).status_code == 200

    assert id_risks(client.post("/factory/nodes/dryrun", json=evil, headers=WRITE).json()["report"]) == [
        ("conflict", "blocking")]
    refused = client.post("/factory/nodes", json=evil, headers=WRITE)
    assert refused.status_code == 409 and refused.json()["code"] == "conflict", refused.text
    example = client.get("/factory/nodes/analysis.text_normalize.v1", headers=READ).json()
    assert (example["created_by"], example["version"], example["state"]) == ("examples", "0.1.0", "draft")
    ran = client.post("/factory/nodes/analysis.wrapper.v1/run", json={"input": {"text": " AB "}}, headers=WRITE)
    assert ran.status_code == 200 and ran.json()["output"] == {"normalized": "ab"}, ran.text
    assert client.get("/audit/verify", headers=READ).json()["ok"] is True
