"""Bugs the fuzzers found (test_openapi_fuzz.py, test_descriptor_fuzz.py, test_json_edge_fuzz.py,
test_rhai_grammar_fuzz.py), each pinned down on its own so that it stays fixed."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from fuzz_seed import DISABLED, ORGAN, SCRIPT, STABLE, TRAINABLE, seed
from support import auth, make_settings

from neira_factory.api.app import create_app
from neira_factory.services.bootstrap import build_services
from neira_factory.config.tokens import TokenRegistry
from neira_factory.domain.json_values import MAX_DEPTH

ADMIN = auth("admin")


@pytest.fixture
def api(tmp_path):
    f = build_services(make_settings(tmp_path))
    data = seed(f)
    app = create_app(f, TokenRegistry.load(f.settings))
    yield TestClient(app, raise_server_exceptions=False), app.openapi(), data
    f.trainers.stop()
    f.db.dispose()


def declared(openapi: dict, method: str, path: str) -> set[str]:
    return set(openapi["paths"][path][method.lower()]["responses"])


BODY_OPERATIONS = [("POST", "/factory/nodes/dryrun"), ("POST", "/factory/nodes"), ("POST", "/immune/safe-mode"),
                   ("POST", f"/factory/nodes/{DISABLED}/approve"), ("POST", "/factory/commands/confirm")]


UNPARSABLE = {"not-utf8": b"\xff", "nested-5000-deep": b"[" * 5000 + b"]" * 5000,
              "int-with-5000-digits": b'{"input": 1' + b"0" * 5000 + b"}"}


def test_an_unreadable_body_is_a_422_naming_the_body(api):
    """A JSON body json.loads cannot read for another reason than its syntax (not UTF-8, nested past the
    recursion limit, an integer past the 4300-digit limit) was FastAPI's undeclared bare 400 `http_error`.
    It is 422 `invalid_input` with `field: body`, like malformed JSON (api/json_body.py)."""
    client, openapi, _ = api
    wrong = []
    for method, path in BODY_OPERATIONS:
        for name, content in UNPARSABLE.items():
            response = client.request(method, path, content=content,
                                      headers={**ADMIN, "content-type": "application/json"})
            codes = declared(openapi, method, path.replace(DISABLED, "{node_id}"))
            if (str(response.status_code) not in codes or response.json()["code"] == "http_error"
                    or response.json().get("field") != "body"):
                wrong.append(f"{method} {path} [{name}]: {response.status_code} {response.text[:90]} "
                             f"(declared {sorted(codes)})")
    assert not wrong, "\n".join(wrong)


RUN_PATHS = ["/factory/nodes/{id}/run", "/factory/cells/{id}/run"]


def test_run_endpoints_declare_409_502_504(api):
    """POST /factory/nodes/{id}/run (and /factory/cells/…, /organs/{id}/run) answer 409 `not_runnable` for a
    disabled or quarantined node and 502/504 when the node fails or times out: declared, like /invoke."""
    client, openapi, _ = api
    for path in RUN_PATHS:
        refused = client.post(path.format(id=DISABLED), json={"input": {"text": "x"}}, headers=ADMIN)
        assert refused.status_code == 409 and refused.json()["code"] == "not_runnable", refused.text
        failed = client.post(path.format(id=SCRIPT), json={"input": [1]}, headers=ADMIN)
        assert failed.status_code == 502 and failed.json()["code"] == "execution_failed", failed.text
    missing = {path: sorted({"409", "502", "504"} - declared(openapi, "POST", path))
               for path in ("/factory/nodes/{node_id}/run", "/factory/cells/{node_id}/run", "/organs/{organ_id}/run")}
    assert not any(missing.values()), f"undeclared: {missing}"


def test_cancel_of_a_failed_organ_is_a_declared_409(api):
    """DELETE /organs/{id}/build of an organ that is failed already is 409 `invalid_transition`, declared."""
    client, openapi, _ = api
    assert client.delete(f"/organs/{ORGAN}/build", headers=ADMIN).status_code == 200
    again = client.delete(f"/organs/{ORGAN}/build", headers=ADMIN)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition", again.text
    codes = declared(openapi, "DELETE", "/organs/{organ_id}/build")
    assert "409" in codes, f"declared: {sorted(codes)}"


def test_decision_on_an_unknown_training_run_is_a_declared_404(api):
    """POST /training/{run_id}/{continue,approve,reject} of an unknown run is 404 `not_found`, declared."""
    client, openapi, _ = api
    for action in ("continue", "approve", "reject"):
        response = client.post(f"/training/tr-000000000000/{action}", json={}, headers=ADMIN)
        assert response.status_code == 404, response.text
    missing = [a for a in ("continue", "approve", "reject")
               if "404" not in declared(openapi, "POST", f"/training/{{run_id}}/{a}")]
    assert not missing, f"/training/{{run_id}}/… does not declare 404 for {missing}"


def test_integers_beyond_the_database_are_refused_naming_the_field(api):
    """Integers the database cannot hold (`?offset=2**63` on the lists, `{"iteration": 2**65}` on approve) were a
    500 (OverflowError in SQLite). Both are bounded: 422 `invalid_input` naming the field."""
    client, _, data = api
    wrong = []
    for path in ("/factory/nodes", "/factory/cells", "/audit", "/training"):
        response = client.get(path, params={"offset": 2**63}, headers=ADMIN)
        if response.status_code != 422 or "offset" not in response.json().get("field", ""):
            wrong.append(f"GET {path}?offset=2**63: {response.status_code} {response.text[:90]}")
    path = f"/training/{data.runs[0]}/approve"
    response = client.post(path, json={"iteration": 2**65}, headers=ADMIN)
    if response.status_code != 422 or "iteration" not in response.json().get("field", ""):
        wrong.append(f"POST {path} {{iteration: 2**65}}: {response.status_code} {response.text[:90]}")
    assert not wrong, "\n".join(wrong)


SURROGATE = r'"\ud800"'  # a lone surrogate: valid JSON text (RFC 8259 §8.2), not encodable as UTF-8
SURROGATE_BODIES = {
    "run": ("/factory/nodes/{stable}/run", '{"input": {"text": %s}}'),
    "invoke": ("/invoke/analysis.mirror", '{"input": {"text": %s}}'),
    "organ-run": ("/organs/{organ}/run", '{"input": {"text": %s}}'),
    "dryrun-example": ("/factory/nodes/dryrun", ('{"id": "analysis.s.v1", "version": "0.1.0", "analysis_type": "echo", '
                                                '"examples": [{"input": {"text": %s}}]}')),
    "create-metadata": ("/factory/nodes", ('{"id": "analysis.s.v1", "version": "0.1.0", "analysis_type": "echo", '
                                          '"metadata": {"schema": "v1", "note": %s}}')),
    "train-dataset": ("/factory/nodes/{trainable}/train", ('{"dataset": [{"input": {"text": %s}, "expected": "spam"}], '
                                                          '"max_iterations": 1}')),
}


def test_lone_surrogate_in_free_json_is_a_422(api):
    """A lone surrogate (the JSON escape `"\\ud800"`) in free JSON (a run's input, a template's examples /
    metadata / params, a training dataset) cannot be encoded as UTF-8: it was a 500 when the response or the
    artifact was written. It is refused when the body is read: 422."""
    client, _, _ = api
    wrong = []
    for name, (path, body) in SURROGATE_BODIES.items():
        url = path.format(stable=STABLE, organ=ORGAN, trainable=TRAINABLE)
        response = client.post(url, content=(body % SURROGATE).encode(),
                               headers={**ADMIN, "content-type": "application/json"})
        if response.status_code != 422:
            wrong.append(f"{name}: POST {url}: {response.status_code} {response.text[:90]}")
    assert not wrong, "\n".join(wrong)


def test_example_with_null_input_keeps_the_node_loadable(api):
    """An example with `input: null` was dropped from the stored document (exclude_none), and every later load
    of the node failed validation (500). The stored document keeps `input: null`."""
    client, _, _ = api
    node = {"id": "analysis.ident.v1", "version": "0.1.0", "analysis_type": "ident", "backend": "script",
            "script": {"source": "fn run(input) { input }"}, "io": {"input": {}, "output": {}},
            "examples": [{"input": None, "expected": None}]}
    created = client.post("/factory/nodes", json=node, headers=ADMIN)
    assert created.status_code == 201, created.text
    for method, path, body in (("GET", "/factory/nodes/analysis.ident.v1", None),
                               ("POST", "/factory/nodes/analysis.ident.v1/run", {"input": 1}),
                               ("POST", "/factory/nodes/analysis.ident.v1/approve", {})):
        response = client.request(method, path, json=body, headers=ADMIN)
        assert response.status_code < 500, (method, path, response.status_code, response.text)


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def test_deeply_nested_template_is_refused_and_fabrication_goes_on(api):
    """A template holding a value nested ~200 deep was created, then could not be read back by pydantic's JSON
    parser: every dry-run and create in the factory became a 500. Nesting past MAX_DEPTH is refused (422)."""
    client, _, _ = api
    body = ('{"id": "analysis.deep.v1", "version": "0.1.0", "analysis_type": "echo", '
            '"metadata": {"schema": "v1", "x": %s}}' % nested(200))
    created = client.post("/factory/nodes", content=body.encode(), headers={**ADMIN, "content-type": "application/json"})
    plain = {"id": "analysis.plain.v1", "version": "0.1.0", "analysis_type": "echo"}
    after = client.post("/factory/nodes/dryrun", json=plain, headers=ADMIN)
    read = client.get("/factory/nodes/analysis.deep.v1", headers=ADMIN)
    assert created.status_code == 422 and created.json()["field"].startswith("body.metadata"), created.text
    assert after.status_code == 200 and read.status_code == 404, (after.text[:200], read.text[:200])


def test_deeply_nested_input_is_refused(api):
    """A run's input (or a dry-run example's) nested ~250 deep was a 500 (the response could not be serialized).
    It is refused when the body is read: 422."""
    client, _, _ = api
    wrong = []
    for name, (path, body) in {
        "run": (f"/factory/nodes/{STABLE}/run", '{"input": {"text": %s}}'),
        "invoke": ("/invoke/analysis.mirror", '{"input": {"text": %s}}'),
        "organ-run": (f"/organs/{ORGAN}/run", '{"input": {"text": %s}}'),
        "dryrun-example": ("/factory/nodes/dryrun", ('{"id": "analysis.e.v1", "version": "0.1.0", "analysis_type": '
                                                    '"echo", "examples": [{"input": {"text": %s}}]}')),
    }.items():
        response = client.post(path, content=(body % nested(300)).encode(),
                               headers={**ADMIN, "content-type": "application/json"})
        if response.status_code != 422 or not response.json()["field"].startswith("body."):
            wrong.append(f"{name}: POST {path}: {response.status_code} {response.text[:90]}")
    assert not wrong, "\n".join(wrong)


def test_output_nested_past_the_limit_is_bad_output(api):
    """What a node returns must be plain JSON too: nested past MAX_DEPTH it is a 502 `bad_output`, not a 500
    from the response's serializer."""
    client, _, _ = api
    node = {"id": "analysis.nest.v1", "version": "0.1.0", "analysis_type": "nest", "backend": "script",
            "script": {"source": "fn run(input) { let x = 1; for i in 0..input { x = [x]; } x }"},
            "io": {"input": {}, "output": {}}, "limits": {"timeout_ms": 5000}}  # what is checked is the output
    assert client.post("/factory/nodes", json=node, headers=ADMIN).status_code == 201
    shallow = client.post("/factory/nodes/analysis.nest.v1/run", json={"input": 20}, headers=ADMIN)
    assert shallow.status_code == 200, shallow.text
    # just past MAX_DEPTH: deeper only costs time (building the nest is quadratic)
    deep = client.post("/factory/nodes/analysis.nest.v1/run", json={"input": MAX_DEPTH + 5}, headers=ADMIN)
    assert deep.status_code == 502 and deep.json()["kind"] == "bad_output", deep.text


@pytest.mark.parametrize("source", [
    # a source ending in `##` raised IndexError out of the lexer (Lexer.raw read past the end)
    "##", "let x = 1; ##", "fn run(input) { input } ###",
    # any Unicode digit was taken for a number (`str.isdigit()`): "²" raised ValueError, "٣" read as 3
    "²", "1²", "1e²", "٣", "1٣", "௧",
])
def test_hostile_rhai_lexemes_are_parse_errors(source):
    """Only RhaiErrors leave Engine.eval (docs/rhai.md); Rhai's numbers are ASCII digits."""
    from neira_factory.rhai import Engine, RhaiError

    with pytest.raises(RhaiError) as caught:
        Engine().eval(source)
    assert caught.value.kind == "ErrorParsing" and caught.value.line, caught.value
