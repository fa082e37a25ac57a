"""Natural-language commands over HTTP: the seed's three commands planned exactly, the policy outcome per
caller and in safe-mode, nothing made before confirmation, the token bound to its plan and caller, and
misunderstanding answered in the command's language."""
from datetime import timedelta

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import update

from neira_factory.api.app import create_app
from neira_factory.services.bootstrap import build_services
from neira_factory.store import tables as t
from neira_factory.store.repositories import now
from neira_factory.config.tokens import TokenRegistry

from support import ROOT, auth, make_settings

ADMIN, WRITE, READ = auth("admin"), auth("write"), auth("read")
VOICE = ["analysis.text_normalize.v1", "analysis.text_to_phonemes.v1", "analysis.speak_adapter.v1"]


@pytest.fixture
def rt(tmp_path):
    f = build_services(make_settings(tmp_path, examples_dir=ROOT / "examples"))
    yield TestClient(create_app(f, TokenRegistry.load(f.settings))), f
    f.db.dispose()


def say(client, text, headers=WRITE):
    return client.post("/factory/commands", json={"text": text}, headers=headers)


def confirm(client, token, headers=WRITE):
    return client.post("/factory/commands/confirm", json={"confirm_token": token}, headers=headers)


def ids(client):
    nodes = [n["id"] for n in client.get("/factory/nodes", headers=READ).json() if not n["id"].startswith("factory.")]
    return sorted(nodes + [o["id"] for o in client.get("/organs", headers=READ).json()])


def steps(body):
    return [(s["op"], s["target"]) for s in body["plan"]["steps"]]


def test_create_the_voice_organ_is_planned_exactly_and_made_only_on_confirmation(rt):
    client, _ = rt
    planned = say(client, "создай голосовой орган v1")
    assert planned.status_code == 200, planned.text
    body = planned.json()
    assert body["intent"] | {"text": None} == {"action": "create", "lang": "ru", "target": "organ", "name": "voice",
                                                "version": 1, "options": [], "steps": [], "state": None, "text": None,
                                                "pick": None, "filters": {}, "ignored": []}
    assert steps(body) == [("create_node", n) for n in VOICE] + [("build_organ", "organ.voice.v1")]
    organ = body["plan"]["steps"][-1]["body"]["organ_template"]
    assert organ["channels"][0]["nodes"] == VOICE and organ["policies"]["gates"] == ["organ_voice"]
    assert body["policy"]["allowed"] is True and body["confirm_token"]
    assert all(not report["risks"] or all(r["severity"] != "blocking" for r in report["risks"])
               for report in body["report"].values())
    assert ids(client) == []  # nothing before the confirmation
    done = confirm(client, body["confirm_token"])
    assert done.status_code == 200, done.text
    assert done.json()["created"] == [{"id": n, "state": "draft"} for n in [*VOICE, "organ.voice.v1"]]
    assert ids(client) == sorted([*VOICE, "organ.voice.v1"])
    again = confirm(client, body["confirm_token"])
    assert again.status_code == 409 and again.json()["code"] == "plan_used"
    assert say(client, "create voice organ v1").status_code == 409  # it exists now


@pytest.mark.parametrize("text", ["собери speak-pipeline normalize→phonemes→adapter",
                                  "собери speak-pipeline normalize -> phonemes -> adapter",
                                  "собери speak-pipeline нормализация => фонемы => адаптер",
                                  "build speak-pipeline normalize, phonemes, adapter",
                                  "build speak-pipeline normalize then phonemes then adapter"])
def test_a_pipeline_is_one_channel_in_the_given_order(rt, text):
    client, _ = rt
    body = say(client, text).json()
    assert body["intent"]["steps"] == ["text_normalize", "text_to_phonemes", "speak_adapter"]
    organ = body["plan"]["steps"][-1]["body"]["organ_template"]
    assert organ["id"] == "organ.speak-pipeline.v1"
    assert [c["nodes"] for c in organ["channels"]] == [VOICE]
    assert confirm(client, body["confirm_token"]).json()["created"][-1] == {"id": "organ.speak-pipeline.v1",
                                                                              "state": "draft"}


