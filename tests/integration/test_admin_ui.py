"""The admin UI (/admin) through the real app in-process: sign-in with good and bad tokens, the session
cookie's attributes, every page for every scope, CSRF on every post, a read-only session's controls
disabled AND its forged posts refused by the policy, service errors as readable pages with their
status, the language from Accept-Language and the switch, commands planned and confirmed, training
decisions, sign-out."""
from __future__ import annotations

import re
import time
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support import ROOT, TOKENS, make_settings

from neira_factory.api.app import create_app
from neira_factory.api.ui import i18n
from neira_factory.domain.actors import Actor
from neira_factory.domain.integrations import CODES
from neira_factory.services import analysis, fabricate, lifecycle, nodes, organs, training
from neira_factory.services.bootstrap import build_services
from neira_factory.services.examples import load_examples
from neira_factory.config.tokens import TokenRegistry

DRAFT = "analysis.reverse.v1"
ORGAN = "organ.voice.v1"
SPAM = "analysis.spam.v1"
WRITER, ADMIN = Actor("writer", "write"), Actor("admin", "admin")
TEMPLATES = Path(__file__).resolve().parents[2] / "src/neira_factory/api/ui/templates"


@pytest.fixture
def f(tmp_path):
    factory = build_services(make_settings(tmp_path, examples_dir=ROOT / "examples"))
    load_examples(factory.examples, ROOT / "examples")
    yield factory
    factory.trainers.stop()
    factory.db.dispose()


@pytest.fixture
def app(f):
    return create_app(f, TokenRegistry.load(f.settings))


def browser(app, lang: str = "en", base_url: str = "http://testserver") -> TestClient:
    return TestClient(app, base_url=base_url, headers={"Accept-Language": lang}, follow_redirects=False)


def login_csrf(client: TestClient) -> str:
    page = client.get("/admin/login")
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sign_in(app, scope: str, lang: str = "en") -> TestClient:
    client = browser(app, lang)
    response = client.post("/admin/login", data={"token": TOKENS[scope], "csrf": login_csrf(client),
                                                  "next": "/admin/nodes"})
    assert response.status_code == 303 and response.headers["location"] == "/admin/nodes", response.text
    return client


def csrf_of(client: TestClient, path: str = "/admin/nodes") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text).group(1)


def reason_of(html: str) -> str:
    found = re.search(r'class="reason"[^>]*>([^<]*)<', html)
    return unescape(found.group(1)) if found else ""


def state(f, node_id: str) -> str:
    return nodes.get_node(f.nodes, ADMIN, node_id).state


def post(client: TestClient, path: str, csrf: str | None, **fields) -> object:
    data = {k: v for k, v in fields.items() if v is not None}
    if csrf is not None:
        data["csrf"] = csrf
    return client.post(path, data=data)


# ---- sign-in, the cookie, sign-out -------------------------------------------------------------------

def test_pages_send_a_visitor_without_a_session_to_the_sign_in_form(app):
    client = browser(app)
    for path in ("/admin", "/admin/nodes", f"/admin/nodes/{DRAFT}", "/admin/capabilities", "/admin/audit?actor=x"):
        response = client.get(path)
        assert response.status_code == 303, path
        if path != "/admin":
            assert response.headers["location"].startswith("/admin/login?next=%2Fadmin"), path
    assert client.get("/admin/events").status_code == 303  # the live stream needs a session too
    forged = client.post(f"/admin/nodes/{DRAFT}/approve", data={"reason": "r", "confirm": "yes"})
    assert forged.status_code == 401 and "Sign in" in forged.text


def test_a_good_token_signs_in_with_a_hardened_session_cookie_that_does_not_hold_the_token(app):
    client = browser(app)
    response = client.post("/admin/login", data={"token": TOKENS["write"], "csrf": login_csrf(client),
                                                  "next": "/admin/approvals"})
    assert response.status_code == 303 and response.headers["location"] == "/admin/approvals"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("neira_session="))
    attrs = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/admin"} <= attrs
    assert "secure" not in attrs  # plain http here
    assert TOKENS["write"] not in cookie
    page = client.get("/admin/approvals")
    assert page.status_code == 200 and 'data-actor="writer"' in page.text and 'data-scope="write"' in page.text
    for header, value in (("x-frame-options", "DENY"), ("cache-control", "no-store")):
        assert page.headers[header] == value
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_over_https_the_session_cookie_is_secure(app):
    client = browser(app, base_url="https://testserver")
    response = client.post("/admin/login", data={"token": TOKENS["read"], "csrf": login_csrf(client)})
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("neira_session="))
    assert "secure" in {a.strip().lower() for a in cookie.split(";")[1:]}


