"""What the browser tests share: signing in through the form, screenshots, console errors."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect
from support import TOKENS

expect.set_options(timeout=15_000)


@dataclass
class Tab:
    """One page of a signed-in browser, with the console errors it logged (CSP violations included)."""

    page: Page
    base: str
    shots: Path
    prefix: str
    errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, (path, response and response.status)

    def shot(self, name: str) -> Path:
        path = self.shots / f"{self.prefix}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def live(self) -> None:
        """Wait until the page's event stream is connected."""
        expect(self.page.locator("body")).to_have_attribute("data-live", "on")

    def mark(self) -> None:
        """Mark this document: still marked later means the page was not reloaded meanwhile."""
        self.page.evaluate("window.__not_reloaded = true")

    def not_reloaded(self) -> bool:
        return self.page.evaluate("window.__not_reloaded === true")


def open_tab(context: BrowserContext, base: str, shots: Path, prefix: str) -> Tab:
    page = context.new_page()
    tab = Tab(page, base, shots, re.sub(r"[^a-z0-9]+", "-", prefix.lower()).strip("-"))
    page.on("console", lambda message: tab.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    return tab


def sign_in(context: BrowserContext, base: str, scope: str, shots: Path, prefix: str) -> Tab:
    tab = open_tab(context, base, shots, prefix)
    tab.go("/admin/nodes")  # no session yet: the sign-in form
    expect(tab.page).to_have_url(re.compile(r"/admin/login\?next="))
    tab.page.fill("#token", TOKENS[scope])
    tab.page.click("#login-form button[type=submit]")
    expect(tab.page).to_have_url(re.compile(r"/admin/nodes$"))
    expect(tab.page.locator(".actor")).to_have_attribute("data-scope", scope)
    return tab