def test_an_update_carries_its_diff_and_the_option(rt):
    client, _ = rt
    assert confirm(client, say(client, "create the vision organ v1").json()["confirm_token"]).status_code == 200
    planned = say(client, "обнови зрение до v2 (grayscale)")
    assert planned.status_code == 200, planned.text
    body = planned.json()
    assert (body["intent"]["action"], body["intent"]["version"], body["intent"]["options"]) == ("update", 2,
                                                                                             ["grayscale"])
    organ = body["plan"]["steps"][-1]["body"]["organ_template"]
    assert organ["id"] == "organ.vision.v2" and organ["nodes"][0] == "analysis.image_grayscale.v1"
    assert "--- organ.vision.v1" in body["diff"] and "+++ organ.vision.v2" in body["diff"]
    assert "+- analysis.image_grayscale.v1" in body["diff"] or "+  - analysis.image_grayscale.v1" in body["diff"]
    assert "organ.vision.v2" not in ids(client)
    assert confirm(client, body["confirm_token"]).status_code == 200
    assert "organ.vision.v2" in ids(client)


@pytest.mark.parametrize("safe_mode", [False, True])
@pytest.mark.parametrize("caller,allowed", [("read", False), ("write", True), ("admin", True)])
def test_the_policy_outcome_per_caller_and_in_safe_mode(rt, caller, allowed, safe_mode):
    client, _ = rt
    if safe_mode:
        client.post("/immune/safe-mode", json={"on": True}, headers=ADMIN)
        allowed = caller == "admin"
    body = say(client, "create voice organ v1", headers=auth(caller)).json()
    assert body["policy"]["allowed"] is allowed
    assert bool(body["confirm_token"]) is allowed
    if not allowed:
        refused = [s for s in body["policy"]["steps"] if not s["allowed"]]
        assert refused and refused[0]["code"] == ("insufficient_scope" if caller == "read" else "safe_mode")
        assert body["report"] is None
    capability = say(client, "Разблокируй factory_script", headers=auth(caller)).json()
    assert capability["policy"]["allowed"] is (caller == "admin")
    assert ids(client) == []


def test_capability_and_status_commands(rt):
    client, _ = rt
    body = say(client, "Разблокируй factory_script", headers=ADMIN).json()
    assert body["plan"]["steps"][0] == {"op": "set_capability", "target": "factory_script",
                                        "body": {"state": "experimental"}, "action": "capabilities.set", "gates": []}
    assert confirm(client, body["confirm_token"], ADMIN).status_code == 200
    status = say(client, "Покажи статус способностей", READ).json()
    assert status["plan"]["read_only"] and status["confirm_token"] is None
    assert status["report"]["capabilities"]["capabilities"]["factory_script"]["state"] == "experimental"


def test_a_token_is_bound_to_its_caller_and_expires(rt):
    client, f = rt
    token = say(client, "create voice organ v1", ADMIN).json()["confirm_token"]
    other = confirm(client, token, WRITE)
    assert other.status_code == 403 and other.json()["code"] == "not_your_plan"
    with f.db.unit_of_work() as uow:
        uow.conn.execute(update(t.command_plans).values(expires_at=now() - timedelta(seconds=1)))
    expired = confirm(client, token, ADMIN)
    assert expired.status_code == 409 and expired.json()["code"] == "plan_expired"
    assert confirm(client, "no-such-token", ADMIN).status_code == 404
    assert ids(client) == []


@pytest.mark.parametrize("text,lang", [("asdf qwerty", "en"), ("создай марсианский орган", "ru"),
                                       ("create martian organ", "en"), ("не создавай голосовой орган", "ru")])
def test_misunderstanding_never_acts_and_answers_in_the_commands_language(rt, text, lang):
    client, _ = rt
    response = say(client, text)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["code"] == "not_understood" and error["lang"] == lang and error["not_understood"]
    assert ("Не понял" in error["reason"]) is (lang == "ru")
    assert ids(client) == []