def test_a_bad_token_is_refused_without_a_session(app):
    client = browser(app)
    response = client.post("/admin/login", data={"token": "not-a-token", "csrf": login_csrf(client)})
    assert response.status_code == 401 and "This token is not known." in response.text
    assert not any(c.startswith("neira_session=") for c in response.headers.get_list("set-cookie"))
    assert client.get("/admin/nodes").status_code == 303


def test_the_sign_in_form_has_its_own_csrf_check(app):
    client = browser(app)
    login_csrf(client)  # the form's cookie is set, but the field is missing or wrong
    for csrf in (None, "forged"):
        response = post(client, "/admin/login", csrf, token=TOKENS["admin"])
        assert response.status_code == 403 and "CSRF" in response.text
    other = browser(app)  # a field from another browser's form does not fit this browser's cookie
    response = post(other, "/admin/login", login_csrf(client), token=TOKENS["admin"])
    assert response.status_code == 403


def test_next_never_leaves_the_admin_ui(app):
    for target in ("https://evil.example/", "//evil.example/admin", "/factory/nodes", "/admin\\@evil"):
        client = browser(app)
        response = client.post("/admin/login", data={"token": TOKENS["read"], "csrf": login_csrf(client),
                                                      "next": target})
        assert response.headers["location"] == "/admin/nodes", target
    assert client.get("/admin/lang/ru", params={"next": "https://evil.example"}).headers["location"] == "/admin/nodes"


def test_a_tampered_cookie_is_no_session(app):
    client = sign_in(app, "read")
    payload, signature = client.cookies["neira_session"].split(".")
    import base64
    import json
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["s"] = "admin"  # promote oneself
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    client.cookies.clear()  # the forged cookie alone (a jar may keep the original beside it)
    client.cookies.set("neira_session", f"{forged}.{signature}", path="/admin")
    assert client.get("/admin/nodes").status_code == 303


def test_sign_out_ends_the_session(app):
    client = sign_in(app, "admin")
    cookie = client.cookies["neira_session"]
    assert post(client, "/admin/logout", None).status_code == 403  # sign-out is a form like any other
    response = post(client, "/admin/logout", csrf_of(client))
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    assert client.get("/admin/nodes").status_code == 303
    replay = browser(app)  # the old cookie, replayed, is refused by this replica
    replay.cookies.set("neira_session", cookie, path="/admin")
    assert replay.get("/admin/nodes").status_code == 303


# ---- pages for every scope -----------------------------------------------------------------------------

@pytest.fixture
def world(f):
    """A draft, a canary, a stable node, organs, and a finished training run."""
    for node_id in ("analysis.echo.v1", "analysis.text_normalize.v1"):
        lifecycle.transition(f.lifecycle, WRITER, node_id, "approve", reason="to canary")
    lifecycle.transition(f.lifecycle, ADMIN, "analysis.text_normalize.v1", "approve", reason="forced", force=True)
    lifecycle.transition(f.lifecycle, ADMIN, "analysis.text_normalize.v1", "approve", reason="forced", force=True)
    fabricate.create(f.fabricate, WRITER, {"template": {
        "id": SPAM, "version": "0.1.0", "analysis_type": "spam", "adapter": {"impl": "keyword_classify"},
        "params": {"keywords": {"value": {"spam": ["free", "win", "prize", "cash"]}},
                   "threshold": {"value": 0.5, "min": 0, "max": 1, "tunable": True}, "prior": {"value": 0.5}}}})
    data = [{"input": {"text": "free win prize"}, "expected": "spam"}, {"input": {"text": "win"}, "expected": "uncertain"},
            {"input": {"text": "hello there"}, "expected": "uncertain"}]
    run = training.start(f.training, WRITER, SPAM, {"dataset": data, "objective": "accuracy", "max_iterations": 8})
    deadline = time.monotonic() + 60
    while training.get(f.training, ADMIN, run.run_id).state in ("queued", "running", "paused"):
        assert time.monotonic() < deadline, "the training run did not finish"
        time.sleep(0.05)
    return {"run": run.run_id}


