"""The voice organ on a real `neira-factory serve` with the examples loaded: approve the nodes and the
organ, run it over HTTP, and get a WAV that parses; its picture and status; its route serves traffic."""
from __future__ import annotations

import io
import wave
from base64 import b64decode
from xml.etree import ElementTree

VOICE_NODES = ["analysis.text_normalize.v1", "analysis.text_to_phonemes.v1", "analysis.speak_adapter.v1"]


def test_the_voice_organ_speaks_over_http(start_server):
    server = start_server(examples=True)
    writer, reader, admin = server.client("write"), server.client("read"), server.client("admin")
    assert [o["id"] for o in reader.get("/organs").json() if o["id"] == "organ.voice.v1"] == ["organ.voice.v1"]
    for node_id in VOICE_NODES:
        assert writer.post(f"/factory/nodes/{node_id}/approve", json={"reason": "e2e"}).status_code == 200
    assert writer.post("/organs/organ.voice.v1/approve", json={"reason": "e2e"}).json()["state"] == "canary"

    response = writer.post("/organs/organ.voice.v1/run", json={"input": {"text": "Hello, Neira 42"}})
    assert response.status_code == 200, response.text
    output = response.json()["output"]
    raw = b64decode(output["audio_base64"])
    with wave.open(io.BytesIO(raw)) as w:
        assert w.getnframes() / w.getframerate() > 0.3
    assert "forty" in output["text"] and output["phonemes"].strip()

    svg = reader.get("/organs/organ.voice.v1/graph.svg")
    assert svg.status_code == 200 and "analysis.speak_adapter.v1" in svg.text
    ElementTree.fromstring(svg.content)
    status = reader.get("/organs/organ.voice.v1/status").json()
    assert [n["health"] for n in status["nodes"]] == ["ok", "ok", "ok"]

    for _ in range(2):
        r = admin.post("/organs/organ.voice.v1/approve", json={"force": True, "reason": "e2e: first version"})
        assert r.status_code == 200, r.text
    routed = writer.post("/invoke/organ.voice", json={"input": {"text": "Привет"}})
    assert routed.status_code == 200 and routed.json()["node_id"] == "organ.voice.v1"
    assert routed.json()["output"]["phonemes"].strip()