@pytest.mark.parametrize("safe_mode", [False, True])
def test_confirming_is_a_write_checked_again_at_confirmation(rt, safe_mode):
    client, _ = rt
    token = say(client, "create voice organ v1").json()["confirm_token"]
    refused = confirm(client, token, READ)
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    if safe_mode:  # the plan was allowed when made; safe-mode since then refuses it at confirmation
        client.post("/immune/safe-mode", json={"on": True}, headers=ADMIN)
        refused = confirm(client, token, WRITE)
        assert refused.status_code == 403 and refused.json()["code"] == "safe_mode"
        assert ids(client) == []
    else:
        assert confirm(client, token, WRITE).status_code == 200


def test_train_a_node_by_its_type_starts_a_run_on_confirmation(rt):
    client, _ = rt
    node = {"id": "analysis.keyword_classify.v1", "version": "0.1.0", "analysis_type": "keyword_classify",
            "params": {"keywords": {"value": {"greeting": ["hi", "hello"]}},
                       "threshold": {"value": 0.5, "min": 0, "max": 1, "tunable": True}},
            "examples": [{"input": {"text": "hi there"}, "expected": {"label": "greeting"}}]}
    assert client.post("/factory/nodes", json=node, headers=WRITE).status_code == 201
    body = say(client, "обучи классификатор").json()
    assert body["intent"]["action"] == "train" and steps(body) == [("train", "analysis.keyword_classify.v1")]
    assert client.get("/training", headers=READ).json() == []
    done = confirm(client, body["confirm_token"]).json()
    assert done["done"][0]["run_id"] and done["done"][0]["op"] == "train"
    runs = client.get("/training", params={"node": "analysis.keyword_classify.v1"}, headers=READ).json()
    assert [r["run_id"] for r in runs] == [done["done"][0]["run_id"]]


def _node(client, node_id):
    """Register the example of that route under this id, as a draft."""
    document = yaml.safe_load((ROOT / "examples" / f"{node_id.rsplit('.v', 1)[0]}.v1.yaml").read_text("utf-8"))
    document["id"] = node_id
    assert client.post("/factory/nodes", json=document, headers=WRITE).status_code == 201


def test_status_questions_list_what_matches_and_relative_versions_act_on_the_registrys(rt):
    client, _ = rt
    for node_id in ("analysis.echo.v1", "analysis.echo.v2", "analysis.reverse.v1"):
        _node(client, node_id)
    approve = say(client, "одобри предыдущую версию узла analysis.echo").json()
    assert steps(approve) == [("transition", "analysis.echo.v1")]
    assert approve["intent"]["pick"] == "previous" and approve["intent"]["name"] == "analysis.echo"
    assert confirm(client, approve["confirm_token"]).json()["created"] == []
    canary = say(client, "какие узлы на канарейке?", READ).json()
    assert canary["plan"]["read_only"] and canary["intent"]["filters"] == {"state": "canary"}
    assert [n["id"] for n in canary["report"]["nodes"]] == ["analysis.echo.v1"]
    drafts = say(client, "please list the draft nodes", READ).json()
    assert sorted(n["id"] for n in drafts["report"]["nodes"]) == ["analysis.echo.v2", "analysis.reverse.v1"]
    assert drafts["intent"]["ignored"] == ["please", "the"]
    assert say(client, "which organs are stable", READ).json()["report"] == {"organs": []}
    newest = say(client, "roll back the newest version of analysis.echo").json()
    assert steps(newest) == [("transition", "analysis.echo.v2")] and "(the newest)" in newest["plan"]["summary"]


def test_a_gate_named_by_what_it_governs_and_an_organ_of_parts_nobody_has(rt):
    client, _ = rt
    body = say(client, "заблокируй скриптовые узлы", ADMIN).json()
    assert body["plan"]["steps"][0]["target"] == "factory_script"
    assert body["plan"]["steps"][0]["body"] == {"state": "locked"}
    refused = say(client, "build an organ from speech recognition and translation")
    assert refused.status_code == 422 and refused.json()["code"] == "no_implementation", refused.text
    assert ids(client) == []