PAGES = ("/admin/nodes", "/admin/nodes?state=draft&search=reverse", f"/admin/nodes/{DRAFT}",
         "/admin/nodes/analysis.echo.v1", "/admin/approvals", "/admin/organs", f"/admin/organs/{ORGAN}",
         "/admin/capabilities", "/admin/audit", "/admin/audit?action=node.approve", "/admin/training",
         "/admin/training/{run}", "/admin/commands")


@pytest.mark.parametrize("scope", ["read", "write", "admin"])
def test_every_page_renders_for_every_scope(app, world, scope):
    client = sign_in(app, scope)
    for path in PAGES:
        response = client.get(path.format(**world))
        assert response.status_code == 200, (path, response.text[:2000])
        assert "<main>" in response.text and 'class="error-card"' not in response.text, path
    plot = client.get(f"/admin/training/{world['run']}/plot.png")
    assert plot.status_code == 200 and plot.headers["content-type"] == "image/png" and plot.content[:4] == b"\x89PNG"


def test_the_node_page_shows_template_report_history_and_the_analysis_window(app, world):
    client = sign_in(app, "read")
    html = client.get("/admin/nodes/analysis.echo.v1").text
    assert 'data-node-badge="analysis.echo.v1" data-state="canary"' in html
    for metric in ("requests", "error_rate", "baseline_errors"):
        assert f'data-metric="{metric}"' in html
    assert html.count('<svg class="chart"') == 3  # requests, errors, latency
    assert "id: analysis.echo.v1" in html  # the template, as YAML
    assert "to canary" in html  # the history's reason
    assert "No risks." in html


def test_the_node_page_shows_the_required_integrations_in_the_pages_language(app, f):
    created = fabricate.create(f.fabricate, WRITER, {
        "id": "analysis.needs.v1", "version": "0.1.0", "analysis_type": "echo",
        "requires": ["capability:organ_echo", "node:analysis.echo.v1"]})
    rows = {}
    for lang in ("en", "ru"):
        html = sign_in(app, "read", lang=lang).get("/admin/nodes/analysis.needs.v1").text
        table = re.search(r'<table class="list" id="integrations">(.*?)</table>', html, re.DOTALL).group(1)
        rows[lang] = {m[0]: (m[1], unescape(re.sub(r"<[^>]+>", "", m[2])).strip()) for m in re.findall(
            r'<tr data-requirement="([^"]+)" data-satisfied="(\w+)">(.*?)</tr>', table, re.DOTALL)}
    assert list(rows["en"]) == ["metrics", "immune", "capability:organ_echo", "node:analysis.echo.v1"]
    assert all(satisfied == "yes" for satisfied, _ in rows["en"].values())
    assert "metrics (implicit)" in rows["en"]["metrics"][1] and "(неявное)" in rows["ru"]["metrics"][1]
    assert f"pinned as sha256 {created.sha256}" in rows["en"]["immune"][1]
    assert f"закреплён как sha256 {created.sha256}" in rows["ru"]["immune"][1]
    assert "gate organ_echo is open (experimental)" in rows["en"]["capability:organ_echo"][1]
    assert "шлюз organ_echo открыт (experimental)" in rows["ru"]["capability:organ_echo"][1]
    assert "analysis.echo.v1 в состоянии draft" in rows["ru"]["node:analysis.echo.v1"][1]
    assert [code for code in CODES if f"integration_{code}" not in i18n.MESSAGES] == []


def test_the_organ_page_inlines_the_graph_and_the_status(app, world):
    html = sign_in(app, "read").get(f"/admin/organs/{ORGAN}").text
    graph = re.search(r'<div class="graph" id="organ-graph">(.*?)</div>', html, re.DOTALL).group(1)
    assert graph.lstrip().startswith("<svg") and "<script" not in graph and "<!DOCTYPE" not in graph
    assert "analysis.text_normalize.v1" in graph
    assert 'data-member="analysis.text_normalize.v1"' in html and "data-member=\"analysis.speak_adapter.v1\"" in html
    history = re.search(r'<table class="list" id="history-table">(.*?)</table>', html, re.DOTALL).group(1)
    assert "<td>build</td>" in history and "<td>draft</td>" in history  # its creation, like a node's
    assert f"id: {ORGAN}" in re.search(r'<pre class="yaml" id="template">(.*?)</pre>', html, re.DOTALL).group(1)


