"""The optional LLM interpreter over HTTP, against a fake server of each provider (tests/llm_support.py): a
sentence the rules cannot read goes to the model with the Intent's schema, the model's Intent is planned, marked
llm and made only on confirmation; bad JSON, a schema-invalid answer, an unknown name, a timeout, a refusal and a
failing server all leave the rules' 422 with what the model came to; without NEIRA_LLM_PROVIDER the model is
never asked. A hostile model or server: an answer nested past Python's recursion limit, too long or with a key
twice is bad_json (not a 500), a trickled answer is cut at the timeout in all, an echoed API key is never shown."""
from __future__ import annotations

import json
import logging
import time

import pytest
from fastapi.testclient import TestClient

from neira_factory.api.app import create_app
from neira_factory.config.tokens import TokenRegistry
from neira_factory.services.bootstrap import build_services
from neira_factory.services.llm_client import MAX_ANSWER

from llm_support import OLLAMA_PATH, OPENAI_PATH, FakeLLM, answer_of
from support import ROOT, auth, make_settings
from test_admin_ui import csrf_of, post, sign_in

ADMIN, WRITE, READ = auth("admin"), auth("write"), auth("read")
MODEL = "fake-model"
GERMAN = "Bau mir bitte das Sprachorgan, Version eins"  # the rules read no German
VOICE = ["analysis.text_normalize.v1", "analysis.text_to_phonemes.v1", "analysis.speak_adapter.v1"]
VOICE_V1 = answer_of({"action": "create", "target": "organ", "name": "voice", "version": 1})
PATHS = {"ollama": OLLAMA_PATH, "openai": OPENAI_PATH}


@pytest.fixture
def fake():
    with FakeLLM() as server:
        yield server


def factory(tmp_path, fake: FakeLLM, provider: str | None):
    llm = {"llm_provider": provider, "llm_base_url": fake.base_url(provider), "llm_model": MODEL,
           "llm_timeout_s": 1} if provider else {}
    return build_services(make_settings(tmp_path, examples_dir=ROOT / "examples", **llm))


@pytest.fixture(params=["ollama", "openai"])
def rt(request, tmp_path, fake):
    f = factory(tmp_path, fake, request.param)
    yield TestClient(create_app(f, TokenRegistry.load(f.settings))), fake, request.param
    f.db.dispose()


def say(client, text, headers=WRITE):
    return client.post("/factory/commands", json={"text": text}, headers=headers)


def made(client):
    return [o["id"] for o in client.get("/organs", headers=READ).json()]


