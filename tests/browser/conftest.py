"""Browser tests: Playwright for Python driving Debian's chromium (/usr/bin/chromium, headless) against a
real `neira-factory serve`, started by the end-to-end fixtures (tests/e2e/conftest.py, e2e_support.py).

They are never skipped: without chromium or playwright they fail and say how to get them
(./scripts/setup.sh installs both). Screenshots of each page go to test-artifacts/screenshots/ when
CI is set, else to pytest's temporary directory (the path is printed with -s / in the report).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import ROOT  # tests/ is on sys.path (tests/conftest.py)

from e2e_fixtures import start_server  # noqa: F401 - the fixture, re-exported; puts tests/e2e on sys.path

CHROMIUM = Path(os.environ.get("NEIRA_TEST_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    """One chromium for the browser tests; closed (with Playwright's event loop) when they are done, so
    the loop does not stay running under the tests that come after them."""
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need chromium at {CHROMIUM} (Debian package `chromium`: ./scripts/setup.sh "
                    "installs it; NEIRA_TEST_CHROMIUM names another binary)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need Playwright for Python: ./scripts/setup.sh (pip install -e '.[dev]')",
                    pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    if os.environ.get("CI"):
        folder = ROOT / "test-artifacts" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def context(browser, request):
    """A fresh browser profile (cookies, storage) per test, English unless a test asks otherwise."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()