def test_the_approvals_queue_holds_drafts_and_finished_training_runs_newest_first(app, world):
    html = sign_in(app, "write").get("/admin/approvals").text
    rows = re.findall(r'<tr data-pending="(\w+)" data-id="([^"]+)">', html)
    assert ("draft", DRAFT) in rows and ("draft", ORGAN) in rows and ("draft", SPAM) in rows
    assert ("training", world["run"]) in rows
    assert ("draft", "analysis.echo.v1") not in rows  # a canary without a passed analysis does not wait
    times = re.findall(r'<tr data-pending="\w+" data-id="[^"]+">\s*<td><time datetime="([^"]+)"', html)
    assert times == sorted(times, reverse=True)


# ---- CSRF -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("given", [None, "", "wrong"])
def test_a_post_without_the_right_csrf_token_is_403_and_changes_nothing(app, f, given):
    client = sign_in(app, "admin")
    for path, fields in ((f"/admin/nodes/{DRAFT}/approve", {"reason": "r", "confirm": "yes"}),
                         ("/admin/capabilities/factory_script", {"state": "stable", "reason": "r"}),
                         ("/admin/safe-mode", {"on": "yes", "reason": "r", "confirm": "yes"}),
                         ("/admin/commands", {"text": "create voice organ v1"})):
        response = post(client, path, given, **fields)
        assert response.status_code == 403, path
        assert 'data-error-code="csrf_failed"' in response.text
    assert state(f, DRAFT) == "draft"


def test_another_sessions_csrf_token_does_not_fit(app, f):
    mine, theirs = sign_in(app, "admin"), sign_in(app, "admin")
    response = post(mine, f"/admin/nodes/{DRAFT}/approve", csrf_of(theirs), reason="r", confirm="yes")
    assert response.status_code == 403 and state(f, DRAFT) == "draft"


def test_every_post_form_carries_the_csrf_token(app, world):
    client = sign_in(app, "admin")
    token = csrf_of(client)
    for path in PAGES:
        html = client.get(path.format(**world)).text
        for form in re.findall(r'<form method="post".*?</form>', html, re.DOTALL):
            assert f'name="csrf" value="{token}"' in form, (path, form[:300])


# ---- the policy decides: read-only sessions, safe-mode ----------------------------------------------------------

def enabled_write_controls(html: str) -> list[str]:
    buttons = re.findall(r'<button[^>]*class="write[^"]*"[^>]*>', html)
    return [b for b in buttons if " disabled" not in b] + re.findall(r'<form[^>]*class="action-form"', html)


def test_a_read_only_session_gets_no_enabled_write_control(app, world):
    client = sign_in(app, "read")
    for path in PAGES:
        html = client.get(path.format(**world)).text
        assert enabled_write_controls(html) == [], path
    node = client.get(f"/admin/nodes/{DRAFT}").text
    assert "nodes.approve needs scope write; reader has read" in node  # the policy says why
    caps = client.get("/admin/capabilities").text
    assert 'action="/admin/capabilities/' not in caps and 'action="/admin/safe-mode"' not in caps


def test_a_forged_post_from_a_read_only_session_is_refused_by_the_policy(app, f):
    client = sign_in(app, "read")
    token = csrf_of(client)  # a valid CSRF token: only the policy stands in the way
    response = post(client, f"/admin/nodes/{DRAFT}/approve", token, reason="forged", confirm="yes")
    assert response.status_code == 403 and 'data-error-code="insufficient_scope"' in response.text
    assert reason_of(response.text) == "nodes.approve needs scope write; reader has read"
    as_fetch = client.post(f"/admin/nodes/{DRAFT}/approve", data={"reason": "forged", "confirm": "yes"},
                           headers={"X-Requested-With": "fetch", "X-CSRF-Token": token})
    assert as_fetch.status_code == 403 and as_fetch.json()["code"] == "insufficient_scope"
    for path, fields in (("/admin/capabilities/factory_script", {"state": "stable", "reason": "forged"}),
                         ("/admin/safe-mode", {"on": "yes", "reason": "forged", "confirm": "yes"}),
                         (f"/admin/organs/{ORGAN}/quarantine", {"reason": "forged", "confirm": "yes"})):
        response = post(client, path, token, **fields)
        assert response.status_code == 403 and "insufficient_scope" in response.text, path
    assert state(f, DRAFT) == "draft" and state(f, ORGAN) == "draft"
    client_caps = sign_in(app, "admin").get("/admin/capabilities").text
    assert 'data-gate-state="factory_script">locked' in client_caps


