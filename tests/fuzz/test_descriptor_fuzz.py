"""Hypothesis on descriptor parsing, beyond tests/unit/test_descriptors.py (which throws arbitrary JSON and
near-valid templates at `parse_fabrication` / `parse_organ`).

Here the generated documents follow the templates' own shape, section by section (params, limits,
rollout with its SLO and baseline, io, adapter routes and maps, script, wasm, examples; organ channels,
roles, policies), with values at and beyond every bound (0, negative, huge ints, ±inf, NaN, -0.0,
unicode and control characters, lone surrogates), so that the deep validators run. Two properties:

1. parsing gives a template or a BadInput carrying a field path under the body's own prefix; never
   another exception;
2. what parsing accepts can be stored and loaded again: `template_bytes` (the canonical artifact) encodes,
   and `model_validate_json` of those bytes gives back a template whose artifact is byte-identical (the
   factory reloads and re-hashes the artifact at every use).
"""
from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neira_factory.domain.errors import BadInput
from neira_factory.domain.shapes import parse_fabrication, parse_organ
from neira_factory.domain.templates import NodeTemplate, OrganTemplate
from neira_factory.store.templates import template_bytes

TEMPLATE_FIELDS = set(NodeTemplate.model_fields) - {"backend"}
SETTINGS = settings(max_examples=int(os.environ.get("NEIRA_FUZZ_EXAMPLES", "300")), deadline=None,
                    suppress_health_check=list(HealthCheck))

# ---- leaves: mostly plausible, often at or beyond an edge ---------------------------------------------


