"""Organs over the HTTP API: the voice organ from Neira's example through its lifecycle and run; each
kind of invalid graph as a 4xx that points at the channel and node; cancel; status and picture; an
organ canary that takes traffic of its stable version and is rolled back when its nodes fail."""
import io
import wave
from base64 import b64decode
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from fastapi.testclient import TestClient

from neira_factory.api.app import create_app
from neira_factory.services.bootstrap import build_services
from neira_factory.services.examples import load_examples
from neira_factory.services.supervisor import Supervisor
from neira_factory.config.tokens import TokenRegistry

from support import ROOT, auth, make_settings

ADMIN, WRITE, READ = auth("admin"), auth("write"), auth("read")
VOICE = yaml.safe_load((ROOT / "examples" / "organ.voice.v1.yaml").read_text())
VOICE_NODES = VOICE["nodes"]


@pytest.fixture
def rt(tmp_path):
    f = build_services(make_settings(tmp_path))
    yield TestClient(create_app(f, TokenRegistry.load(f.settings))), f
    f.db.dispose()


def node(client, node_id, impl, **extra):
    kind = node_id.split(".")[0]
    body = {"id": node_id, "version": "0.1.0", f"{kind}_type": node_id.split(".")[1], "adapter": {"impl": impl},
            **extra}
    assert client.post("/factory/nodes", json=body, headers=WRITE).status_code == 201, body
    assert client.post(f"/factory/nodes/{node_id}/approve", json={}, headers=WRITE).status_code == 200
    return node_id


def organ(organ_id, nodes, **extra):
    return {"id": organ_id, "nodes": nodes, "channels": [{"name": "main", "nodes": nodes}], **extra}


def build(client, template, dryrun=None, headers=WRITE):
    body = {"organ_template": template, **({} if dryrun is None else {"dryrun": dryrun})}
    return client.post("/organs/build", json=body, headers=headers)


def voice_nodes_live(client):
    for node_id in VOICE_NODES:
        data = yaml.safe_load((ROOT / "examples" / f"{node_id}.yaml").read_text())
        assert client.post("/factory/nodes", json=data, headers=WRITE).status_code == 201
        assert client.post(f"/factory/nodes/{node_id}/approve", json={}, headers=WRITE).status_code == 200


def wav_seconds(audio_base64: str) -> float:
    raw = b64decode(audio_base64)
    assert raw[:4] == b"RIFF" and raw[8:12] == b"WAVE"
    with wave.open(io.BytesIO(raw)) as w:
        return w.getnframes() / w.getframerate()


def test_the_voice_organ_from_neiras_example_builds_moves_and_speaks(rt):
    client, f = rt
    voice_nodes_live(client)
    dry = build(client, VOICE)
    assert dry.status_code == 200, dry.text
    assert dry.json()["organ_id"] is None and dry.json()["state"] == "dry_run"
    report = dry.json()["report"]
    assert report["graph"]["order"] == VOICE_NODES and report["missing"] == [] and report["type_errors"] == []
    assert report["roles"] == dict(zip(VOICE["roles"], VOICE_NODES))
    assert client.get("/organs", headers=READ).json() == []  # a dry-run creates nothing

    built = build(client, VOICE, dryrun=False)
    assert built.status_code == 200 and built.json() | {"report": None} == {
        "organ_id": "organ.voice.v1", "state": "draft", "report": None}
    assert client.post("/organs/organ.voice.v1/approve", json={}, headers=WRITE).json()["state"] == "canary"
    history = client.get("/factory/nodes/organ.voice.v1", headers=READ).json()["history"]  # an organ is a node
    assert [(h["action"], h["from_state"], h["to_state"]) for h in history] == [
        ("build", None, "draft"), ("approve", "draft", "canary")]
    for text, lang_words in (("Привет, Нейра!", "привет"), ("Hello, Neira 42", "forty")):
        response = client.post("/organs/organ.voice.v1/run", json={"input": {"text": text}}, headers=WRITE)
        assert response.status_code == 200, response.text
        body = response.json()
        assert [step["node"] for step in body["trace"]] == VOICE_NODES and all(s["ok"] for s in body["trace"])
        output = body["output"]
        assert wav_seconds(output["audio_base64"]) > 0.2
        assert output["phonemes"].strip() and any(c in output["phonemes"] for c in "ˈəɪʲɛæ")
        assert lang_words in output["text"] and Path(output["file"]).exists()
        assert set(output) >= {"request_id", "file", "audio_base64", "text", "phonemes"}
    status = client.get("/organs/organ.voice.v1/status", headers=READ).json()
    assert status["state"] == "canary" and [n["id"] for n in status["nodes"]] == VOICE_NODES
    assert all(n["health"] == "ok" and n["requests"] == 2 for n in status["nodes"])
    assert 'organ_build_attempts_total 2.0' in client.get("/metrics").text