def test_a_writer_approves_a_draft_with_a_reason_and_a_confirmation(app, f):
    client = sign_in(app, "write")
    token = csrf_of(client)
    page = client.get(f"/admin/nodes/{DRAFT}").text
    assert f'action="/admin/nodes/{DRAFT}/approve" class="action-form"' in page
    assert 'data-action="quarantine"' in page and enabled_write_controls(page)  # quarantine: shown, disabled
    assert re.search(r'<button type="button" class="write" disabled title="nodes.quarantine needs scope admin',
                     page)
    missing = post(client, f"/admin/nodes/{DRAFT}/approve", token, confirm="yes")
    assert missing.status_code == 422 and "Reason is required" in missing.text
    unconfirmed = post(client, f"/admin/nodes/{DRAFT}/approve", token, reason="looks right")
    assert unconfirmed.status_code == 422 and 'data-error-code="confirmation_required"' in unconfirmed.text
    assert state(f, DRAFT) == "draft"
    done = post(client, f"/admin/nodes/{DRAFT}/approve", token, reason="looks right", confirm="yes",
                next=f"/admin/nodes/{DRAFT}")
    assert done.status_code == 303 and done.headers["location"] == f"/admin/nodes/{DRAFT}"
    assert state(f, DRAFT) == "canary"
    history = nodes.get_node(f.nodes, ADMIN, DRAFT).history[-1]
    assert (history.actor, history.reason, history.to_state) == ("writer", "looks right", "canary")
    shown = client.get(f"/admin/nodes/{DRAFT}").text
    assert f"{DRAFT}: Approve done (draft → canary)." in unescape(shown)  # the flash
    assert "Approve done" not in client.get(f"/admin/nodes/{DRAFT}").text  # shown once
    as_fetch = client.post(f"/admin/nodes/{DRAFT}/disable", data={"reason": "enough", "confirm": "yes"},
                           headers={"X-Requested-With": "fetch", "X-CSRF-Token": token})
    assert as_fetch.status_code == 200
    assert as_fetch.json() | {"message": None} == {"ok": True, "message": None, "id": DRAFT, "state": "disabled",
                                                    "previous": "canary", "forced": False,
                                                    "allowed": ["quarantine"]}


def test_service_errors_are_readable_pages_with_their_status(app, f):
    client = sign_in(app, "write")
    token = csrf_of(client)
    lifecycle.transition(f.lifecycle, WRITER, DRAFT, "approve", reason="to canary")
    refused = post(client, f"/admin/nodes/{DRAFT}/approve", token, reason="go on", confirm="yes")
    assert refused.status_code == 409 and 'data-error-code="analysis_not_passed"' in refused.text
    assert reason_of(refused.text).startswith("analysis has not passed")
    invalid = post(client, f"/admin/nodes/{DRAFT}/release", token, reason="r", confirm="yes")
    assert invalid.status_code == 409 and 'data-error-code="invalid_transition"' in invalid.text
    forced = post(client, f"/admin/nodes/{DRAFT}/approve", token, reason="r", confirm="yes", force="yes")
    assert forced.status_code == 403 and "insufficient_scope" in forced.text  # force is an admin's
    organ = post(client, f"/admin/organs/{ORGAN}/approve", token, reason="r", confirm="yes")
    assert organ.status_code == 409 and 'data-error-code="organ_nodes_not_live"' in organ.text
    assert client.get("/admin/nodes/analysis.nope.v1").status_code == 404
    assert client.get("/admin/organs/analysis.echo.v1").status_code == 404  # a node is not an organ
    assert client.get("/admin/training/tr-nope").status_code == 404
    assert client.get("/admin/no/such/page").status_code == 404
    assert client.get("/admin/nodes?limit=zero").status_code == 422
    assert post(client, f"/admin/nodes/{DRAFT}/explode", token, reason="r", confirm="yes").status_code == 404
    assert post(client, "/admin/capabilities/factory_script", token, state="stable", reason="r").status_code == 403
    admin = sign_in(app, "admin")
    bad_state = post(admin, "/admin/capabilities/factory_script", csrf_of(admin), state="open", reason="r")
    assert bad_state.status_code == 422 and "state must be one of" in reason_of(bad_state.text)
    unknown = post(admin, "/admin/capabilities/nope", csrf_of(admin), state="stable", reason="r")
    assert unknown.status_code == 404


