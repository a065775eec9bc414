"""companion.js on its own, in Chromium: the page and the server are stand-ins served by
Playwright's router (no live server), so each test decides exactly how the network answers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

SCRIPT = (Path(__file__).resolve().parents[2] / "prescriptions/static/companion.js").read_text()
ORIGIN = "http://phone.test"
PAGE = """<!doctype html><html lang="en"><head><title>t</title></head><body>
<p><span class="done-count">0</span> of <span data-sessions="3">3</span></p>
<ol class="ticks"><li></li><li></li><li></li></ol>
<form method="post" action="/p/KEY/tap" class="tap-form">
<input type="hidden" name="form_key" value="fk"><input type="hidden" name="key" value="k0">
<input type="hidden" name="on" value="2026-12-01">
<button type="submit">I did a session</button></form>
<p class="queued" hidden></p>
<script>SCRIPT</script></body></html>"""


class Phone:
    """A page with companion.js whose POSTs reach `answer` (a function of the form sent)."""

    def __init__(self, page) -> None:
        self.page = page
        self.sent: list[dict[str, str]] = []
        self.answer: Callable[[dict[str, str]], tuple[int, dict | str]] = lambda form: (
            200,
            {"ok": True, "counted": True, "full": False},
        )
        self.delay = 0.0
        page.route(f"{ORIGIN}/**", self._serve)

    def _serve(self, route) -> None:
        request = route.request
        if request.method == "GET":
            route.fulfill(status=200, content_type="text/html",
                          body=PAGE.replace("SCRIPT", SCRIPT))  # fmt: skip
            return
        form = {k: v[0] for k, v in parse_qs(request.post_data or "").items()}
        self.sent.append(form)
        if self.delay:
            time.sleep(self.delay)
        status, body = self.answer(form)
        if isinstance(body, dict):
            route.fulfill(status=status, content_type="application/json", body=json.dumps(body))
        else:
            route.fulfill(status=status, content_type="text/html", body=body)

    def open(self) -> None:
        self.page.goto(f"{ORIGIN}/p/KEY")

    def queue(self) -> list[dict]:
        return self.page.evaluate("JSON.parse(localStorage.getItem('companion-queue') || '[]')")


@pytest.fixture
def phone(browser) -> Iterator[Phone]:
    context = browser.new_context(viewport={"width": 390, "height": 800})
    context.set_default_timeout(5_000)
    yield Phone(context.new_page())
    context.close()


def test_a_double_tap_while_the_first_is_on_its_way_counts_once(phone: Phone) -> None:
    phone.delay = 0.4
    phone.open()
    phone.page.evaluate(
        "() => { const b = document.querySelector('.tap-form button'); b.click(); b.click(); }"
    )
    phone.page.wait_for_function("!document.querySelector('.tap-form button').disabled")
    phone.page.wait_for_timeout(300)
    assert len({f["key"] for f in phone.sent}) == 1
    assert phone.page.locator(".done-count").inner_text() == "1"
    # once the answer came, the next tap is a new one
    phone.page.locator(".tap-form button").click()
    phone.page.wait_for_function("document.querySelector('.done-count').textContent === '2'")
    assert len({f["key"] for f in phone.sent}) == 2
