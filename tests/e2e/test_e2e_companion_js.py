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
        self.hold = False
        self.held: list = []
        page.route(f"{ORIGIN}/**", self._serve)

    def _serve(self, route) -> None:
        request = route.request
        if request.method == "GET":
            route.fulfill(status=200, content_type="text/html",
                          body=PAGE.replace("SCRIPT", SCRIPT))  # fmt: skip
            return
        form = {k: v[0] for k, v in parse_qs(request.post_data or "").items()}
        self.sent.append(form)
        if self.hold:
            self.held.append((route, form))
            return
        self.reply(route, form)

    def reply(self, route, form: dict[str, str]) -> None:
        if self.delay:
            time.sleep(self.delay)
        status, body = self.answer(form)
        if isinstance(body, dict):
            route.fulfill(status=status, content_type="application/json", body=json.dumps(body))
        else:
            route.fulfill(status=status, content_type="text/html", body=body)

    def status(self) -> str:
        return self.page.locator(".queued").inner_text()

    def tap(self) -> None:
        self.page.locator(".tap-form button").click()
        self.page.wait_for_function("!document.querySelector('.tap-form button').disabled")

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


def test_a_tap_the_server_refuses_is_not_called_logged(phone: Phone) -> None:
    phone.answer = lambda form: (400, {"ok": False, "error": "day"})
    phone.open()
    phone.tap()
    assert phone.status() == "That session could not be logged. Please open your link again."
    assert phone.page.locator(".done-count").inner_text() == "0" and phone.queue() == []
    # a redirect followed to an HTML page is not an answer either (and does not jam the queue)
    phone.answer = lambda form: (200, "<!doctype html><title>today</title>")
    phone.tap()
    assert "could not be logged" in phone.status() and phone.queue() == []


def test_a_tap_sent_when_the_server_is_busy_waits_on_the_phone(phone: Phone) -> None:
    phone.answer = lambda form: (429, "<!doctype html><title>busy</title>")
    phone.open()
    phone.tap()
    assert "Session logged" not in phone.status()
    assert len(phone.queue()) == 1
    phone.answer = lambda form: (200, {"ok": True, "counted": True, "full": False})
    phone.page.evaluate("window.dispatchEvent(new Event('online'))")
    phone.page.wait_for_function("localStorage.getItem('companion-queue') === '[]'")
    assert len(phone.sent) == 2 and phone.sent[0]["key"] == phone.sent[1]["key"]


def test_a_tap_carries_the_day_it_was_made(phone: Phone) -> None:
    phone.open()
    phone.tap()
    today = phone.page.evaluate(
        "(() => { const d = new Date(); return [d.getFullYear(), d.getMonth() + 1, d.getDate()]"
        ".map((n) => String(n).padStart(2, '0')).join('-'); })()"
    )
    assert phone.sent[0]["on"] == today


def test_sending_the_queue_takes_off_only_what_was_sent(phone: Phone) -> None:
    phone.open()
    first = {"url": f"{ORIGIN}/p/KEY/tap", "body": "form_key=fk&key=first&on=2026-12-01"}
    other = {"url": f"{ORIGIN}/p/KEY/tap", "body": "form_key=fk&key=other&on=2026-12-01"}
    phone.hold = True
    phone.page.evaluate(
        "(item) => { localStorage.setItem('companion-queue', JSON.stringify([item]));"
        " window.dispatchEvent(new Event('online')); }",
        first,
    )
    phone.page.wait_for_function("true")
    deadline = time.monotonic() + 5
    while not phone.held and time.monotonic() < deadline:
        phone.page.wait_for_timeout(50)
    # meanwhile another tab sent `first` and queued a tap of its own
    phone.page.evaluate(
        "(item) => localStorage.setItem('companion-queue', JSON.stringify([item]))", other
    )
    phone.hold = False
    route, form = phone.held.pop()
    phone.reply(route, form)
    phone.page.wait_for_function("localStorage.getItem('companion-queue') === '[]'")
    assert [f["key"] for f in phone.sent] == ["first", "other"]


WORKER = (Path(__file__).resolve().parents[2] / "prescriptions/static/companion-sw.js").read_text()
#: runs the worker's fetch handler in a page (self is the window; Cache Storage is the real
#: one; the network is a stand-in that answers each path with its text, or fails when offline)
DRIVE = """async ([source, steps]) => {
  window.__net = { offline: false, status: {} };
  window.fetch = async (request) => {
    if (window.__net.offline) throw new TypeError("offline");
    const path = new URL(request.url).pathname + new URL(request.url).search;
    return new Response("page " + path, { status: window.__net.status[path] || 200 });
  };
  if (!window.__worker) { (new Function(source))(); window.__worker = true; }
  const out = [];
  for (const [what, arg] of steps) {
    if (what === "offline") { window.__net.offline = arg; continue; }
    if (what === "status") { window.__net.status[arg[0]] = arg[1]; continue; }
    const event = new Event("fetch");
    let answer = null;
    event.request = new Request(location.origin + arg);
    event.respondWith = (p) => { answer = p; };
    window.dispatchEvent(event);
    try { const r = await answer; out.push(r.type === "error" ? "error" : await r.text()); }
    catch (e) { out.push("error"); }
    await new Promise((r) => setTimeout(r, 50));  // let the copy reach the cache
  }
  return out;
}"""


def test_the_worker_keeps_only_todays_page_and_never_shows_another_days(browser) -> None:
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.route(
        "https://phone.test/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>t</p>"),
    )
    page.goto("https://phone.test/p/KEY")
    steps = [
        ["get", "/p/KEY"], ["get", "/p/KEY/day?on=2026-11-30"], ["get", "/p/KEY/week"],
        ["offline", True],
        ["get", "/p/KEY?done=1"], ["get", "/p/KEY/day?on=2026-11-29"], ["get", "/p/KEY/week"],
    ]  # fmt: skip
    got = page.evaluate(DRIVE, [WORKER, steps])
    assert got[:3] == ["page /p/KEY", "page /p/KEY/day?on=2026-11-30", "page /p/KEY/week"]
    assert got[3:] == ["page /p/KEY", "error", "error"]  # today's page only, never another day
    # a link that answers "not found" clears what was kept
    steps = [["offline", False], ["status", ["/p/KEY", 404]], ["get", "/p/KEY"],
             ["offline", True], ["get", "/p/KEY"]]  # fmt: skip
    assert page.evaluate(DRIVE, [WORKER, steps]) == ["page /p/KEY", "error"]
    context.close()