def test_a_draft_organ_runs_as_a_dry_run_and_waits_for_its_nodes(rt):
    client, _ = rt
    for node_id in VOICE_NODES:
        data = yaml.safe_load((ROOT / "examples" / f"{node_id}.yaml").read_text())
        client.post("/factory/nodes", json=data, headers=WRITE)
    assert build(client, VOICE, dryrun=False).status_code == 200
    blocked = client.post("/organs/organ.voice.v1/approve", json={}, headers=WRITE)
    assert blocked.status_code == 409 and blocked.json()["code"] == "organ_nodes_not_live"
    assert blocked.json()["node"] == VOICE_NODES[0]
    response = client.post("/organs/organ.voice.v1/run", json={"input": {"text": "Тест"}}, headers=WRITE)
    assert response.status_code == 200 and response.json()["dry_run"] is True


@pytest.mark.parametrize("case", ["cycle", "missing", "mismatch", "gate", "unknown_field", "not_an_organ"])
def test_invalid_organs_are_refused_with_a_pointer(rt, case):
    client, _ = rt
    echo = node(client, "analysis.echo.v1", "echo")
    phonemes = node(client, "analysis.text_to_phonemes.v1", "text_to_phonemes")
    keywords = node(client, "analysis.keyword_classify.v1", "keyword_classify",
                    params={"keywords": {"value": {"greeting": ["hi"]}}})
    if case == "cycle":
        body, status, code, field = organ("organ.loop.v1", [echo, phonemes],
                                          channels=[{"name": "a", "nodes": [echo, phonemes]},
                                                    {"name": "b", "nodes": [phonemes, echo]}]), 422, "cycle", \
            "channels.1.nodes.1"
    elif case == "missing":
        body, status, code, field = organ("organ.gap.v1", [echo, "analysis.text_normalize.v3"]), 422, \
            "missing_node", "nodes.1"
    elif case == "mismatch":
        body, status, code, field = organ("organ.odd.v1", [keywords, phonemes]), 422, "type_mismatch", \
            "channels.0.nodes.1"
    elif case == "gate":
        client.put("/capabilities/organ_vision_readonly", json={"state": "locked"}, headers=ADMIN)
        body, status, code, field = organ("organ.eyes.v1", [echo], policies={"gates": ["organ_vision_readonly"]}), \
            403, "capability_disabled", "policies.gates.0"
    elif case == "unknown_field":
        body, status, code, field = organ("organ.x.v1", [echo], colour="red"), 422, "invalid_input", \
            "organ_template.colour"
    else:
        body, status, code, field = organ("analysis.x.v1", [echo]), 422, "invalid_input", "organ_template.id"
    for dryrun in (None, False):
        response = build(client, body, dryrun)
        assert response.status_code == status, response.text
        error = response.json()
        assert (error["code"], error["field"]) == (code, field), error
        assert error["reason"]
    if case == "missing":
        fabrication = error["report"]["fabrications"][0]
        assert fabrication["decision"] == "create" and "would create analysis.text_normalize.v3" in fabrication["message"]
        assert fabrication["request"]["template"]["analysis_type"] == "text_normalize"
    if case in ("cycle", "mismatch"):
        assert error["channel"] in ("a", "b", "main") and error["node"]
    if case == "gate":
        assert error["capability"] == "organ_vision_readonly"
    assert client.get("/organs", headers=READ).json() == []


def test_cancel_status_picture_and_listing(rt):
    client, _ = rt
    echo = node(client, "analysis.echo.v1", "echo")
    assert build(client, organ("organ.echo.v1", [echo]), dryrun=False).status_code == 200
    assert build(client, organ("organ.echo.v1", [echo]), dryrun=False).status_code == 409
    svg = client.get("/organs/organ.echo.v1/graph.svg", headers=READ)
    assert svg.headers["content-type"] == "image/svg+xml"
    assert "analysis.echo.v1" in ElementTree.fromstring(svg.content).itertext().__iter__().__next__() or \
        b"analysis.echo.v1" in svg.content
    assert [o["id"] for o in client.get("/organs", headers=READ).json()] == ["organ.echo.v1"]
    assert "organ.echo.v1" not in [n["id"] for n in client.get("/factory/nodes", headers=READ).json()]
    cancelled = client.delete("/organs/organ.echo.v1/build", headers=WRITE)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "failed"
    assert client.delete("/organs/organ.echo.v1/build", headers=WRITE).status_code == 409
    assert client.post("/organs/organ.echo.v1/run", json={"input": {}}, headers=WRITE).status_code == 409
    assert client.get("/organs/organ.nope.v1/status", headers=READ).status_code == 404
    assert client.post(f"/organs/{echo}/approve", json={}, headers=WRITE).status_code == 404  # a node, not an organ
    assert client.delete(f"/organs/{echo}/build", headers=WRITE).status_code == 404
    metrics = client.get("/metrics").text
    assert "organ_build_failures_total 2.0" in metrics  # the duplicate and the cancel


