"""JSON that schemathesis never sends, at the endpoints that take free JSON (`Any`): a run's input, an
invocation's input, a template's examples / metadata / params / io, a training dataset.

Python's json (which the app uses) reads more than strict JSON: NaN, Infinity and -Infinity, integers of
any size (up to 4300 digits), lone surrogates as `\\udXXX` escapes, -0.0. Each request must get an answer
that is not a 5xx (except a 502/504 of a node's own failure, with its error body) and is itself strict
JSON. What the factory cannot carry (lone surrogates, NaN/Infinity, nesting past MAX_DEPTH) is refused
with a 422 naming the body's field, wherever it sits.
"""
from __future__ import annotations

import json
import math
import os

import pytest
from fastapi.testclient import TestClient
from fuzz_seed import ORGAN, SCRIPT, STABLE, TRAINABLE, seed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import auth, make_settings

from neira_factory.api.app import create_app
from neira_factory.domain.json_values import MAX_DEPTH
from neira_factory.services.bootstrap import build_services
from neira_factory.config.tokens import TokenRegistry

ADMIN = {**auth("admin"), "content-type": "application/json"}
EDGES = st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 2**63, -(2**63) - 1, 10**400, 1e-320, 1.7976931348623157e308,
                         "\ud800", "\udfff", "a\ud83d", "\x00", "\u2028", "", "é" * 50])
LEAVES = EDGES | st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=4) | st.sampled_from(["text", "\ud800"]), inner, max_size=3), max_leaves=10)
NESTED = st.integers(1, 800).map(lambda depth: "[" * depth + "1" + "]" * depth)  # below the recursion limit


def body_for(kind: str, value_json: str) -> tuple[str, str]:
    template = ('{"id": "analysis.edge.v1", "version": "0.1.0", "analysis_type": "echo", %s}')
    return {
        "run": (f"/factory/nodes/{STABLE}/run", '{"input": {"text": %s}}' % value_json),
        "run-script": (f"/factory/nodes/{SCRIPT}/run", '{"input": {"text": %s}}' % value_json),
        "invoke": ("/invoke/analysis.mirror", '{"input": %s, "key": "k"}' % value_json),
        "organ-run": (f"/organs/{ORGAN}/run", '{"input": {"text": %s}}' % value_json),
        "dryrun-examples": ("/factory/nodes/dryrun", template % ('"examples": [{"input": {"text": %s}}]' % value_json)),
        "dryrun-params": ("/factory/nodes/dryrun", template % ('"params": {"p": {"value": %s}}' % value_json)),
        "dryrun-io": ("/factory/nodes/dryrun", template % ('"io": {"input": {"type": "object", "default": %s}}'
                                                           % value_json)),
        "dryrun-metadata": ("/factory/nodes/dryrun", template % ('"metadata": {"schema": "v1", "x": %s}' % value_json)),
        "train": (f"/factory/nodes/{TRAINABLE}/train",
                  '{"dataset": [{"input": {"text": %s}, "expected": "spam"}], "max_iterations": 1}' % value_json),
    }[kind]


KINDS = ["run", "run-script", "invoke", "organ-run", "dryrun-examples", "dryrun-params", "dryrun-io",
         "dryrun-metadata", "train"]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    f = build_services(make_settings(tmp_path_factory.mktemp("edge")))
    seed(f)
    yield TestClient(create_app(f, TokenRegistry.load(f.settings)), raise_server_exceptions=False)
    f.trainers.stop()
    f.db.dispose()


def _unfit(value) -> bool:
    """Not plain JSON the factory can carry: a lone surrogate, a non-finite number, or nesting that reaches
    MAX_DEPTH (the value sits at least one level down in the body)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in item):
            return True
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                return True
            if isinstance(item, dict):
                stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return False


@settings(max_examples=int(os.environ.get("NEIRA_FUZZ_EXAMPLES", "60")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(kind=st.sampled_from(KINDS), value=VALUES | NESTED)
def test_free_json_edges_never_break_the_server(api, kind, value):
    value_json = value if isinstance(value, str) and value.startswith("[") and value.endswith("]") and \
        value.strip("[]") == "1" else json.dumps(value)  # ensure_ascii: a surrogate leaves as \udXXX
    path, body = body_for(kind, value_json)
    response = api.post(path, content=body.encode(), headers=ADMIN)
    status = response.status_code
    if _unfit(json.loads(value_json)):
        assert status == 422 and response.json()["field"].startswith("body"), \
            f"{kind}: POST {path} {body[:300]!r} -> {status} {response.text[:300]}"
    assert status < 500 or (status in (502, 504) and response.json()["code"] in ("execution_failed", "timeout")), \
        f"{kind}: POST {path} {body[:300]!r} -> {status} {response.text[:300]}"
    json.loads(response.text, parse_constant=lambda c: pytest.fail(f"{kind}: the response is not strict JSON: {c}"))
