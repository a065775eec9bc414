"""The patient's companion in a real browser on a 390 px phone (issue 16): open the link, run a
guided session, log it, go offline, log another, come back online, and see both, once, in the
therapist's view; axe-core finds nothing serious on any patient page."""

from __future__ import annotations

import re

from tests.e2e.browsing import (
    PageAudit,
    Server,
    add_patient,
    issue_plan,
    sign_in,
    start_plan,
    start_server,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the e2e conftest skips these tests then
    expect = None

PHONE = 390


def _issue(page, plan_id: int) -> None:
    page.goto(f"/plans/{plan_id}")
    issue_plan(page)


def _linked_patient(staff, given: str, family: str, chart: str, preferred: str) -> int:
    """A new patient on an issued plan with a phone link just made; the plan's id. The staff
    page is left on the link's page."""
    add_patient(staff, given, family, chart, preferred=preferred)
    staff.get_by_role("link", name="New plan").click()
    plan_id = start_plan(staff, "Strengthening")
    _issue(staff, plan_id)
    staff.get_by_role("link", name=re.compile("^Make one")).click()
    staff.get_by_role("button", name="Make a phone link").click()
    return plan_id


def test_a_phone_logs_online_and_offline_and_the_therapist_sees_both_once(
    clinic: Server, new_page, audit: PageAudit
) -> None:
    staff = new_page(clinic.url, 1366)
    sign_in(staff)
    plan_id = _linked_patient(staff, "Imogen", "Farthing", "E2E-C16", "Immy")
    audit.check(staff, "companion-manage")
    path = staff.locator("code.wrap").inner_text()
    assert path.startswith("/p/")
    # With FLOORPLAN_PUBLIC_URL set the page shows the whole link, which must wrap on a phone
    # rather than widen the page. This server runs without it, so the link is put in as it
    # would be shown.
    staff.set_viewport_size({"width": PHONE, "height": 900})
    staff.locator("code.wrap").evaluate(
        "(el, link) => { el.textContent = link; }",
        "https://pelvic-health.riverside-clinic.example/floorplan" + path,
    )
    scroll, inner = staff.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert scroll <= inner + 1, (scroll, inner)
    staff.set_viewport_size({"width": 1366, "height": 900})
    code = staff.locator("dd code").first.inner_text()

    phone = new_page(clinic.url, PHONE)
    context = phone.context
    phone.goto("/p")
    audit.check(phone, "companion-enter")
    phone.get_by_label("Type the code printed on your handout").fill(code.lower())
    phone.get_by_role("button", name="Open my plan").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Hello Immy")
    phone.goto(path)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Hello Immy")
    audit.check(phone, "companion-today")
    assert "Farthing" not in phone.content() and "E2E-C16" not in phone.content()

    # A guided session: the timer counts the first squeeze.
    phone.get_by_role("link", name="Start with a guide").first.click()
    audit.check(phone, "companion-guide")
    phone.get_by_role("button", name="Start").click()
    expect(phone.locator(".rep-now")).to_have_text("1")
    expect(phone.locator(".cue")).to_contain_text("Squeeze gently")
    assert "hold your breath" not in phone.content().lower()

    # One tap logs a session, in the background.
    phone.goto(path)
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.reload()  # now the service worker looks after the page
    phone.get_by_role("button", name="I did a session").click()
    expect(phone.locator(".queued")).to_have_text("Session logged. Thank you.")
    expect(phone.locator(".done-count")).to_have_text("1")

    # Offline: the day's page still opens, and the tap waits on the phone.
    context.set_offline(True)
    phone.reload()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Hello Immy")
    phone.get_by_role("button", name="I did a session").click()
    expect(phone.locator(".queued")).to_contain_text("to send when you are back online")
    context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.locator(".queued")).to_be_hidden()

    # The therapist sees both sessions, once each.
    staff.goto(f"/plans/{plan_id}/weeks/1/log")
    expect(staff.locator(".phone-entry").first).to_contain_text("From the phone: 2 sessions")

    for name, link in (("day", "My day"), ("week", "This week"), ("reminders", "More")):
        phone.get_by_role("navigation", name="Your plan").get_by_role("link", name=link).click()
        audit.check(phone, f"companion-{name}")
    phone.get_by_role("link", name="A copy of your plan to print").click()
    audit.check(phone, "companion-print")
    phone.goto("/p/" + "Z" * 32)
    audit.check(phone, "companion-missing")
    serious = {k: v for k, v in audit.serious().items() if k.startswith("companion-")}
    assert serious == {}
    sideways = {k: v for k, v in audit.scrolls_sideways().items() if k.startswith("companion-")}
    assert sideways == {}


def test_under_a_path_prefix_the_phone_page_still_opens_offline(clinic: Server, new_page) -> None:
    """The site served under /floorplan (SCRIPT_NAME, by gunicorn, on the same clinic): the
    service worker takes the folder it is served from, /floorplan/p/, and keeps today's page
    there. It had asked for /p/ as its scope, which a worker under /floorplan/p/ is refused, so
    the page did not open offline."""
    staff = new_page(clinic.url, 1366)
    sign_in(staff)
    _linked_patient(staff, "Oskar", "Lindqvist", "E2E-C17", "Oskar")
    path = staff.locator("code.wrap").inner_text()
    prefixed = start_server(clinic.instance, secret_key=clinic.secret_key, prefix="/floorplan")
    try:
        phone = new_page(prefixed.url, PHONE)
        phone.goto(prefixed.url + path)
        expect(phone.get_by_role("heading", level=1)).to_have_text("Hello Oskar")
        # registered (a refused scope leaves none), then in charge of the page once reloaded
        scope = "async () => (await navigator.serviceWorker.getRegistration())?.scope ?? null"
        phone.wait_for_function(scope, timeout=10_000)
        assert phone.evaluate(scope) == prefixed.url + "/p/"
        phone.reload()
        phone.wait_for_function("() => navigator.serviceWorker.controller", timeout=10_000)
        phone.reload()  # through the worker, which keeps today's page
        kept = "async () => !!(await caches.match(location.href))"
        phone.wait_for_function(kept, timeout=10_000)
        phone.context.set_offline(True)
        phone.reload()
        expect(phone.get_by_role("heading", level=1)).to_have_text("Hello Oskar")
        phone.context.set_offline(False)
        assert prefixed.tracebacks() == ""
    finally:
        prefixed.stop(keep_as="prefixed")