def test_safe_mode_from_the_ui_disables_a_writers_buttons_and_the_policy_refuses_them(app, f):
    admin = sign_in(app, "admin")
    response = post(admin, "/admin/safe-mode", csrf_of(admin), on="yes", reason="incident", confirm="yes")
    assert response.status_code == 303
    writer = sign_in(app, "write")
    page = writer.get(f"/admin/nodes/{DRAFT}").text
    assert 'id="safe-mode-indicator" class="badge st-quarantined">' in page  # shown, not hidden
    assert enabled_write_controls(page) == [] and re.search(r'<button type="button" class="write" disabled', page)
    assert "safe-mode is on: nodes.approve needs admin" in page
    refused = post(writer, f"/admin/nodes/{DRAFT}/approve", csrf_of(writer), reason="r", confirm="yes")
    assert refused.status_code == 403 and 'data-error-code="safe_mode"' in refused.text
    assert post(admin, "/admin/safe-mode", csrf_of(admin), on="no", reason="over", confirm="yes").status_code == 303
    assert 'class="action-form"' in writer.get(f"/admin/nodes/{DRAFT}").text


def test_an_admin_changes_a_gate_and_the_change_is_audited(app, f):
    admin = sign_in(app, "admin")
    response = post(admin, "/admin/capabilities/factory_script", csrf_of(admin), state="experimental",
                    reason="try scripts")
    assert response.status_code == 303
    page = admin.get("/admin/capabilities").text
    assert 'data-gate-state="factory_script">experimental' in page and "factory_script: locked → experimental" in \
        unescape(page)
    audit = admin.get("/admin/audit?action=capability.set").text
    assert "try scripts" in audit and 'data-ok="true"' in audit


# ---- commands -------------------------------------------------------------------------------------------------

def test_a_command_is_planned_and_makes_drafts_only_on_confirmation(tmp_path):
    f = build_services(make_settings(tmp_path, examples_dir=ROOT / "examples"))  # nothing loaded yet
    try:
        client = sign_in(create_app(f, TokenRegistry.load(f.settings)), "write")
        token = csrf_of(client)
        planned = post(client, "/admin/commands", token, text="создай голосовой орган v1")
        assert planned.status_code == 200
        html = planned.text
        assert 'data-step="create_node"' in html and 'data-step="build_organ"' in html
        assert "The policy allows every step." in html
        confirm = re.search(r'name="confirm_token" value="([^"]+)"', html).group(1)
        assert [n.id for n in nodes.list_nodes(f.nodes, ADMIN) if not n.id.startswith("factory.")] == []
        unconfirmed = post(client, "/admin/commands/confirm", token, confirm_token=confirm)
        assert unconfirmed.status_code == 422
        done = post(client, "/admin/commands/confirm", token, confirm_token=confirm, confirm="yes")
        assert done.status_code == 200, done.text
        assert re.findall(r'data-created="([^"]+)"', done.text) == [
            "analysis.text_normalize.v1", "analysis.text_to_phonemes.v1", "analysis.speak_adapter.v1", ORGAN]
        assert state(f, ORGAN) == "draft"
        again = post(client, "/admin/commands/confirm", token, confirm_token=confirm, confirm="yes")
        assert again.status_code == 409 and 'data-error-code="plan_used"' in again.text
        reader = sign_in(create_app(f, TokenRegistry.load(f.settings)), "read")
        read_plan = post(reader, "/admin/commands", csrf_of(reader), text="create node analysis.echo.v1")
        assert read_plan.status_code == 200 and "The policy refuses this plan for you." in read_plan.text
        assert 'name="confirm_token"' not in read_plan.text and enabled_write_controls(read_plan.text) == []
        nonsense = post(client, "/admin/commands", token, text="asdf qwerty")
        assert nonsense.status_code == 422 and 'data-error-code="not_understood"' in nonsense.text
    finally:
        f.db.dispose()


