"""The backend kinds' table (domain/backend_kinds.py) is what templates, gates, commands and the catalog read."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from neira_factory.backends.catalog import CATALOG, build_backends
from neira_factory.backends.memory_access import MemoryAccess
from neira_factory.commands.synonyms import CAPABILITY_PART_WORDS
from neira_factory.config import Settings
from neira_factory.domain.backend_kinds import BACKEND_KINDS, DEFAULT_BACKEND
from neira_factory.domain.capabilities import BACKEND_GATES, DEFAULT_GATES, GateState
from neira_factory.domain.templates import FactorySpec, NodeTemplate
from neira_factory.nervous.metrics import FactoryMetrics

KINDS = list(BACKEND_KINDS.values())
BASE = {"id": "analysis.kinds.v1", "version": "0.1.0", "analysis_type": "echo"}


def test_every_kind_has_a_class_in_the_catalog_and_build_backends_makes_them_all():
    assert {backend.name for backend in CATALOG} == {*BACKEND_KINDS, "organ"}
    unused = MemoryAccess(read=None, write=None, metrics=FactoryMetrics(lambda: 0.0))  # no store is reached here
    backends = build_backends(Settings(max_output_bytes=1234), unused)
    assert backends.max_output_bytes == 1234
    for name in (*BACKEND_KINDS, "organ"):
        assert backends.get(name).name == name


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_a_kind_gives_its_gate_and_the_gate_default(kind):
    assert BACKEND_GATES[kind.name] == kind.gate
    assert DEFAULT_GATES[kind.gate] == GateState(kind.default_state)
    assert CAPABILITY_PART_WORDS[kind.name] == kind.words


def test_non_backend_gates_stay_defaults():
    assert list(DEFAULT_GATES)[:len(KINDS)] == [kind.gate for kind in KINDS]
    assert DEFAULT_GATES["self_edit"] is GateState.LOCKED
    assert DEFAULT_GATES["organs_builder"] is GateState.EXPERIMENTAL


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_a_kind_names_the_templates_backend_and_its_payload_field(kind):
    for model in (NodeTemplate, FactorySpec):
        assert model.model_json_schema()["properties"]["backend"]["anyOf"][0]["enum"] == list(BACKEND_KINDS)
    assert NodeTemplate.model_fields[kind.name].annotation == kind.payload | None
    if kind.payload_required:
        with pytest.raises(ValidationError, match=f"backend '{kind.name}' needs a `{kind.name}: "):
            NodeTemplate.model_validate({**BASE, "backend": kind.name})


def test_payload_fields_sit_between_io_and_params():
    fields = list(NodeTemplate.model_fields)
    assert fields[fields.index("io") + 1:fields.index("params")] == list(BACKEND_KINDS)


def test_the_payload_picks_the_backend_and_none_picks_the_default():
    assert NodeTemplate.model_validate(BASE).backend == DEFAULT_BACKEND
    script = NodeTemplate.model_validate({**BASE, "script": {"source": "fn run(input) { input }"}})
    assert script.backend == "script"
    with pytest.raises(ValidationError, match=r"several backend payloads \(adapter, script\)"):
        NodeTemplate.model_validate({**BASE, "adapter": {}, "script": {"source": "fn run(input) { input }"}})
    with pytest.raises(ValidationError, match="backend 'wasm' needs a `wasm: {module, sha256, abi}` payload"):
        NodeTemplate.model_validate({**BASE, "backend": "wasm"})
