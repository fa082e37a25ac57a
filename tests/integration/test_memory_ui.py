"""A memory route's admin page (/admin/memory/{route}) through the real app in-process: linked from its node's
page, its numbers, a search run as the signed-in user, its records page by page, the export, and forgetting a
record — a confirmation page, then a post that needs the CSRF token and the confirmation, refused to a
read-only session by the policy."""
from __future__ import annotations

import json
import re

import pytest
from memory_support import ROUTE, facts, stable_memory
from test_admin_ui import browser, csrf_of, enabled_write_controls, post, sign_in

from neira_factory.api.app import create_app
from neira_factory.api.ui.rendering import PAGE_SIZE
from neira_factory.config.tokens import TokenRegistry
from neira_factory.domain.actors import Actor
from neira_factory.services import invoke, memory
from neira_factory.services.bootstrap import build_services
from support import make_settings

ADMIN = Actor("admin", "admin")
PAGE = f"/admin/memory/{ROUTE}"


@pytest.fixture
def f(tmp_path):
    factory = build_services(make_settings(tmp_path))
    stable_memory(factory)
    memory.import_records(factory.memory, ADMIN, ROUTE, facts(PAGE_SIZE + 20), "test")
    yield factory
    factory.db.dispose()


@pytest.fixture
def app(f):
    return create_app(f, TokenRegistry.load(f.settings))


def record(f, record_id: str):
    return invoke.invoke(f.invoke, ADMIN, ROUTE, {"op": "get", "id": record_id})["output"]["record"]


def rows(html: str, table: str) -> list[str]:
    body = re.search(rf'<table class="list" id="{table}">.*?</table>', html, re.DOTALL)
    return re.findall(r'<tr data-record="([^"]+)">', body.group(0)) if body else []


def test_the_node_page_links_the_memory_page_which_shows_the_store_and_its_records(app):
    client = sign_in(app, "read")
    node = client.get(f"/admin/nodes/{ROUTE}.v1").text
    assert f'href="{PAGE}" id="memory-link"' in node
    page = client.get(PAGE)
    assert page.status_code == 200, page.text
    assert f'data-records="{PAGE_SIZE + 20}"' in page.text and "<code>facts</code>" in page.text
    first = rows(page.text, "records-table")
    assert first == [f"fact-{i}" for i in range(PAGE_SIZE)]
    next_url = re.search(r'<a href="([^"]+)" id="next-page">', page.text).group(1).replace("&amp;", "&")
    rest = client.get(next_url).text
    assert rows(rest, "records-table") == [f"fact-{i}" for i in range(PAGE_SIZE, PAGE_SIZE + 20)]
    assert 'id="next-page"' not in rest and f'href="{PAGE}" id="first-page"' in rest


def test_a_search_runs_as_the_signed_in_user(app):
    client = sign_in(app, "read")
    page = client.get(PAGE, params={"q": "number 7 gravitation"}).text
    assert rows(page, "results-table")[0] == "fact-7"
    assert 'id="no-results"' in client.get(PAGE, params={"q": "zebra"}).text


def test_the_export_link_downloads_every_record_as_json_lines(app):
    client = sign_in(app, "read")
    assert f'href="{PAGE}/export"' in client.get(PAGE).text
    export = client.get(f"{PAGE}/export")
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line)["id"] for line in export.text.splitlines()] == [f"fact-{i}" for i in range(PAGE_SIZE + 20)]
    assert browser(app).get(f"{PAGE}/export").status_code == 303  # no session: to the sign-in form


def test_forget_needs_the_confirmation_page_the_csrf_token_and_the_box_ticked(app, f):
    client = sign_in(app, "write")
    assert f'href="{PAGE}/forget?id=fact-3"' in client.get(PAGE).text
    confirm = client.get(f"{PAGE}/forget", params={"id": "fact-3"})
    assert confirm.status_code == 200 and "Forget record fact-3?" in confirm.text
    form = re.search(r'<form method="post" action="([^"]+)" id="forget-form">.*?</form>', confirm.text, re.DOTALL)
    assert form.group(1) == f"{PAGE}/forget" and 'name="confirm"' in form.group(0)
    token = csrf_of(client, PAGE)
    assert f'name="csrf" value="{token}"' in form.group(0)

    for csrf in (None, "forged"):
        refused = post(client, f"{PAGE}/forget", csrf, id="fact-3", confirm="yes")
        assert refused.status_code == 403 and "CSRF" in refused.text
    unconfirmed = post(client, f"{PAGE}/forget", token, id="fact-3")
    assert unconfirmed.status_code == 422 and 'data-error-code="confirmation_required"' in unconfirmed.text
    assert record(f, "fact-3") is not None

    done = post(client, f"{PAGE}/forget", token, id="fact-3", confirm="yes")
    assert done.status_code == 303 and done.headers["location"] == PAGE
    assert record(f, "fact-3") is None
    assert "Record fact-3 forgotten." in client.get(PAGE).text  # the flash message
    with f.read() as uow:
        entry = uow.audit.list(action="memory.forget")[0]
    assert entry.actor == "writer" and entry.after["id"] == "fact-3"


def test_a_read_only_session_cannot_forget(app, f):
    client = sign_in(app, "read")
    page = client.get(PAGE).text
    assert enabled_write_controls(page) == [] and "memory.write needs scope write" in page
    assert 'id="forget-form"' not in client.get(f"{PAGE}/forget", params={"id": "fact-1"}).text
    forged = post(client, f"{PAGE}/forget", csrf_of(client, PAGE), id="fact-1", confirm="yes")
    assert forged.status_code == 403 and 'data-error-code="insufficient_scope"' in forged.text
    assert record(f, "fact-1") is not None


def test_a_route_that_is_not_a_memory_node_is_a_readable_error_page(app):
    client = sign_in(app, "read")
    missing = client.get("/admin/memory/memory.nope")
    assert missing.status_code == 404 and 'data-error-code="not_found"' in missing.text