# ---- training ----------------------------------------------------------------------------------------------------

def test_a_finished_run_is_approved_from_its_page_into_a_new_draft(app, f, world):
    reader = sign_in(app, "read")
    assert enabled_write_controls(reader.get(f"/admin/training/{world['run']}").text) == []
    writer = sign_in(app, "write")
    page = writer.get(f"/admin/training/{world['run']}").text
    assert f'action="/admin/training/{world["run"]}/approve" class="action-form"' in page
    assert f'src="/admin/training/{world["run"]}/plot.png"' in page
    response = post(writer, f"/admin/training/{world['run']}/approve", csrf_of(writer), reason="best params",
                    confirm="yes")
    assert response.status_code == 303
    assert training.get(f.training, ADMIN, world["run"]).state == "approved"
    assert state(f, "analysis.spam.v2") == "draft"
    assert "New draft: analysis.spam.v2." in writer.get(f"/admin/training/{world['run']}").text


# ---- language ------------------------------------------------------------------------------------------------

def test_the_language_follows_the_browser_and_the_switch(app):
    client = sign_in(app, "read", lang="ru-RU,ru;q=0.9,en;q=0.5")
    html = client.get("/admin/nodes").text
    assert '<html lang="ru">' in html and "Узлы" in html and "Ждут решения" in html
    assert '<html lang="en">' in sign_in(app, "read", lang="de-DE,en;q=0.8,ru;q=0.3").get("/admin/nodes").text
    switched = client.get("/admin/lang/en", params={"next": "/admin/capabilities"})
    assert switched.status_code == 303 and switched.headers["location"] == "/admin/capabilities"
    assert "neira_lang=en" in switched.headers["set-cookie"]
    html = client.get("/admin/capabilities").text
    assert '<html lang="en">' in html and "Capability gates" in html  # the cookie beats Accept-Language
    client.get("/admin/lang/ru")
    assert "Шлюзы способностей" in client.get("/admin/capabilities").text
    assert client.get("/admin/lang/xx").status_code == 404
    login = browser(app, "ru").get("/admin/login").text
    assert "Войти" in login


def test_the_russian_pages_give_reasons_in_russian_and_the_english_ones_the_apis_reasons(app, f, world):
    ru, en = sign_in(app, "read", lang="ru"), sign_in(app, "read", lang="en")
    report = analysis.report(f.analysis, ADMIN, "analysis.echo.v1")  # a canary with no traffic yet
    assert report.reason == "0 of 50 requests so far" and report.why == {"code": "too_few_requests",
                                                                         "params": {"n": 0, "min": 50}}
    page = ru.get("/admin/nodes/analysis.echo.v1").text
    assert re.search(r'id="analysis-reason">([^<—]*)', page).group(1).strip() == "пока 0 запросов из 50"
    english = [report.reason, *(m.reason for m in report.metrics)]
    assert [r for r in english if r in unescape(page)] == []
    assert all(r in unescape(en.get("/admin/nodes/analysis.echo.v1").text) for r in english)
    members = organs.status(f.organs, ADMIN, ORGAN).nodes
    assert "no requests recently" in [m.reason for m in members]
    page = unescape(ru.get(f"/admin/organs/{ORGAN}").text)
    assert "в последнее время запросов не было" in page
    assert [m.reason for m in members if m.reason in page] == []
    assert all(i18n.reason("ru", m.why) in page for m in members)