def weighted(*pairs: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, picked with the given integer weights."""
    pool = [strategy for weight, strategy in pairs for _ in range(weight)]
    return st.integers(0, len(pool) - 1).flatmap(lambda i: pool[i])


EDGE_NUMBERS = st.sampled_from([0, -1, 1, 0.5, -0.0, 1.0000001, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 10**13,
                                10**13 + 1, 10**40, 1e-300, 1e308, math.inf, -math.inf, math.nan])
PLAUSIBLE = st.integers(1, 10_000) | st.floats(0, 1) | st.floats(1, 1000)
NUMBERS = weighted((6, PLAUSIBLE), (3, EDGE_NUMBERS), (1, st.integers() | st.floats()))
EDGE_TEXT = st.sampled_from(["", " ", "\x00", "\ud800", "\udfff", "é", "Привет", "a" * 1001, "${x}", "..",
                             "analysis.x.v1", "organ.x.v1", "echo", "reverse", "text_normalize", "\u202e"])
TEXT = weighted((3, st.text(max_size=12)), (2, EDGE_TEXT))
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                    max_leaves=12)
ID_PART = st.from_regex(r"[a-z][a-z0-9_-]{0,6}", fullmatch=True)
SUFFIX = weighted((6, st.sampled_from(["", ".v1", ".v2"])), (1, st.sampled_from([".v0", ".v99", ".V1", ".v1.v2"])))
LIBRARY = st.sampled_from(["echo", "reverse", "mirror", "text_normalize", "keyword_classify"])


def node_id(kind: str) -> st.SearchStrategy[str]:
    return weighted((8, st.builds(lambda name, suffix: f"{kind}.{name}{suffix}", ID_PART, SUFFIX)), (1, TEXT))


NODE_IDS = st.sampled_from(["analysis", "action", "memory"]).flatmap(node_id)
ABSENT = "absent"


def maybe(strategy):
    """A field's value: mostly from `strategy`; else absent, null, or any JSON at all."""
    return weighted((7, strategy), (1, st.just(ABSENT)), (1, st.none()), (1, JSON))


def section(**fields) -> st.SearchStrategy[dict]:
    """A dict with some of `fields` (each possibly null or of the wrong type) and, rarely, an unknown one."""
    def build(values: dict, extra: tuple | None) -> dict:
        out = {k: v for k, v in values.items() if v != ABSENT}
        if extra:
            out[extra[0]] = extra[1]
        return out

    return st.builds(build, st.fixed_dictionaries({}, optional={k: maybe(v) for k, v in fields.items()}),
                     weighted((9, st.none()), (1, st.tuples(TEXT, JSON))))


BOOL = st.booleans()
PARAM = section(value=JSON, min=NUMBERS, max=NUMBERS, step=NUMBERS, choices=st.lists(JSON, max_size=3),
                tunable=BOOL)
LIMITS = section(max_operations=NUMBERS, timeout_ms=NUMBERS, memory_mb=NUMBERS, fuel=NUMBERS)
SLO = section(error_rate_max=NUMBERS, p95_ms_max=NUMBERS, p99_ms_max=NUMBERS, operations_p95_max=NUMBERS,
              max_operations_p95=NUMBERS, memory_peak_mb_max=NUMBERS, mismatch_rate_max=NUMBERS)
BASELINE = section(enabled=BOOL, error_p_value=NUMBERS, latency_ratio_max=NUMBERS, latency_slack_ms=NUMBERS,
                   memory_ratio_max=NUMBERS, memory_slack_mb=NUMBERS, operations_ratio_max=NUMBERS,
                   operations_slack=NUMBERS)
ROLLOUT = section(mode=st.sampled_from(["split", "shadow", "split", "shadow", "canary", ""]), canary_weight=NUMBERS,
                  experimental_weight=NUMBERS, min_requests=NUMBERS, slo=SLO, auto_graduate=BOOL, auto_rollback=BOOL,
                  failure_limit=NUMBERS, inconclusive_limit=NUMBERS, baseline=BASELINE, serve_without_stable=BOOL)
JMESPATH = weighted((3, st.sampled_from(["text", "a.b", "length(text) > `3`", "[?", "`1`", "@", "foo[*].bar", "!",
                                          ""])), (1, TEXT))
ADAPTER = section(impl=LIBRARY | TEXT, chain=st.lists(NODE_IDS, max_size=3),
                  map=st.dictionaries(TEXT, JMESPATH, max_size=3),
                  routes=st.lists(section(when=JMESPATH, to=LIBRARY | NODE_IDS), max_size=3), fallback=LIBRARY | TEXT)
SCRIPT = section(source=weighted((3, st.sampled_from(["fn run(input) { input }", "let x = ;", "loop {}"])), (1, TEXT)))
HEX64 = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
WASM = section(module=st.sampled_from(["echo.wasm", "AGFzbQEAAAA=", "/etc/passwd", "../x.wasm"]) | TEXT,
               sha256=weighted((3, HEX64), (1, TEXT)), abi=st.sampled_from(["neira-json-v1", "wasi-command", "wasi"]))
IO = section(input=st.dictionaries(TEXT, JSON, max_size=3), output=st.dictionaries(TEXT, JSON, max_size=3))
EXAMPLES = st.lists(section(input=JSON, expected=JSON), max_size=3)
KIND_FIELD = {"analysis": "analysis_type", "action": "action_type", "memory": "memory_type"}


def template(kind: str) -> st.SearchStrategy[dict]:
    return st.builds(
        lambda node, kind_value, rest: {"id": node, KIND_FIELD[kind]: kind_value, "version": "0.1.0", **rest},
        node_id(kind), weighted((3, LIBRARY), (1, TEXT)),
        section(version=st.sampled_from(["0.1.0", "", "1" * 65]) | TEXT, links=st.lists(NODE_IDS, max_size=3),
                confidence_threshold=NUMBERS, draft_content=TEXT, metadata=st.dictionaries(TEXT, JSON, max_size=3),
                backend=st.sampled_from(["adapter", "script", "wasm", "organ"]), route=NODE_IDS, io=IO,
                adapter=ADAPTER, script=SCRIPT, wasm=WASM, params=st.dictionaries(TEXT, PARAM, max_size=3),
                limits=LIMITS, examples=EXAMPLES, rollout=ROLLOUT,
                **{f: TEXT for f in KIND_FIELD.values() if f != KIND_FIELD[kind]}))


TEMPLATE = st.sampled_from(list(KIND_FIELD)).flatmap(template)
REQUEST = section(reason=TEXT, requester=TEXT, dry_run=BOOL, hitl=BOOL)
SHAPES = {"flat": lambda t, r, b: {**t, **r}, "template": lambda t, r, b: {"template": t, **r},
          "tpl": lambda t, r, b: {"tpl": t, **r},
          "spec": lambda t, r, b: {"spec": {"template": t, **({"backend": b} if b else {})}, **r}}
BODY = st.builds(lambda t, r, shape, backend: SHAPES[shape](t, r, backend), TEMPLATE, REQUEST,
                 st.sampled_from(sorted(SHAPES)), st.none() | st.sampled_from(["adapter", "script", "wasm"]))
CHANNEL = section(name=TEXT, nodes=st.lists(NODE_IDS, min_size=1, max_size=3))
MEMBERS = st.lists(weighted((4, NODE_IDS), (1, section(id=NODE_IDS))), min_size=1, max_size=3)
ORGAN = st.builds(
    lambda organ_id, nodes_key, channels_key, members, channels, rest: {
        "id": organ_id, nodes_key: members, **({channels_key: channels} if channels is not None else {}), **rest},
    node_id("organ"), st.sampled_from(["nodes", "cells"]), st.sampled_from(["channels", "pathways"]), MEMBERS,
    st.none() | st.lists(CHANNEL, max_size=2),
    section(version=TEXT, roles=st.lists(TEXT, max_size=3) | st.dictionaries(TEXT, TEXT, max_size=2),
            policies=section(stage=TEXT, hitl=BOOL, gates=st.lists(TEXT, max_size=2)), rollout=ROLLOUT,
            limits=LIMITS, examples=EXAMPLES, metadata=st.dictionaries(TEXT, JSON, max_size=3)))


def _has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _stores_and_reloads(template: NodeTemplate | OrganTemplate, body) -> None:
    """Property 2: the canonical artifact encodes, reloads, and is a fixed point."""
    stored = template_bytes(template)
    reloaded = type(template).model_validate_json(stored)
    assert template_bytes(reloaded) == stored


@SETTINGS
@given(BODY)
def test_shaped_templates_parse_to_a_template_or_a_bad_input_and_store(body):
    try:
        request = parse_fabrication(body)
    except BadInput as err:
        field = err.extra.get("field")
        assert isinstance(field, str) and field and err.reason
        if set(body) & {"spec", "template", "tpl"} and field.split(".")[0] in TEMPLATE_FIELDS:
            pytest.fail(f"a problem inside a wrapped template must point under its wrapper, got {field}")
        return
    assert not _has_lone_surrogate(body), "a lone surrogate was accepted"
    _stores_and_reloads(request.template, body)


@SETTINGS
@given(ORGAN)
def test_shaped_organs_parse_to_a_template_or_a_bad_input_and_store(data):
    try:
        organ = parse_organ(data)
    except BadInput as err:
        assert err.extra.get("field", "").startswith("organ_template") and err.reason
        return
    assert organ.nodes and not _has_lone_surrogate(data)
    _stores_and_reloads(organ, data)
