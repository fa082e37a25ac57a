"""organs.picture: the organ graph as DOT and as SVG drawn by graphviz."""
from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from neira_factory.organs import picture
from neira_factory.organs.picture import PALETTE, dot_source, svg

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed")

NORMALIZE = "analysis.text_normalize.v1"
PHONEMES = "analysis.text_to_phonemes.v1"
ADAPTER = "analysis.speak_adapter.v1"
GHOST = "analysis.ghost.v1"

GRAPH = {
    "nodes": [
        {"id": NORMALIZE, "state": "stable", "roles": ["text_normalize"]},
        {"id": PHONEMES, "state": "canary", "roles": ["text_to_phonemes"]},
        {"id": ADAPTER, "state": "draft", "roles": []},
        {"id": GHOST, "state": "missing", "roles": []},
    ],
    "edges": [
        {"from": NORMALIZE, "to": PHONEMES, "channel": "speech"},
        {"from": PHONEMES, "to": ADAPTER, "channel": "speech"},
        {"from": ADAPTER, "to": GHOST, "channel": "echo"},
    ],
    "order": [NORMALIZE, PHONEMES, ADAPTER, GHOST],
}
SVG = "{http://www.w3.org/2000/svg}"


def texts(document: bytes) -> list[str]:
    root = ET.fromstring(document)
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def fill_of(document: bytes, node_id: str) -> str:
    """The fill of the shape of the node whose label starts with `node_id`."""
    root = ET.fromstring(document)
    for group in root.iter(f"{SVG}g"):
        if group.get("class") != "node":
            continue
        if any((t.text or "") == node_id for t in group.iter(f"{SVG}text")):
            shape = next(e for e in group.iter() if e.tag in (f"{SVG}path", f"{SVG}polygon"))
            return shape.get("fill")
    raise AssertionError(f"no node {node_id}")


def test_dot_source_is_left_to_right_with_synthetic_ids_and_channel_labels():
    source = dot_source(GRAPH, title="organ.voice.v1")
    assert "rankdir=LR" in source and 'label="organ.voice.v1"' in source
    assert 'n0 [label="analysis.text_normalize.v1\\ntext_normalize\\nstable"' in source
    assert 'n0 -> n1 [label="speech"' in source and 'n2 -> n3 [label="echo"' in source
    assert f'fillcolor="{PALETTE["stable"][0]}"' in source and f'fillcolor="{PALETTE["canary"][0]}"' in source
    assert 'style="rounded,dashed"' in source  # the missing node


def test_an_edge_to_an_unlisted_node_draws_it_as_missing():
    source = dot_source({"nodes": [], "edges": [{"from": "a", "to": "b", "channel": "c"}]}, title="t")
    assert source.count('style="rounded,dashed"') == 2 and "n0 -> n1" in source


@needs_dot
def test_svg_parses_and_shows_every_node_and_channel():
    document = svg(GRAPH, title="organ.voice.v1")
    shown = texts(document)
    for node in GRAPH["nodes"]:
        assert node["id"] in shown
    assert "speech" in shown and "echo" in shown and "organ.voice.v1" in shown
    assert fill_of(document, NORMALIZE) != fill_of(document, PHONEMES)
    assert fill_of(document, NORMALIZE) == PALETTE["stable"][0]
    assert fill_of(document, PHONEMES) == PALETTE["canary"][0]


HOSTILE = 'analysis.x"];\nevil [label="pwned" shape=<b>x</b>] n0 -> n0 [label="\\'
HOSTILE_CHANNEL = 'ch" -> n0 [color=red]; // &lt; \\N </text><script>'


def test_hostile_text_is_escaped_in_the_dot_source():
    graph = {"nodes": [{"id": HOSTILE, "state": 'st"ate', "roles": ["r>\\"]}],
             "edges": [{"from": HOSTILE, "to": HOSTILE, "channel": HOSTILE_CHANNEL}]}
    source = dot_source(graph, title='t"itle\\')
    outside_quotes = re.sub(r'"(?:[^"\\]|\\.)*"', '""', source)
    assert "evil" not in outside_quotes and "pwned" not in outside_quotes and "red" not in outside_quotes
    assert outside_quotes.count("n0 -> n0") == 1
    lines = source.splitlines()
    assert len(lines) == 7 and lines[-1] == "}"  # 4 header lines, the node, its edge: no line of its own


@needs_dot
def test_hostile_text_still_renders_as_text():
    graph = {"nodes": [{"id": HOSTILE, "state": "quarantined", "roles": []}, {"id": "analysis.b.v1", "state": "x"}],
             "edges": [{"from": HOSTILE, "to": "analysis.b.v1", "channel": HOSTILE_CHANNEL}]}
    source = dot_source(graph, title="organ.\u00abevil\u00bb")
    done = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, timeout=5, check=False)
    assert done.returncode == 0, done.stderr
    document = svg(graph, title="organ.\u00abevil\u00bb")
    root = ET.fromstring(document)
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))
    shown = texts(document)
    assert 'analysis.x"];' in shown  # the id's first line, shown literally
    assert HOSTILE_CHANNEL in shown  # quotes, `&lt;`, `\N` and tags all as written
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]) == 2


def test_control_characters_and_lone_surrogates_do_not_break_the_source():
    source = dot_source({"nodes": [{"id": "a\x00b\rc\td\ud800", "state": "stable"}], "edges": []}, title="t")
    assert "\x00" not in source and "\r" not in source
    source.encode("utf-8")


def test_missing_dot_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RuntimeError, match="graphviz"):
        svg(GRAPH, title="organ.voice.v1")


@needs_dot
def test_a_dot_failure_or_timeout_is_a_runtime_error(monkeypatch):
    def slow(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs.get("timeout"))

    monkeypatch.setattr(picture.subprocess, "run", slow)
    with pytest.raises(RuntimeError, match="longer than 5 s"):
        svg(GRAPH, title="t")

    def failing(*args, **kwargs):
        assert kwargs["timeout"] == picture.RENDER_TIMEOUT_S and isinstance(kwargs["input"], bytes)
        assert isinstance(args[0], list)  # never a shell command line
        return subprocess.CompletedProcess(args[0], 1, b"", b"syntax error")

    monkeypatch.setattr(picture.subprocess, "run", failing)
    with pytest.raises(RuntimeError, match="syntax error"):
        svg(GRAPH, title="t")