def test_russian_reasons_choose_the_plural_form_by_the_number():
    forms = {n: i18n.reason("ru", {"code": "too_few_requests", "params": {"n": n, "min": 50}})
             for n in (1, 2, 5, 11, 21, 22, 25, 111)}
    assert forms == {1: "пока 1 запрос из 50", 2: "пока 2 запроса из 50", 5: "пока 5 запросов из 50",
                     11: "пока 11 запросов из 50", 21: "пока 21 запрос из 50", 22: "пока 22 запроса из 50",
                     25: "пока 25 запросов из 50", 111: "пока 111 запросов из 50"}
    nested = {"code": "failures_tolerated", "params": {"n": 1, "limit": 2, "why": {
        "code": "error_rate_value", "params": {"rate": 0.2, "count": 21, "n": 21, "sign": ">", "limit": 0.05}}}}
    assert i18n.reason("ru", nested) == ("1 неудачное измерение, failure_limit 2 его допускает: доля ошибок 0.200 "
                                         "(21 из 21 запроса) > 0.05")
    assert i18n.reason("en", nested) == ("1 failed measurement, failure_limit 2 tolerates it: error rate 0.200 "
                                         "(21 of 21 requests) > 0.05")
    assert i18n.reason("ru", None, "as it was") == "as it was"


def test_every_reason_code_has_russian_words_for_the_same_params():
    from neira_factory.api.ui.reason_texts import RUSSIAN
    from neira_factory.domain.reasons import ENGLISH

    assert set(RUSSIAN) == set(ENGLISH)
    fields = re.compile(r"\{(\w+)[:|}]")
    for code, text in ENGLISH.items():
        assert set(fields.findall(RUSSIAN[code])) == set(fields.findall(text)), code


def test_every_label_the_templates_use_exists_in_both_languages():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r'\bt\("([a-z_]+)"[,)]', template.read_text()))
        used |= set(re.findall(r"\bt\('([a-z_]+)'[,)]", template.read_text()))
    assert used and used <= set(i18n.MESSAGES), sorted(used - set(i18n.MESSAGES))
    for prefix, names in (("action_", ("approve", "rollback", "disable", "quarantine", "release", "fail", "reject",
                                       "continue")),
                          ("nav_", ("nodes", "approvals", "organs", "capabilities", "audit", "training", "commands")),
                          ("health_", ("ok", "failing", "no_data", "down")), ("scope_", ("read", "write", "admin")),
                          ("verdict_", ("pass", "fail", "inconclusive"))):
        assert all(prefix + n in i18n.MESSAGES for n in names), prefix
    assert all(len(pair) == 2 and all(pair) for pair in i18n.MESSAGES.values())


def test_the_language_negotiation():
    assert i18n.negotiate(None, None) == "en"
    assert i18n.negotiate(None, "ru") == "ru"
    assert i18n.negotiate(None, "en;q=0.4, ru;q=0.8") == "ru"
    assert i18n.negotiate(None, "fr, de") == "en"
    assert i18n.negotiate("en", "ru") == "en"
    assert i18n.negotiate("xx", "ru") == "ru"


def test_the_sessions_are_signed_with_a_secret_generated_once_into_var(app, f):
    sign_in(app, "read")
    secret = f.settings.var_dir / "ui-secret"
    assert secret.exists() and secret.stat().st_mode & 0o777 == 0o600
    assert TOKENS["read"] not in secret.read_text()


def test_the_analysis_charts_draw_one_point_per_window():
    from neira_factory.api.ui import charts

    windows = [{"start": 1_700_000_000 + 10 * i, "requests": 10 + i, "errors": {"exception": i % 2},
                "p50_ms": 1.0, "p95_ms": 2.0 + i, "p99_ms": 3.0 + i} for i in range(5)]
    requests, errors, latency = (str(c) for c in charts.analysis_charts(windows, lambda key: key))
    points = re.search(r'<polyline class="s-requests" points="([^"]+)"', requests).group(1).split()
    assert len(points) == 5 and float(points[0].split(",")[1]) > float(points[-1].split(",")[1])  # rising
    assert "max 14" in requests and "last 14" in requests
    assert 'class="s-errors"' in errors and "max 1" in errors
    assert all(f'class="{s}"' in latency for s in ("s-p50", "s-p95", "s-p99"))
    empty = str(charts.analysis_charts([], lambda key: key)[0])
    assert "no_data_yet" in empty and "<polyline" not in empty
    hostile = str(charts.chart("<script>", "x", [], [charts.Series("<b>", [1.0], "s-requests")], empty="-"))
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile
