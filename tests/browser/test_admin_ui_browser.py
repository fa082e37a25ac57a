"""The admin UI in a real browser (Debian's chromium through Playwright) on a real server: sign in, find a
draft, approve it to canary with a reason and see its badge change without a reload (also when another
client makes the change: the event stream); a read-only token sees no enabled write button and its
forged posts are refused; a command makes drafts only after the confirmation; a screenshot of each page."""
from __future__ import annotations

import re
import time

from playwright.sync_api import expect
from ui_support import open_tab, sign_in

DRAFT = "analysis.reverse.v1"
OTHER = "analysis.echo.v1"


def wait_for(check, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_sign_in_find_a_draft_approve_it_and_watch_the_badges_change_live(context, start_server, screenshot_dir):
    server = start_server(examples=True)
    api = server.client("write")
    tab = sign_in(context, server.url, "write", screenshot_dir, "approve")
    page = tab.page
    tab.live()

    # find the draft: filter the list by state and search
    page.select_option("select[name=state]", "draft")
    page.fill("input[name=search]", "reverse")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"state=draft"))
    rows = page.locator("#nodes-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(f'[data-node-badge="{DRAFT}"]')).to_have_text("draft")
    tab.shot("nodes-filtered")
    rows.first.locator(f'a[href="/admin/nodes/{DRAFT}"]').click()
    expect(page.locator("h1")).to_contain_text(DRAFT)
    tab.live()
    tab.mark()

    # approve: the dialog asks for a reason and a confirmation
    page.click("form.action-form button[data-action=approve]")
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#dialog-title")).to_contain_text(DRAFT)
    expect(page.locator("#dialog-text")).to_contain_text("canary")
    page.fill("#dialog-reason", "dry-run clean, examples pass")
    page.click("#dialog-submit")  # not confirmed yet: the browser keeps the dialog open
    expect(dialog).to_be_visible()
    assert api.get(f"/factory/nodes/{DRAFT}").json()["state"] == "draft"
    tab.shot("approve-dialog")
    page.check("#dialog-confirm")
    page.click("#dialog-submit")
    expect(dialog).to_be_hidden()
    badge = page.locator(f'h1 [data-node-badge="{DRAFT}"]')
    expect(badge).to_have_text("canary")
    expect(page.locator("#live-flash")).to_contain_text("draft → canary")
    expect(page.locator("#history-table")).to_contain_text("dry-run clean, examples pass")  # re-read in place
    expect(page.locator("form.action-form button[data-action=approve]")).to_be_visible()  # canary → experimental
    assert tab.not_reloaded()
    detail = api.get(f"/factory/nodes/{DRAFT}").json()
    assert detail["state"] == "canary"
    assert (detail["history"][-1]["actor"], detail["history"][-1]["reason"]) == ("writer", "dry-run clean, examples pass")
    tab.shot("node-canary")

    # another client's change reaches the open list through the event stream, without a reload
    tab.go("/admin/nodes")
    tab.live()
    tab.mark()
    other = page.locator(f'#nodes-table [data-node-badge="{OTHER}"]')
    expect(other).to_have_text("draft")
    response = api.post(f"/factory/nodes/{OTHER}/approve", json={"reason": "from the API"})
    assert response.status_code == 200, response.text
    expect(other).to_have_text("canary")
    assert tab.not_reloaded()
    tab.shot("nodes-live")
    assert tab.errors == []


def test_a_read_only_token_sees_no_enabled_write_button_and_its_forged_posts_are_refused(
        context, start_server, screenshot_dir):
    server = start_server(examples=True)
    api = server.client("admin")
    tab = sign_in(context, server.url, "read", screenshot_dir, "read-only")
    page = tab.page
    for path in ("/admin/nodes", f"/admin/nodes/{DRAFT}", "/admin/approvals", "/admin/organs/organ.voice.v1",
                 "/admin/capabilities", "/admin/commands", "/admin/training"):
        tab.go(path)
        assert page.locator("button.write:enabled").count() == 0, path
        assert page.locator("form.action-form").count() == 0, path
        assert page.locator("main form[method=post] select:enabled").count() == 0, path
    tab.go(f"/admin/nodes/{DRAFT}")
    approve = page.locator("button.write[data-action=approve]")
    expect(approve).to_be_disabled()
    expect(approve).to_have_attribute("title", re.compile("needs scope write"))
    tab.shot("node")
    tab.go("/admin/capabilities")
    expect(page.locator("#gates-table select").first).to_be_disabled()
    tab.shot("capabilities")

    # a forged form, with the page's own valid CSRF token: the policy refuses it
    tab.go(f"/admin/nodes/{DRAFT}")
    with page.expect_navigation() as navigation:
        page.evaluate("""(url) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = url;
            const fields = {csrf: document.querySelector('meta[name="csrf-token"]').content,
                            reason: 'forged', confirm: 'yes'};
            for (const [name, value] of Object.entries(fields)) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }""", f"/admin/nodes/{DRAFT}/approve")
    assert navigation.value.status == 403
    expect(page.locator("[data-error-code=insufficient_scope]")).to_be_visible()
    expect(page.locator("#error-reason")).to_have_text("nodes.approve needs scope write; reader has read")
    tab.shot("forged-post-refused")
    tab.errors.clear()  # the 403 itself is logged by the console
    status = page.evaluate("""async (url) => (await fetch(url, {method: 'POST', credentials: 'same-origin',
        headers: {'X-Requested-With': 'fetch', 'X-CSRF-Token': 'x'}, body: new URLSearchParams({reason: 'r'})})).status""",
                           "/admin/capabilities/factory_script")
    assert status == 403  # a wrong CSRF token, before the policy is even asked
    assert api.get(f"/factory/nodes/{DRAFT}").json()["state"] == "draft"
    assert api.get("/capabilities").json()["capabilities"]["factory_script"]["state"] == "locked"
    assert api.get("/audit", params={"resource": DRAFT, "action": "node.approve"}).json() == []


def test_a_typed_command_creates_drafts_only_after_the_confirmation(context, start_server, screenshot_dir):
    server = start_server()  # no examples loaded: the command makes the voice organ from them
    api = server.client("read")

    def made() -> list[str]:
        nodes = [n["id"] for n in api.get("/factory/nodes").json() if not n["id"].startswith("factory.")]
        return sorted(nodes + [o["id"] for o in api.get("/organs").json()])

    tab = sign_in(context, server.url, "write", screenshot_dir, "command")
    page = tab.page
    tab.go("/admin/commands")
    page.fill("#command-text", "создай голосовой орган v1")
    page.click("#plan-button")
    expect(page.locator("#plan")).to_be_visible()
    expect(page.locator("#plan-steps tbody tr")).to_have_count(4)
    expect(page.locator("#policy-outcome")).to_have_text("The policy allows every step.")
    tab.shot("plan")
    assert made() == []  # a plan makes nothing
    page.click("#confirm-button")  # the confirmation box is not ticked: nothing is sent
    expect(page.locator("#confirm-button")).to_be_visible()
    assert made() == []
    page.check("#confirm-check")
    page.click("#confirm-button")
    expect(page.locator("#created-table tbody tr")).to_have_count(4)
    created = ["analysis.speak_adapter.v1", "analysis.text_normalize.v1", "analysis.text_to_phonemes.v1",
               "organ.voice.v1"]
    assert made() == created
    assert {n["state"] for n in api.get("/factory/nodes").json() if n["id"] in created} == {"draft"}
    assert api.get("/organs").json()[0]["state"] == "draft"
    tab.shot("done")
    assert tab.errors == []


def test_every_page_in_both_languages_with_screenshots(context, start_server, screenshot_dir):
    server = start_server(examples=True)
    writer = server.client("write")
    started = writer.post("/factory/nodes/analysis.keyword_classify.v1/train",
                          json={"objective": "accuracy", "max_iterations": 6, "field": "label"})
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    wait_for(lambda: writer.get(f"/training/{run_id}").json()["state"] not in ("queued", "running", "paused"),
             what="the training run")
    admin = server.client("admin")
    assert writer.post("/factory/nodes/analysis.echo.v1/approve", json={"reason": "canary"}).status_code == 200
    for _ in range(2):  # to stable (forced: no analysis yet), then traffic for the node page's charts
        assert admin.post("/factory/nodes/analysis.echo.v1/approve",
                          json={"reason": "screenshots", "force": True}).status_code == 200
    for i in range(40):
        assert writer.post("/invoke/analysis.echo", json={"input": {"text": f"hi {i}"}}).status_code == 200
    assert writer.post("/factory/nodes/analysis.reverse.v1/approve", json={"reason": "canary"}).status_code == 200

    tab = sign_in(context, server.url, "admin", screenshot_dir, "pages")
    page = tab.page
    pages = {"nodes": "/admin/nodes", "node": "/admin/nodes/analysis.echo.v1", "approvals": "/admin/approvals",
             "organs": "/admin/organs", "organ": "/admin/organs/organ.voice.v1", "capabilities": "/admin/capabilities",
             "audit": "/admin/audit", "training": "/admin/training", "run": f"/admin/training/{run_id}",
             "commands": "/admin/commands"}
    for name, path in pages.items():
        tab.go(path)
        expect(page.locator("header nav a.active")).to_have_count(1)
        tab.shot(f"en-{name}")
    tab.go(f"/admin/training/{run_id}")
    plot = page.locator("#plot-img")
    expect(plot).to_be_visible()
    assert page.evaluate("document.querySelector('#plot-img').naturalWidth") > 100  # the PNG loaded
    tab.go("/admin/organs/organ.voice.v1")
    expect(page.locator("#organ-graph svg")).to_be_visible()
    tab.go("/admin/nodes/analysis.echo.v1")
    expect(page.locator("#charts svg.chart")).to_have_count(3)
    expect(page.locator('#metrics-table [data-metric="requests"] td.num').first).to_have_text("40")
    assert page.locator("#charts svg.chart .s-requests").count() >= 1  # a data point, not "no data yet"
    tab.go("/admin/approvals")
    expect(page.locator(f'tr[data-pending="training"][data-id="{run_id}"]')).to_be_visible()

    page.click("#lang-ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("h1")).to_have_text("Ждут решения")
    for name, path in pages.items():
        tab.go(path)
        tab.shot(f"ru-{name}")
    expect(page.locator("header nav")).to_contain_text("Узлы")
    page.click("#lang-en")
    expect(page.locator("h1")).to_have_text("Command")

    page.click("#sign-out")
    expect(page).to_have_url(re.compile(r"/admin/login$"))
    tab.shot("signed-out")
    assert tab.errors == [], tab.errors  # no script error, no CSP violation on any page
    print(f"screenshots: {screenshot_dir}")
    russian = open_tab(context.browser.new_context(locale="ru-RU", extra_http_headers={"Accept-Language": "ru"}),
                       server.url, screenshot_dir, "ru-browser")
    russian.go("/admin/login")
    expect(russian.page.locator("h1")).to_have_text("Войти")
    russian.shot("login")
    russian.page.context.close()
