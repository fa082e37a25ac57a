"""Admin UI sessions follow the tokens they were signed in with, through the real app: a session keeps
working on a replica (or after a restart) that still knows its token as the same actor and scope, and
ends at its next request on one where the token was revoked, moved to another actor or lowered in scope
(a lowered scope never keeps its admin rights in the UI), also on a running replica whose tokens file
changed; the cookie holds neither the token nor its
plain hash. The signing secret is the `ui_secret` setting (NEIRA_UI_SECRET) when set."""
from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
import yaml
from fastapi.testclient import TestClient
from support import make_settings
from test_admin_ui import browser, csrf_of, login_csrf, post

from neira_factory.api.app import create_app
from neira_factory.api.ui.session import SESSION_COOKIE
from neira_factory.domain.actors import Actor
from neira_factory.services import capabilities
from neira_factory.services.bootstrap import build_services
from neira_factory.config.tokens import TokenRegistry

ALICE = "alice-token-for-ui-session-tests"
BOB = "bob-token-for-ui-session-tests"
SECRET = "a-ui-secret-shared-by-the-replicas-0123456789"
ADMIN = Actor("admin", "admin")


@pytest.fixture
def f(tmp_path):
    tokens = tmp_path / "tokens.yaml"
    write_tokens(tokens, [{"token": ALICE, "actor": "alice", "scope": "admin"},
                          {"token": BOB, "actor": "bob", "scope": "write"}])
    factory = build_services(make_settings(tmp_path, tokens_file=tokens))
    yield factory
    factory.db.dispose()


def write_tokens(path, entries) -> None:
    path.write_text(yaml.safe_dump(entries))


def replica(f):
    """An app over the factory's database and var dir (another replica, or this one after a restart) with
    the tokens its configuration has now."""
    return create_app(f, TokenRegistry.load(f.settings))


def signed_in(app, token: str) -> TestClient:
    client = browser(app)
    response = client.post("/admin/login", data={"token": token, "csrf": login_csrf(client), "next": "/admin/nodes"})
    assert response.status_code == 303 and response.headers["location"] == "/admin/nodes", response.text
    return client


def carried_to(app, client: TestClient) -> TestClient:
    """The same browser (its session cookie) talking to `app`."""
    other = browser(app)
    other.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
    return other


def gate(f, name: str) -> str:
    return capabilities.list_capabilities(f.capabilities, ADMIN).capabilities[name].state


def session_body(client: TestClient) -> dict:
    payload = client.cookies[SESSION_COOKIE].split(".")[0]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def signed_out(client: TestClient) -> bool:
    page = client.get("/admin/capabilities")
    return page.status_code == 303 and page.headers["location"].startswith("/admin/login")


def test_a_session_lives_on_where_its_token_is_still_known(f):
    alice = signed_in(replica(f), ALICE)
    again = carried_to(replica(f), alice)  # a restart with the same tokens, or a second replica
    page = again.get("/admin/capabilities")
    assert page.status_code == 200 and 'action="/admin/capabilities/factory_script"' in page.text
    response = post(again, "/admin/capabilities/factory_script", csrf_of(again), state="experimental",
                    reason="still alice")
    assert response.status_code == 303 and gate(f, "factory_script") == "experimental"


def test_a_revoked_token_ends_its_sessions_at_the_next_request(f):
    alice, bob = signed_in(replica(f), ALICE), signed_in(replica(f), BOB)
    token = csrf_of(alice)
    write_tokens(f.settings.tokens_file, [{"token": BOB, "actor": "bob", "scope": "write"}])
    restarted = replica(f)
    alice, bob = carried_to(restarted, alice), carried_to(restarted, bob)
    assert signed_out(alice)
    refused = post(alice, "/admin/capabilities/factory_script", token, state="experimental", reason="revoked")
    assert refused.status_code == 401 and 'data-error-code="unauthorized"' in refused.text
    assert gate(f, "factory_script") == "locked"
    assert bob.get("/admin/nodes").status_code == 200  # the other token's session goes on
    login = browser(restarted)
    again = login.post("/admin/login", data={"token": ALICE, "csrf": login_csrf(login)})
    assert again.status_code == 401


def test_a_running_replica_takes_a_revocation_from_the_tokens_file_without_a_restart(f):
    app = create_app(f, TokenRegistry.load(f.settings, check_s=0.0))  # looks at the file on every request
    alice = signed_in(app, ALICE)
    api = TestClient(app)
    assert api.get("/factory/nodes", headers={"Authorization": f"Bearer {ALICE}"}).status_code == 200
    write_tokens(f.settings.tokens_file, [{"token": BOB, "actor": "bob", "scope": "write"}])
    assert api.get("/factory/nodes", headers={"Authorization": f"Bearer {ALICE}"}).status_code == 401
    assert signed_out(alice)
    assert api.get("/factory/nodes", headers={"Authorization": f"Bearer {BOB}"}).status_code == 200


def test_a_lowered_scope_does_not_keep_admin_rights_in_the_ui(f):
    alice = signed_in(replica(f), ALICE)
    token = csrf_of(alice)
    write_tokens(f.settings.tokens_file, [{"token": ALICE, "actor": "alice", "scope": "read"}])
    lowered = carried_to(replica(f), alice)
    assert signed_out(lowered)
    refused = post(lowered, "/admin/safe-mode", token, on="yes", reason="old rights", confirm="yes")
    assert refused.status_code == 401
    reader = signed_in(replica(f), ALICE)
    assert session_body(reader)["s"] == "read"
    forbidden = post(reader, "/admin/safe-mode", csrf_of(reader), on="yes", reason="as a reader", confirm="yes")
    assert forbidden.status_code == 403


def test_a_token_given_to_another_actor_ends_the_session(f):
    alice = signed_in(replica(f), ALICE)
    write_tokens(f.settings.tokens_file, [{"token": ALICE, "actor": "mallory", "scope": "admin"}])
    assert signed_out(carried_to(replica(f), alice))


def test_the_cookie_holds_a_keyed_fingerprint_not_the_token(f):
    alice = signed_in(replica(f), ALICE)
    body = session_body(alice)
    assert set(body) == {"a", "s", "t", "sid", "iat", "exp"} and (body["a"], body["s"]) == ("alice", "admin")
    digest = hashlib.sha256(ALICE.encode())
    assert ALICE not in json.dumps(body) and body["t"] not in (digest.hexdigest(), digest.digest().hex())
    assert re.fullmatch(r"[0-9a-f]{64}", body["t"])
    assert body["t"] != session_body(signed_in(replica(f), BOB))["t"]


def test_the_secret_comes_from_the_ui_secret_setting(f, tmp_path):
    def with_secret(name: str):
        (tmp_path / name).mkdir()
        return build_services(make_settings(tmp_path / name, ui_secret=SECRET, tokens_file=f.settings.tokens_file))

    one, two = with_secret("one"), with_secret("two")  # two replicas given the same NEIRA_UI_SECRET
    try:
        alice = signed_in(replica(one), ALICE)
        assert carried_to(replica(two), alice).get("/admin/nodes").status_code == 200
        assert not (tmp_path / "one" / "ui-secret").exists() and not (tmp_path / "two" / "ui-secret").exists()
        assert signed_out(carried_to(replica(f), alice))  # signs with its generated var/ui-secret instead
    finally:
        one.db.dispose()
        two.db.dispose()