def sent(fake: FakeLLM, provider: str) -> tuple[dict, dict]:
    """The one request the model got: its body, and the JSON schema it carried."""
    assert [path for path, _ in fake.requests] == [PATHS[provider]]
    body = fake.requests[0][1]
    if provider == "ollama":
        assert body["stream"] is False
        return body, body["format"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    return body, body["response_format"]["json_schema"]["schema"]


def test_a_sentence_the_rules_cannot_read_is_planned_from_the_models_intent_and_made_on_confirmation(rt):
    client, fake, provider = rt
    fake.reply(VOICE_V1)
    planned = say(client, GERMAN)
    assert planned.status_code == 200, planned.text
    body = planned.json()
    assert body["interpreter"] == "llm"
    assert body["llm"] == {"provider": provider, "model": MODEL,  # and where the rules stopped, for whoever confirms
                           "not_understood": ["bau", "mir", "bitte", "das", "sprachorgan", "eins"]}
    assert {k: body["intent"][k] for k in VOICE_V1} | {"lang": body["intent"]["lang"]} == {**VOICE_V1, "lang": "en"}
    assert body["intent"]["text"] == GERMAN
    assert [(s["op"], s["target"]) for s in body["plan"]["steps"]] == [
        *[("create_node", n) for n in VOICE], ("build_organ", "organ.voice.v1")]
    assert body["policy"]["allowed"] is True and body["confirm_token"]

    request, schema = sent(fake, provider)
    assert request["model"] == MODEL
    system, user = request["messages"]
    assert system["role"] == "system" and user == {"role": "user", "content": GERMAN}  # the sentence, nothing else
    assert "voice" in system["content"] and "factory_script" in system["content"]  # the names it may use
    assert schema["additionalProperties"] is False and set(schema["required"]) == set(schema["properties"])
    assert {"create", "approve", "capability", None} <= set(schema["properties"]["action"]["enum"])
    assert {"voice", "factory_script", None} <= set(schema["properties"]["name"]["enum"])

    assert made(client) == []  # a model never acts: nothing before the confirmation
    done = client.post("/factory/commands/confirm", json={"confirm_token": body["confirm_token"]}, headers=WRITE)
    assert done.status_code == 200, done.text
    assert done.json()["created"] == [{"id": n, "state": "draft"} for n in [*VOICE, "organ.voice.v1"]]
    assert made(client) == ["organ.voice.v1"]
    entry = client.get("/audit", params={"action": "command.confirm"}, headers=ADMIN).json()[0]
    assert entry["after"]["llm"] == body["llm"] and entry["after"]["text"] == GERMAN


def test_a_negation_the_rules_refused_is_not_handed_to_the_model(rt):
    client, fake, _ = rt
    fake.reply(VOICE_V1)  # a model that would miss the negation
    for text in ("не создавай голосовой орган v1", "please don't build the voice organ v1"):
        refused = say(client, text)
        assert refused.status_code == 422 and refused.json()["llm"]["outcome"] == "not_asked", refused.text
    assert fake.requests == [] and made(client) == []


def test_the_models_intent_meets_the_same_policy(rt):
    client, fake, provider = rt
    fake.reply(answer_of({"action": "capability", "target": "capability", "name": "factory_script",
                          "state": "experimental"}))
    refused = say(client, "Gib factory_script frei")  # a writer may not set gates, whoever read the command
    assert refused.status_code == 200 and refused.json()["interpreter"] == "llm"
    assert refused.json()["policy"]["allowed"] is False and refused.json()["confirm_token"] is None
    allowed = say(client, "Gib factory_script frei", headers=ADMIN).json()
    assert allowed["plan"]["summary"].endswith("→ experimental") and allowed["confirm_token"]


BAD_ANSWERS = [
    pytest.param("{\"action\": \"create\", ", "bad_json", id="bad-json"),
    pytest.param("[1, 2]", "invalid", id="not-an-object"),
    pytest.param({"action": "create", "target": "organ", "name": "voice"}, "invalid", id="fields-missing"),
    pytest.param({**VOICE_V1, "version": "one"}, "invalid", id="version-not-a-number"),
    pytest.param({**VOICE_V1, "confirm": True}, "invalid", id="an-extra-field"),
    pytest.param({**VOICE_V1, "action": "destroy"}, "invalid", id="unknown-action"),
    pytest.param({**VOICE_V1, "target": "capability"}, "invalid", id="a-target-create-does-not-take"),
    pytest.param({**VOICE_V1, "name": "telepathy"}, "unknown_name", id="unknown-organ"),
    pytest.param({**VOICE_V1, "name": "factory_script"}, "unknown_name", id="a-capability-for-an-organ"),
    pytest.param({**VOICE_V1, "steps": ["text_normalize"]}, "invalid", id="steps-create-does-not-take"),
    pytest.param(answer_of({"action": None}), "no_intent", id="action-null"),
]


@pytest.mark.parametrize(("content", "outcome"), BAD_ANSWERS)
def test_an_answer_that_is_not_a_valid_intent_leaves_the_rules_422(rt, content, outcome):
    client, fake, provider = rt
    fake.reply(content)
    refused = say(client, GERMAN)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "not_understood" and "sprachorgan" in body["not_understood"]
    assert body["llm"]["outcome"] == outcome and body["llm"]["provider"] == provider
    assert len(fake.requests) == 1 and made(client) == []


def test_a_model_slower_than_the_timeout_leaves_the_rules_422(rt):
    client, fake, _ = rt
    fake.reply(VOICE_V1, delay_s=3)
    started = time.monotonic()
    refused = say(client, GERMAN)
    assert time.monotonic() - started < 2.5  # NEIRA_LLM_TIMEOUT_S=1, not the model's 3 s
    assert refused.status_code == 422 and refused.json()["llm"]["outcome"] == "timeout"


def test_a_refusal_leaves_the_rules_422(rt):
    client, fake, provider = rt
    fake.reply(refusal="I can't help with that.")
    refused = say(client, GERMAN).json()
    assert refused["code"] == "not_understood" and refused["llm"]["outcome"] == "refused"
    if provider == "openai":
        assert refused["llm"]["detail"] == "I can't help with that."


@pytest.mark.parametrize("status", [404, 500])
def test_a_failing_server_leaves_the_rules_422(rt, status):
    client, fake, _ = rt
    fake.reply(VOICE_V1, status=status)
    refused = say(client, GERMAN)
    assert refused.status_code == 422 and refused.json()["llm"]["outcome"] == "error"


def test_a_server_that_is_not_there_leaves_the_rules_422(tmp_path, fake):
    fake.close()  # nothing listens on its port now
    f = factory(tmp_path, fake, "ollama")
    try:
        refused = say(TestClient(create_app(f, TokenRegistry.load(f.settings))), GERMAN)
    finally:
        f.db.dispose()
    assert refused.status_code == 422 and refused.json()["llm"]["outcome"] == "error"


def test_what_the_rules_read_never_goes_to_the_model(rt):
    client, fake, _ = rt
    fake.reply(answer_of({"action": "status", "target": "capabilities"}))
    planned = say(client, "create voice organ v1").json()
    assert planned["interpreter"] == "rules" and planned["llm"] is None
    assert planned["intent"]["name"] == "voice" and fake.requests == []


def test_without_a_provider_the_model_is_never_asked(tmp_path, fake):
    fake.reply(VOICE_V1)
    f = factory(tmp_path, fake, None)
    assert f.commands.llm is None
    try:
        refused = say(TestClient(create_app(f, TokenRegistry.load(f.settings))), GERMAN)
    finally:
        f.db.dispose()
    assert refused.status_code == 422 and "llm" not in refused.json()
    assert fake.requests == []


def test_the_admin_ui_says_who_read_the_command(rt):
    client, fake, provider = rt
    page = sign_in(client.app, "write")
    fake.reply(VOICE_V1)
    planned = post(page, "/admin/commands", csrf_of(page), text=GERMAN)
    assert planned.status_code == 200 and 'id="read-by-llm"' in planned.text
    assert f"Read by the model {provider}/{MODEL}, not by the rules (they stopped at: bau, mir, bitte" in planned.text
    assert 'id="read-by-llm"' not in post(page, "/admin/commands", csrf_of(page), text="create voice organ v1").text
    fake.reply("not json")
    refused = post(page, "/admin/commands", csrf_of(page), text=GERMAN)
    assert refused.status_code == 422
    assert f"The model {provider}/{MODEL} did not help either: bad_json." in refused.text


# ---- a hostile model, or its server ---------------------------------------------------------------------

TOO_DEEP = "[" * 100_000  # past Python's recursion limit: json.loads raises RecursionError, not ValueError
PADDED = json.dumps(VOICE_V1) + " " * MAX_ANSWER  # a valid Intent, with more text than any Intent needs
TWICE = json.dumps(VOICE_V1)[:-1] + ', "action": "approve"}'  # which action did it mean?


@pytest.mark.parametrize("content", [TOO_DEEP, PADDED, TWICE], ids=["too-deep", "too-long", "a-key-twice"])
def test_an_answer_nested_too_deep_too_long_or_with_a_key_twice_is_bad_json_not_a_500(rt, content):
    client, fake, _ = rt
    fake.reply(content)
    refused = say(client, GERMAN)
    assert refused.status_code == 422, refused.text
    assert refused.json()["llm"]["outcome"] == "bad_json" and made(client) == []


def test_a_server_that_trickles_its_answer_is_cut_at_the_timeout_in_all(rt):
    client, fake, _ = rt
    fake.reply(VOICE_V1, trickle_s=0.25)  # a byte every 0.25 s: no read waits the 1 s timeout, the whole takes 4 s
    started = time.monotonic()
    refused = say(client, GERMAN)
    assert time.monotonic() - started < 2.5  # NEIRA_LLM_TIMEOUT_S=1 bounds the call, not each read
    assert refused.status_code == 422 and refused.json()["llm"]["outcome"] == "timeout"


def test_the_api_key_never_reaches_the_caller_or_the_log(tmp_path, fake, caplog):
    key = "sk-test-0123456789abcdef"
    for provider in ("ollama", "openai"):
        f = build_services(make_settings(tmp_path / provider, examples_dir=ROOT / "examples", llm_provider=provider,
                                         llm_base_url=fake.base_url(provider), llm_model=MODEL, llm_api_key=key,
                                         llm_timeout_s=5))
        try:
            fake.reply(VOICE_V1, status=401)  # a server that echoes the request's Authorization header
            with caplog.at_level(logging.DEBUG):
                refused = say(TestClient(create_app(f, TokenRegistry.load(f.settings))), GERMAN)
        finally:
            f.db.dispose()
        assert refused.status_code == 422 and refused.json()["llm"]["outcome"] == "error"
        assert "authorization: Bearer ***" in refused.json()["llm"]["detail"], refused.text  # it was echoed
        assert key not in refused.text and key not in caplog.text, provider