def test_an_organ_failure_names_the_node_and_keeps_the_trace(rt):
    client, _ = rt
    echo = node(client, "analysis.echo.v1", "echo")
    phonemes = node(client, "analysis.text_to_phonemes.v1", "text_to_phonemes")
    assert build(client, organ("organ.talk.v1", [echo, phonemes]), dryrun=False).status_code == 200
    client.post("/organs/organ.talk.v1/approve", json={}, headers=WRITE)
    response = client.post("/organs/organ.talk.v1/run", json={"input": {"number": 3}}, headers=WRITE)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["node"] == phonemes and error["organ"] == "organ.talk.v1"
    assert [(s["node"], s["ok"]) for s in error["trace"]] == [(echo, True), (phonemes, False)]


def test_an_organ_canary_takes_traffic_and_is_rolled_back_when_its_nodes_fail(rt):
    client, f = rt
    assert client.put("/capabilities/factory_script", json={"state": "experimental"}, headers=ADMIN).status_code == 200
    echo = node(client, "analysis.echo.v1", "echo")
    flaky = {"id": "analysis.flaky.v1", "version": "0.1.0", "analysis_type": "flaky", "backend": "script",
             "script": {"source": 'fn run(input) { if input.n % 4 == 0 { throw "flaky"; } input }'}}
    assert client.post("/factory/nodes", json=flaky, headers=WRITE).status_code == 201
    client.post("/factory/nodes/analysis.flaky.v1/approve", json={}, headers=WRITE)
    assert build(client, organ("organ.svc.v1", [echo]), dryrun=False).status_code == 200
    client.post("/organs/organ.svc.v1/approve", json={}, headers=WRITE)
    for _ in range(2):
        client.post("/organs/organ.svc.v1/approve", json={"force": True, "reason": "first version"}, headers=ADMIN)
    v2 = organ("organ.svc.v2", [echo, "analysis.flaky.v1"], rollout={"canary_weight": 0.5, "min_requests": 30})
    assert build(client, v2, dryrun=False).status_code == 200
    assert client.post("/organs/organ.svc.v2/approve", json={}, headers=WRITE).json()["state"] == "canary"
    served = {}
    for i in range(200):
        r = client.post("/invoke/organ.svc", json={"input": {"n": i}, "key": f"k{i}"}, headers=WRITE)
        who = r.json()["node_id"] if r.status_code == 200 else f"error:{r.json()['organ']}:{r.json()['node']}"
        served[who] = served.get(who, 0) + 1
    assert served["organ.svc.v1"] > 0 and served.get("error:organ.svc.v2:analysis.flaky.v1", 0) > 0
    Supervisor(f.supervisor.f, interval_s=3600).tick()
    assert client.get("/organs/organ.svc.v2/status", headers=READ).json()["state"] == "rolled_back"
    assert {client.post("/invoke/organ.svc", json={"input": {"n": i}, "key": f"k{i}"}, headers=WRITE).json()[
        "node_id"] for i in range(20)} == {"organ.svc.v1"}


def test_examples_load_organs_as_drafts(tmp_path):
    f = build_services(make_settings(tmp_path))
    created = load_examples(f.examples, ROOT / "examples")
    assert "organ.voice.v1" in created
    with f.read() as uow:
        assert uow.nodes.get("organ.voice.v1").state == "draft"
    f.db.dispose()


def _label(top: str, bottom: str) -> str:
    """A 200×100 PNG, `top` above `bottom`, black DejaVu Sans on white, as base64."""
    from base64 import b64encode

    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 28)
    image = Image.new("RGB", (200, 100), "white")
    draw = ImageDraw.Draw(image)
    draw.text((8, 8), top, font=font, fill="black")
    draw.text((8, 58), bottom, font=font, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return b64encode(buffer.getvalue()).decode()


def _examples_live(client, f, organ_id):
    load_examples(f.examples, ROOT / "examples")
    organ_doc = yaml.safe_load((ROOT / "examples" / f"{organ_id}.yaml").read_text())
    for node_id in organ_doc["nodes"]:
        assert client.post(f"/factory/nodes/{node_id}/approve", json={}, headers=WRITE).status_code == 200
    assert client.post(f"/organs/{organ_id}/approve", json={}, headers=WRITE).json()["state"] == "canary"


def test_vision_v2_reads_the_words_inside_its_region(rt):
    client, f = rt
    _examples_live(client, f, "organ.vision.v2")
    response = client.post("/organs/organ.vision.v2/run", json={"input": {"image": _label("Neira", "Привет")}},
                           headers=WRITE)
    assert response.status_code == 200, response.text
    output = response.json()["output"]
    assert "привет" in output["text"].lower() and "neira" not in output["text"].lower()
    assert output["boxes"] and all(box["y"] >= 50 for box in output["boxes"])  # in the whole image's pixels
    assert [s["node"] for s in response.json()["trace"]] == [
        "analysis.image_grayscale.v1", "analysis.image_downscale.v1", "analysis.ocr_roi.v1"]


def test_vision_v1_makes_a_small_black_and_white_picture(rt):
    from base64 import b64decode

    from PIL import Image

    client, f = rt
    _examples_live(client, f, "organ.vision.v1")
    response = client.post("/organs/organ.vision.v1/run", json={"input": {"image": _label("Neira", "42")}},
                           headers=WRITE)
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(b64decode(response.json()["output"]["image"])))
    assert max(image.size) <= 200 and set(image.convert("L").tobytes()) <= {0, 255}


# ---- Neira's organ files as they are -----------------------------------------------------------------------

def neira_echo_cell(client):
    """Neira's echo cell: the type `echo` its organ's role names, its id its own."""
    body = {"id": "analysis.echo_adapter.v1", "version": "0.1.0", "analysis_type": "echo"}
    assert client.post("/factory/nodes", json=body, headers=WRITE).status_code == 201
    assert client.post("/factory/nodes/analysis.echo_adapter.v1/approve", json={}, headers=WRITE).status_code == 200


NEIRA_ECHO = {"id": "organ.echo.v1", "version": "0.1.0", "roles": ["echo"], "cells": ["analysis.echo_adapter.v1"],
              "pathways": [{"name": "text", "cells": ["analysis.echo_adapter.v1"]}],
              "policies": {"stage": "draft", "hitl": True}}


@pytest.mark.parametrize("shape", ["cells in pathways", "cell objects", "nodes in channels"])
def test_neiras_organ_shape_builds_with_cells_inside_its_pathways(rt, shape):
    client, _ = rt
    neira_echo_cell(client)
    template = {
        "cells in pathways": NEIRA_ECHO,
        "cell objects": {**NEIRA_ECHO, "cells": [{"id": "analysis.echo_adapter.v1"}],
                         "pathways": [{"name": "text", "cells": [{"id": "analysis.echo_adapter.v1", "role": "echo"}]}]},
        "nodes in channels": organ("organ.echo.v1", ["analysis.echo_adapter.v1"]),
    }[shape]
    checked = build(client, template)
    assert checked.status_code == 200, checked.text
    assert checked.json()["state"] == "dry_run"
    built = build(client, template, dryrun=False)
    assert built.status_code == 200, built.text
    stored = client.get("/factory/nodes/organ.echo.v1", headers=READ).json()["template"]
    assert stored["channels"][0]["nodes"] == ["analysis.echo_adapter.v1"]  # kept in our spelling


@pytest.mark.parametrize("query,body,expected", [
    ("?dryrun=false", {}, "draft"), ("?dryrun=true", {}, "dry_run"), ("?dryrun=false", {"dryrun": False}, "draft"),
    ("", {"dryrun": False}, "draft"), ("", {}, "dry_run"),
])
def test_the_dryrun_query_is_honoured_like_the_body_field(rt, query, body, expected):
    client, _ = rt
    neira_echo_cell(client)
    answer = client.post(f"/organs/build{query}", json={"organ_template": NEIRA_ECHO, **body}, headers=WRITE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == expected


@pytest.mark.parametrize("query,body", [("?dryrun=false", {"dryrun": True}), ("?dryrun=true", {"dryrun": False}),
                                        ("?dryrun=perhaps", {})])
def test_a_dryrun_query_that_disagrees_with_the_body_or_is_not_a_boolean_is_a_422(rt, query, body):
    client, f = rt
    neira_echo_cell(client)
    answer = client.post(f"/organs/build{query}", json={"organ_template": NEIRA_ECHO, **body}, headers=WRITE)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"].endswith("dryrun")
    with f.read() as uow:
        assert uow.nodes.get("organ.echo.v1") is None
