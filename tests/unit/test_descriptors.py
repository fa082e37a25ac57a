"""Descriptors: the body shapes Neira's clients send, NodeTemplate / OrganTemplate rules, and BadInput paths."""
from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neira_factory.domain.errors import BadInput
from neira_factory.domain.ids import is_valid_id, route_of, version_number
from neira_factory.domain.shapes import parse_fabrication, parse_organ
from neira_factory.domain.templates import FabricationRequest, NodeTemplate, OrganTemplate

BASE = {
    "id": "analysis.text_to_phonemes.v1",
    "version": "0.1.0",
    "analysis_type": "text_to_phonemes",
    "links": ["analysis.text_normalize.v1"],
    "confidence_threshold": 0.6,
    "draft_content": "phonemes of a text",
    "metadata": {"schema": "v1"},
}
SCRIPT = {**BASE, "id": "analysis.count.v1", "analysis_type": "count", "links": [],
          "script": {"source": "fn run(input) { #{n: 1} }"}}


def tpl(**changes):
    """BASE with changes; a value of None removes the field."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def bad(body, field):
    """parse_fabrication(body) must raise BadInput pointing at `field`; returns the error."""
    with pytest.raises(BadInput) as info:
        parse_fabrication(body)
    err = info.value
    assert err.extra["field"] == field, err.reason
    assert err.status == 422 and err.code == "invalid_input"
    assert err.body()["field"] == field
    return err


# --- body shapes -------------------------------------------------------------------------------

def shapes(template, backend="adapter"):
    return {
        "flat": {**template, "backend": backend},
        "flat_no_backend": dict(template),
        "template": {"template": template},
        "tpl": {"tpl": template},
        "template_backend": {"template": template, "backend": backend},
        "spec": {"spec": {"backend": backend, "template": template}},
        "spec_no_backend": {"spec": {"template": template}},
    }


@pytest.mark.parametrize("template", [BASE, SCRIPT], ids=["adapter", "script"])
def test_every_body_shape_means_the_same(template):
    backend = "script" if "script" in template else "adapter"
    parsed = {name: parse_fabrication(body) for name, body in shapes(template, backend).items()}
    first = parsed["flat"]
    assert isinstance(first, FabricationRequest)
    assert first.template.backend == backend
    for name, request in parsed.items():
        assert request == first, name
        assert request.template.to_document() == first.template.to_document(), name


@pytest.mark.parametrize("shape", ["flat", "template", "tpl", "spec"])
def test_request_fields_sit_beside_any_shape(shape):
    body = shapes(BASE)[shape]
    request = parse_fabrication({**body, "reason": "voice v1", "requester": "neira", "dry_run": True, "hitl": False})
    assert (request.reason, request.requester, request.dry_run, request.hitl) == ("voice v1", "neira", True, False)
    assert request.template.id == BASE["id"]


def test_request_defaults():
    request = parse_fabrication(BASE)
    assert (request.reason, request.requester, request.dry_run, request.hitl) == (None, None, False, True)


def test_parse_does_not_mutate_the_body():
    body = {"spec": {"backend": "adapter", "template": tpl()}, "reason": "r"}
    snapshot = copy.deepcopy(body)
    parse_fabrication(body)
    assert body == snapshot


def test_neiras_minimal_voice_template_is_accepted():
    minimal = {"id": "analysis.speak_adapter.v1", "version": "0.1.0", "analysis_type": "speak_adapter",
               "links": ["analysis.text_to_phonemes.v1"], "metadata": {"schema": "v1"}}
    template = parse_fabrication(minimal).template
    assert template.backend == "adapter"
    assert template.confidence_threshold is None and template.draft_content is None
    assert template.adapter is None and template.examples == []


# --- kind, backend, defaults -------------------------------------------------------------------

@pytest.mark.parametrize(("field", "kind"), [("analysis_type", "analysis"), ("action_type", "action"),
                                             ("memory_type", "memory")])
def test_kind_comes_from_the_type_field(field, kind):
    body = {k: v for k, v in BASE.items() if k != "analysis_type"} | {field: "speak_adapter",
                                                                       "id": f"{kind}.speak_adapter.v1"}
    template = parse_fabrication(body).template
    assert template.kind == kind
    assert template.node_type == "speak_adapter"


def test_id_prefix_must_agree_with_the_kind():
    body = {k: v for k, v in BASE.items() if k != "analysis_type"} | {"action_type": "speak_adapter",
                                                                       "id": "analysis.speak_adapter.v1"}
    with pytest.raises(BadInput) as info:
        parse_fabrication(body)
    assert "action node" in info.value.reason


@pytest.mark.parametrize(("payload", "backend"), [
    ({}, "adapter"),
    ({"adapter": {"impl": "echo"}}, "adapter"),
    ({"script": {"source": "fn run(input) { input }"}}, "script"),
    ({"wasm": {"module": "nodes/count.wasm"}}, "wasm"),
])
def test_backend_defaults_to_the_only_payload(payload, backend):
    assert parse_fabrication(tpl(**payload)).template.backend == backend


def test_extension_defaults():
    template = parse_fabrication(tpl(links=None, metadata=None)).template
    assert template.links == []
    assert template.metadata == {"schema": "v1"}
    assert template.io.input == {"type": "object"} and template.io.output == {"type": "object"}
    assert (template.limits.max_operations, template.limits.timeout_ms, template.limits.memory_mb,
            template.limits.fuel) == (1_000_000, 1000, 64, 10_000_000)
    rollout = template.rollout
    assert (rollout.mode, rollout.canary_weight, rollout.experimental_weight, rollout.min_requests) == \
        ("split", 0.05, 0.5, 200)
    assert (rollout.auto_graduate, rollout.auto_rollback, rollout.failure_limit) == (False, True, 0)
    assert template.params == {} and template.examples == []
    assert template.route is None


def test_wasm_abi_defaults_and_sha256_is_checked():
    template = parse_fabrication(tpl(wasm={"module": "m.wasm", "sha256": "a" * 64})).template
    assert template.wasm.abi == "neira-json-v1"
    bad(tpl(wasm={"module": "m.wasm", "sha256": "A" * 64}), "wasm.sha256")
    bad(tpl(wasm={"module": "m.wasm", "abi": "wasi"}), "wasm.abi")


def test_param_values_skip_unset_values():
    template = parse_fabrication(tpl(params={"threshold": {"value": 0.5, "min": 0, "max": 1, "tunable": True},
                                             "unset": {"min": 0}})).template
    assert template.param_values() == {"threshold": 0.5}
    assert template.params["threshold"].tunable is True


def test_to_document_is_json_ready_without_nones():
    doc = parse_fabrication(tpl(action_type=None)).template.to_document()
    assert doc["backend"] == "adapter"
    assert "action_type" not in doc and "memory_type" not in doc and "route" not in doc
    assert NodeTemplate.model_validate(doc).to_document() == doc


# --- routes and versions ------------------------------------------------------------------------

@pytest.mark.parametrize(("node_id", "route", "number"), [
    ("analysis.text_normalize.v1", "analysis.text_normalize", 1),
    ("analysis.text_normalize.v12", "analysis.text_normalize", 12),
    ("analysis.text_normalize", "analysis.text_normalize", None),
    ("analysis.voice.v2.beta", "analysis.voice.v2.beta", None),
    ("analysis.voice.vx", "analysis.voice.vx", None),
])
def test_route_is_the_id_without_its_version_suffix(node_id, route, number):
    assert route_of(node_id) == route
    assert version_number(node_id) == number
    assert parse_fabrication(tpl(id=node_id, links=[])).template.route_name == route


def test_new_version_keeps_the_route():
    v1 = parse_fabrication(tpl(id="analysis.text_to_phonemes.v1")).template
    v2 = parse_fabrication(tpl(id="analysis.text_to_phonemes.v2")).template
    assert v1.id != v2.id and v1.route_name == v2.route_name == "analysis.text_to_phonemes"


def test_explicit_route_wins_and_is_checked():
    assert parse_fabrication(tpl(route="analysis.phonemes")).template.route_name == "analysis.phonemes"
    bad(tpl(route="Phonemes"), "route")


@pytest.mark.parametrize("value", ["analysis.x", "analysis.text_normalize.v1", "a.b-c.d_e.v3"])
def test_valid_ids(value):
    assert is_valid_id(value)


@pytest.mark.parametrize("value", ["analysis", "Analysis.x", "analysis..x", "analysis.x.", ".x", "1a.b",
                                   "analysis.x y", "analysis.x/y", "a." + "b" * 200])
def test_invalid_ids(value):
    assert not is_valid_id(value)
    bad(tpl(id=value), "id")


# --- BadInput and where it points ----------------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    (tpl(colour="red"), "colour"),
    (tpl(io={"input": {}, "format": "json"}), "io.format"),
    (tpl(adapter={"implementation": "echo"}), "adapter.implementation"),
    (tpl(adapter={"routes": [{"when": "text", "to": "echo", "priority": 1}]}), "adapter.routes.0.priority"),
    (tpl(limits={"timeout": 5}), "limits.timeout"),
    (tpl(rollout={"slo": {"p50_ms_max": 3}}), "rollout.slo.p50_ms_max"),
    (tpl(examples=[{"input": {}, "output": {}}]), "examples.0.output"),
    (tpl(id="Analysis.Phonemes"), "id"),
    (tpl(id=None), "id"),
    (tpl(version=None), "version"),
    (tpl(version=1), "version"),
    (tpl(version=""), "version"),
    (tpl(links="analysis.text_normalize.v1"), "links"),
    (tpl(links=["not a node"]), "links"),
    (tpl(confidence_threshold=1.5), "confidence_threshold"),
    (tpl(confidence_threshold="high"), "confidence_threshold"),
    (tpl(metadata=["schema", "v1"]), "metadata"),
    (tpl(backend="rust"), "backend"),
    (tpl(limits={"timeout_ms": 0}), "limits.timeout_ms"),
    (tpl(limits={"memory_mb": 5000}), "limits.memory_mb"),
    (tpl(rollout={"canary_weight": 2}), "rollout.canary_weight"),
    (tpl(rollout={"mode": "blue_green"}), "rollout.mode"),
    (tpl(params={"x": {"min": 2, "max": 1}}), "params.x"),
    (tpl(params={"x": {"step": 0}}), "params.x.step"),
    (tpl(examples=[{"expected": {}}]), "examples.0.input"),
    (tpl(examples=[{"input": {}}] * 101), "examples"),
    (tpl(script={"source": ""}), "script.source"),
    (tpl(wasm={"sha256": "a" * 64}), "wasm.module"),
    (tpl(adapter={"routes": [{"when": "", "to": "echo"}]}), "adapter.routes.0.when"),
])
def test_bad_template_points_at_the_field(body, field):
    bad(body, field)
    # the same template wrapped reports the same field under the wrapper's path
    bad({"template": body}, f"template.{field}")
    bad({"tpl": body}, f"tpl.{field}")
    bad({"spec": {"template": body}}, f"spec.template.{field}")


# Cross-field rules come from NodeTemplate's model validator, which pydantic locates at the
# template itself: the field is the template's own path ("body" when flat). If the validator
# ever learns to point at e.g. `analysis_type`, update these expectations.
@pytest.mark.parametrize(("body", "words"), [
    (tpl(action_type="speak_adapter"), "exactly one of analysis_type"),
    (tpl(analysis_type=None), "exactly one of analysis_type"),
    (tpl(analysis_type="a", action_type="b", memory_type="c"), "exactly one of analysis_type"),
    (tpl(backend="script"), "needs a `script: {source}` payload"),
    (tpl(backend="wasm", script={"source": "x"}), "needs a `wasm:"),
    (tpl(links=[BASE["id"]]), "cannot link to itself"),
])
def test_cross_field_rules_point_at_the_template(body, words):
    assert words in bad(body, "body").reason
    assert words in bad({"template": body}, "template").reason
    assert words in bad({"spec": {"template": body}}, "spec.template").reason


def test_script_backend_from_the_spec_needs_a_payload():
    err = bad({"spec": {"backend": "script", "template": tpl()}}, "spec.template")
    assert "script" in err.reason


@pytest.mark.parametrize("body", [
    {"spec": {"backend": "script", "template": tpl(backend="adapter")}},
    {"backend": "wasm", "template": tpl(backend="adapter")},
    {"backend": "script", "tpl": tpl(backend="adapter", script={"source": "x"})},
])
def test_backend_mismatch_between_body_and_template(body):
    assert "differs" in bad(body, "backend").reason


def test_same_backend_twice_is_no_mismatch():
    body = {"spec": {"backend": "script", "template": tpl(backend="script", script={"source": "x"})}}
    assert parse_fabrication(body).template.backend == "script"


@pytest.mark.parametrize(("body", "field"), [
    ([BASE], "body"),
    ("analysis.x", "body"),
    (None, "body"),
    ({"spec": "adapter"}, "spec"),
    ({"spec": {"backend": "adapter"}}, "spec"),
    ({"spec": {"template": ["id"]}}, "spec"),
    ({"spec": {"template": BASE, "tpl": BASE}}, "spec"),
    ({"template": "analysis.x"}, "template"),
    ({"tpl": [BASE]}, "tpl"),
    ({"template": BASE, "colour": "red"}, "colour"),
    ({"spec": {"template": BASE}, "template": BASE}, "template"),
    ({"template": BASE, "dry_run": "maybe"}, "dry_run"),
    ({"template": BASE, "hitl": [True]}, "hitl"),
    ({"template": BASE, "reason": "x" * 2001}, "reason"),
    ({"template": BASE, "requester": 7}, "requester"),
])
def test_bad_body_points_at_the_field(body, field):
    bad(body, field)


def test_unknown_empty_key_still_names_a_field():
    with pytest.raises(BadInput) as info:
        parse_fabrication({"template": BASE, "": None})
    assert info.value.extra["field"] != ""


def test_all_problems_are_listed_first_leads():
    err = bad(tpl(version=1, confidence_threshold=7, limits={"timeout_ms": -1}), "version")
    fields = [e["field"] for e in err.extra["errors"]]
    assert fields == ["version", "confidence_threshold", "limits.timeout_ms"]
    assert err.reason.startswith("version: ")


# --- OrganTemplate --------------------------------------------------------------------------------

VOICE_NODES = ["analysis.text_normalize.v1", "analysis.text_to_phonemes.v1", "analysis.speak_adapter.v1"]
ORGAN = {"id": "organ.voice.v1", "roles": ["text_normalize", "text_to_phonemes", "speak_adapter"],
         "policies": {"hitl": True, "gates": ["organ_voice"]}}


def test_cells_and_pathways_are_aliases_of_nodes_and_channels():
    neira = parse_organ({**ORGAN, "cells": VOICE_NODES, "pathways": [{"name": "speech", "nodes": VOICE_NODES}]})
    ours = parse_organ({**ORGAN, "nodes": VOICE_NODES, "channels": [{"name": "speech", "nodes": VOICE_NODES}]})
    assert neira == ours
    assert ours.nodes == VOICE_NODES and ours.channels[0].nodes == VOICE_NODES
    dumped = ours.model_dump(by_alias=True)
    assert dumped["cells"] == VOICE_NODES and dumped["pathways"][0]["name"] == "speech"


def test_organ_nodes_come_from_channels_when_absent():
    organ = parse_organ({"id": "organ.mix", "channels": [{"name": "a", "nodes": ["analysis.a", "analysis.b"]},
                                                          {"name": "b", "nodes": ["analysis.b", "analysis.c"]}]})
    assert organ.nodes == ["analysis.a", "analysis.b", "analysis.c"]


def test_cells_may_be_objects_with_an_id():
    organ = parse_organ({"id": "organ.voice.v1", "cells": [{"id": VOICE_NODES[0]}, VOICE_NODES[1]]})
    assert organ.nodes == VOICE_NODES[:2]


def test_organ_defaults():
    organ = parse_organ({"id": "organ.echo.v1", "nodes": ["analysis.echo.v1"]})
    assert organ.version == "0.1.0" and organ.roles == [] and organ.channels == []
    assert organ.policies.hitl is True and organ.policies.gates == []
    assert organ.metadata == {} and organ.rollout.mode == "split"


def test_roles_may_be_a_mapping():
    organ = parse_organ({"id": "organ.echo.v1", "roles": {"echo": "analysis.echo.v1"}, "cells": ["analysis.echo.v1"]})
    assert organ.roles == {"echo": "analysis.echo.v1"}


@pytest.mark.parametrize(("data", "field"), [
    ({"id": "organ.voice.v1"}, "organ_template"),
    ({"id": "organ.voice.v1", "nodes": []}, "organ_template"),
    ({"id": "Organ Voice", "nodes": VOICE_NODES}, "organ_template.id"),
    ({"nodes": VOICE_NODES}, "organ_template.id"),
    ({"id": "organ.voice.v1", "nodes": VOICE_NODES, "cells": VOICE_NODES}, "organ_template.nodes"),
    ({"id": "organ.voice.v1", "channels": [{"name": "s", "nodes": []}]}, "organ_template.channels.0.nodes"),
    ({"id": "organ.voice.v1", "pathways": [{"nodes": VOICE_NODES}]}, "organ_template.pathways.0.name"),
    ({"id": "organ.voice.v1", "nodes": VOICE_NODES, "policies": {"gates": "organ_voice"}},
     "organ_template.policies.gates"),
    ({"id": "organ.voice.v1", "nodes": VOICE_NODES, "organs": []}, "organ_template.organs"),
    ({"id": "organ.voice.v1", "cells": [{"name": "x"}]}, "organ_template.cells.0"),
])
def test_bad_organ_points_at_the_field(data, field):
    with pytest.raises(BadInput) as info:
        parse_organ(data)
    assert info.value.extra["field"] == field, info.value.reason


@pytest.mark.parametrize("data", [[], "organ.voice.v1", None])
def test_organ_must_be_an_object(data):
    with pytest.raises(BadInput) as info:
        parse_organ(data)
    assert info.value.extra["field"] == "organ_template"


def test_organ_template_model_is_what_parse_organ_returns():
    assert isinstance(parse_organ({**ORGAN, "nodes": VOICE_NODES}), OrganTemplate)


# --- anything a client sends: BadInput or a request, nothing else ---------------------------------

FIELDS = ["id", "version", "analysis_type", "action_type", "memory_type", "links", "confidence_threshold",
          "draft_content", "metadata", "backend", "route", "io", "adapter", "script", "wasm", "params", "limits",
          "examples", "rollout", "template", "tpl", "spec", "reason", "requester", "dry_run", "hitl", "impl",
          "chain", "map", "routes", "fallback", "source", "module", "sha256", "abi", "input", "output", "value",
          "min", "max", "step", "choices", "tunable", "when", "to", "mode", "slo", "schema", "cells", "nodes"]
KEYS = st.sampled_from(FIELDS) | st.text(max_size=8)
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=20) | st.sampled_from(["adapter", "script", "wasm", "analysis.x.v1", "echo", "0.1.0"]))
JSON = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(KEYS, children, max_size=6), max_leaves=30)
BODIES = st.dictionaries(KEYS, JSON, max_size=8)
# near-valid templates with random fields swapped in reach the deeper validators
NEAR = st.builds(lambda changes, drop: {k: v for k, v in {**BASE, **changes}.items() if k not in drop},
                 st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=4), st.sets(st.sampled_from(list(BASE))))
WRAPPED = NEAR.flatmap(lambda t: st.sampled_from([t, {"template": t}, {"tpl": t}, {"spec": {"template": t}},
                                                  {"spec": {"backend": "adapter", "template": t}}]))


def _parse_only_bad_input(body):
    try:
        request = parse_fabrication(body)
    except BadInput as err:
        assert isinstance(err.extra.get("field"), str), "a BadInput always carries a field path"
        assert isinstance(err.reason, str) and err.reason
        return
    assert isinstance(request, FabricationRequest)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES | st.lists(JSON, max_size=3) | SCALARS)
def test_arbitrary_bodies_only_raise_bad_input(body):
    _parse_only_bad_input(body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(WRAPPED)
def test_near_valid_templates_only_raise_bad_input(body):
    _parse_only_bad_input(body)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["id", "version", "roles", "nodes", "cells", "channels", "pathways",
                                        "policies", "rollout", "metadata"]) | KEYS, JSON, max_size=6))
def test_arbitrary_organs_only_raise_bad_input(data):
    try:
        organ = parse_organ(data)
    except BadInput as err:
        assert err.extra.get("field", "").startswith("organ_template")
        return
    assert organ.nodes
