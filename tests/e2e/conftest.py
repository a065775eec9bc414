"""Browser journeys: the real server on loopback, driven through Debian's Chromium by Playwright.

The tests skip, with the reason, when Chromium or Playwright for Python is missing, so the rest of
the suite still runs. Never `playwright install`: the browser is /usr/bin/chromium.
The fixtures are here; the server, the page audit and the steps a person takes are plain helpers
in browsing.py, which the test modules import (never this file).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.browsing import (
    AXE_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    E2E_DIR,
    SCREENSHOTS,
    WIDE,
    PageAudit,
    Server,
    complete_setup,
    missing_requirement,
    start_server,
    sync_playwright,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = missing_requirement()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server shared by the tests that don't need a first run of their own."""
    running = start_server(tmp_path_factory.mktemp("shared-instance"))
    yield running
    running.stop(keep_as="shared")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, with the machine's network-quiet flags."""
    reason = missing_requirement()
    if reason is not None:
        pytest.skip(reason)
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh browser contexts (own cookies), closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(base_url: str, width: int = WIDE) -> Page:
        context = browser.new_context(
            base_url=base_url, viewport={"width": width, "height": 900}, locale="en-GB"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def audit() -> PageAudit:
    """One audit for the whole run, so later tests can assert on what the journey saw."""
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return PageAudit(AXE_JS.read_text() if AXE_JS.exists() else None, SCREENSHOTS)


@pytest.fixture(scope="session")
def clinic(server: Server, browser: Browser) -> Server:
    """The shared server after its first-run setup (done once, through the form)."""
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    page.goto("/setup")
    complete_setup(page)
    context.close()
    return server
