"""examples/: every file parses as its model, and node examples really give their expected output."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from neira_factory import library
from neira_factory.backends.adapter import AdapterBackend, impl_name
from neira_factory.backends.base import ExecContext
from neira_factory.backends.memory import MemoryBackend
from neira_factory.backends.memory_access import MemoryAccess
from neira_factory.domain.schemas import schema_fits
from neira_factory.domain.shapes import parse_fabrication, parse_organ
from neira_factory.domain.templates import NodeTemplate, OrganTemplate
from neira_factory.nervous.metrics import FactoryMetrics
from neira_factory.services.bootstrap import read_gates
from neira_factory.services.dryrun import _matches

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FILES = sorted(EXAMPLES.glob("*.yaml"))
ORGAN_FILES = [f for f in FILES if f.name.startswith("organ.")]
NODE_FILES = [f for f in FILES if f not in ORGAN_FILES]
MEMORY_FILES = [f for f in NODE_FILES if f.name.startswith("memory.")]
ADAPTER_FILES = [f for f in NODE_FILES if f not in MEMORY_FILES]
KIND_KEYS = ("analysis_type", "action_type", "memory_type")
VOICE = ["analysis.text_normalize.v1", "analysis.text_to_phonemes.v1", "analysis.speak_adapter.v1",
         "action.speak_adapter.v1"]
NEIRA_FIELDS = ("id", "version", "links", "confidence_threshold", "draft_content", "metadata")


def load(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def node(path: Path) -> NodeTemplate:
    return parse_fabrication(load(path)).template


def test_the_expected_files_exist():
    names = {f.name.removesuffix(".yaml") for f in FILES}
    expected = {*VOICE, "analysis.echo.v1", "analysis.reverse.v1", "analysis.keyword_classify.v1",
                "organ.voice.v1", "organ.echo.v1", "organ.reverse.v1", "memory.facts.v1", "organ.recall.v1"}
    assert expected <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_is_named_by_its_id(path):
    assert load(path)["id"] == path.name.removesuffix(".yaml")


@pytest.mark.parametrize("path", NODE_FILES, ids=lambda p: p.name)
def test_node_file_parses_in_every_body_shape(path):
    doc = load(path)
    flat = parse_fabrication(doc).template
    assert isinstance(flat, NodeTemplate)
    assert parse_fabrication({"template": doc}).template == flat
    assert parse_fabrication({"spec": {"backend": flat.backend, "template": doc}}).template == flat
    assert flat.backend == ("memory" if path in MEMORY_FILES else "adapter")
    assert flat.metadata.get("schema") == "v1"


@pytest.mark.parametrize("path", NODE_FILES, ids=lambda p: p.name)
def test_node_file_has_neiras_required_fields(path):
    doc = load(path)
    missing = [f for f in NEIRA_FIELDS if f not in doc]
    assert missing == []
    kinds = [k for k in KIND_KEYS if k in doc]
    assert kinds == ["memory_type"] if path in MEMORY_FILES else kinds in (["analysis_type"], ["action_type"])
    assert doc["metadata"]["schema"] == "v1"
    assert doc["examples"], "every example node carries examples for the dry-run"


@pytest.mark.parametrize("path", ADAPTER_FILES, ids=lambda p: p.name)
def test_node_binds_a_library_impl_with_matching_io(path):
    template = node(path)
    name = impl_name(template)
    assert name in library.names()
    io = library.io_schema(name)
    assert schema_fits(template.io.input, io["input"]) == [], "the node accepts what the impl cannot take"
    assert schema_fits(io["output"], template.io.output) == [], "the impl gives what the node does not promise"
    assert not AdapterBackend().check(template)


def _cases():
    for path in ADAPTER_FILES:
        template = node(path)
        for i, example in enumerate(template.examples):
            yield pytest.param(path, i, id=f"{path.name}[{i}]")


def _no_links(node_id):
    raise AssertionError(f"an impl-bound example node must not run its link {node_id}")


@pytest.mark.parametrize(("path", "index"), list(_cases()))
def test_example_gives_its_expected_output(path, index, tmp_path):
    template = node(path)
    example = template.examples[index]
    assert example.expected is not None, "an example with no expectation proves nothing"
    ctx = ExecContext(side_effects=False, resolve=_no_links, execute=None, output_dir=tmp_path)
    output = AdapterBackend().run(template, example.input, ctx)
    assert _matches(example.expected, output), f"expected ⊆ output failed: {example.expected} vs {output}"
    assert list(tmp_path.iterdir()) == [], "a dry-run example wrote a file"


def _shared_store():
    raise AssertionError("a dry-run example reached the shared memory store")


@pytest.mark.parametrize("path", MEMORY_FILES, ids=lambda p: p.name)
def test_memory_examples_give_their_expected_output_on_one_throwaway_store(path):
    template = node(path)
    assert template.memory is not None and not MemoryBackend(None).check(template)
    backend = MemoryBackend(MemoryAccess(_shared_store, _shared_store, FactoryMetrics(lambda: 0)))
    ctx = ExecContext(side_effects=False, resolve=_no_links, execute=None, live=False)  # as the dry-run runs them
    ops = []
    for i, example in enumerate(template.examples):
        assert example.expected is not None, f"example {i} has no expectation"
        output = backend.run(template, example.input, ctx)
        assert _matches(example.expected, output), f"example {i}: expected {example.expected}, got {output}"
        ops.append(example.input["op"])
    assert "put" in ops and "search" in ops[ops.index("put"):], "show a put, then a search that finds it"


def test_recall_organ_is_typed_end_to_end():
    organ = parse_organ(load(EXAMPLES / "organ.recall.v1.yaml"))
    chain = [node(EXAMPLES / f"{i}.yaml") for i in organ.channels[0].nodes]
    assert [t.backend for t in chain] == ["adapter", "memory", "adapter"]
    assert chain[1].id == "memory.facts.v1"
    for a, b in zip(chain, chain[1:]):
        assert schema_fits(a.io.output, b.io.input) == [], f"{a.id} → {b.id}"


@pytest.mark.parametrize("path", ORGAN_FILES, ids=lambda p: p.name)
def test_organ_file_parses_and_references_example_nodes(path):
    organ = parse_organ(load(path))
    assert isinstance(organ, OrganTemplate)
    assert organ.nodes, "an organ needs nodes"
    node_ids = {f.name.removesuffix(".yaml") for f in NODE_FILES}
    assert set(organ.nodes) <= node_ids
    for channel in organ.channels:
        assert set(channel.nodes) <= set(organ.nodes)
    assert organ.policies.hitl is True
    gates = read_gates(EXAMPLES.parent / "capabilities.yaml")
    assert organ.policies.gates and all(g.startswith("organ_") and g in gates for g in organ.policies.gates)


def test_voice_organ_is_the_voice_chain():
    organ = parse_organ(load(EXAMPLES / "organ.voice.v1.yaml"))
    assert organ.nodes == VOICE[:3]
    assert [c.nodes for c in organ.channels] == [VOICE[:3]]
    assert organ.roles == ["text_normalize", "text_to_phonemes", "speak_adapter"]
    assert organ.policies.gates == ["organ_voice"]


def test_voice_channel_is_typed_end_to_end():
    templates = {f.name.removesuffix(".yaml"): node(f) for f in NODE_FILES}
    chain = [templates[i] for i in VOICE[:3]]
    for a, b in zip(chain, chain[1:]):
        assert schema_fits(a.io.output, b.io.input) == [], f"{a.id} → {b.id}"


def test_some_organ_uses_neiras_spelling():
    raw = [load(f) for f in ORGAN_FILES]
    assert any("cells" in doc for doc in raw)
    assert any("pathways" in doc for doc in raw)


def test_voice_nodes_link_as_neira_does():
    links = {i: node(EXAMPLES / f"{i}.yaml").links for i in VOICE}
    assert links == {
        "analysis.text_normalize.v1": [],
        "analysis.text_to_phonemes.v1": ["analysis.text_normalize.v1"],
        "analysis.speak_adapter.v1": ["analysis.text_to_phonemes.v1"],
        "action.speak_adapter.v1": ["analysis.speak_adapter.v1"],
    }
    assert node(EXAMPLES / "action.speak_adapter.v1.yaml").kind == "action"


def test_keyword_classify_threshold_is_tunable():
    template = node(EXAMPLES / "analysis.keyword_classify.v1.yaml")
    threshold = template.params["threshold"]
    assert threshold.tunable and threshold.min == 0 and threshold.max == 1
    assert not template.params["keywords"].tunable
    assert set(template.params["keywords"].value) == {"music", "weather"}
