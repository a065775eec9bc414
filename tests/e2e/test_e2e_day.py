"""A therapist's day without friction (issue 13), in a real browser at 1366 px and 390 px.

Each page is checked with axe-core at both widths, must not scroll sideways at 390 px, and is
kept as a screenshot (artifacts/screenshots/day-*.png).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from tests.e2e.browsing import (
    DESKTOP,
    PHONE,
    Server,
    add_patient,
    issue_plan,
    look_at_both_widths,
    sign_in,
    start_plan,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

expect = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)"
).expect


def _look(page: Page, name: str) -> None:
    look_at_both_widths(page, f"day-{name}")


def _not_clipped(page: Page, button_name: str) -> None:
    """A button is wholly inside its scrolling table box, with nothing hidden to scroll to."""
    button = page.get_by_role("button", name=button_name).first
    box = button.evaluate(
        """b => { const w = b.closest('.table-wrap'); const r = b.getBoundingClientRect();
                  const o = w.getBoundingClientRect();
                  return [r.right, o.right, w.scrollWidth, w.clientWidth]; }"""
    )
    right, outer, scroll, client = box
    assert right <= outer and scroll <= client + 1, box


def test_a_therapists_day(clinic: Server, new_page: Callable[..., Page]) -> None:
    page = new_page(clinic.url, DESKTOP)
    sign_in(page)
    expect(page).to_have_url(re.compile(r"/$"))  # the start page, not the patient list

    # People: a colleague to deactivate; the button fits at 1366 px.
    page.goto("/admin/users")
    page.get_by_label("Name").fill("Priya Shah")
    page.get_by_label("Email").fill("priya@harbour.test")
    page.get_by_label("Password", exact=True).fill("quiet lantern meadow 31")
    page.get_by_label("Repeat the password").fill("quiet lantern meadow 31")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("cell", name="Priya Shah")).to_be_visible()
    _not_clipped(page, "Deactivate")
    _look(page, "people")

    # A pregnant patient with two assessments, one amended.
    add_patient(page, "Ngozi", "Okafor", "RPH-1001")
    page.get_by_role("link", name="Edit details").click()
    page.get_by_role("checkbox", name="Pregnant").check()
    page.get_by_role("button", name=re.compile("^Save")).click()
    for day, pads, leaks in (("2026-10-01", "3", "14"), ("2026-11-02", "7", "6")):
        page.get_by_role("link", name="New assessment").click()
        page.get_by_label("Date").fill(day)
        page.get_by_label("Modified Oxford grade").fill("3")
        page.get_by_label("Endurance (s)").fill("5")
        page.get_by_label("Pads a day").fill(pads)
        page.get_by_label("Leaks a week").fill(leaks)
        page.get_by_label("ICIQ-UI SF total").fill("11")
        page.get_by_role("button", name="Save assessment").click()
    page.get_by_label("Leaks a week").first  # noqa: B018 - the record is shown
    table = page.locator("table.assessments")
    expect(table).to_contain_text("Pads a day")
    page.get_by_role("link", name=re.compile("^Amend the assessment of 2026-11-02")).click()
    page.get_by_label("Pads a day").fill("1")
    page.get_by_label("Why it is amended").fill("Typed 7 for 1 pad a day")
    _look(page, "amend-form")
    page.get_by_role("button", name="Save the amendment").click()
    expect(page.get_by_text("Amended assessments (1)")).to_be_visible()
    _look(page, "record")

    # A plan starting a week ago: the pregnancy warning sits near the top, linked to the cell.
    page.get_by_role("link", name="New plan").click()
    plan_id = start_plan(page, "Strengthening")
    page.get_by_label("Start date").fill((date.today() - timedelta(days=7)).isoformat())
    page.get_by_label("Position, week 1 row 1").select_option("lying")
    _look(page, "editor")
    page.get_by_role("button", name="Save the plan").click()
    checks = page.locator("#issue")
    expect(checks).to_contain_text("lying on the back")
    assert "[" not in checks.inner_text()  # no rule codes
    _look(page, "findings")
    checks.get_by_role("link", name=re.compile("^Change it")).first.click()
    expect(page).to_have_url(re.compile(rf"/plans/{plan_id}/edit#items-\d+-position$"))
    page.goto(f"/plans/{plan_id}")
    issue_plan(page)

    # A week's log, on a phone: cards, one day each; a day still to come is refused.
    page.set_viewport_size({"width": PHONE, "height": 900})
    page.get_by_role("link", name=re.compile(r"^Enter week 1")).click()
    sessions = page.get_by_label(re.compile(r"^Sessions done, "))
    for n in range(7):
        sessions.nth(n).fill("2")
    page.get_by_label(re.compile(r"^Longest hold in seconds, ")).first.fill("99")
    _look(page, "log-form")
    page.get_by_role("button", name=re.compile(r"^Save")).click()
    expect(page.locator("#log-flags")).to_contain_text("99 s longest hold")
    _look(page, "plan-with-logs")

    # Revise, issue: the logs follow; the old revision is read-only and points to the new.
    page.get_by_role("button", name="Revise").click()
    page.get_by_role("button", name="Save the plan").click()
    issue_plan(page)
    expect(page.locator("#progress")).to_contain_text("of 21")
    page.goto(f"/plans/{plan_id}")
    expect(page.get_by_text("This revision is read-only.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Enter week"))).to_have_count(0)
    _look(page, "superseded")

    # Two tabs on the patient: the second keeps its typing and shows what the first saved.
    page.get_by_role("link", name="Ngozi Okafor").first.click()
    expect(page).to_have_url(re.compile(r"/patients/\d+$"))  # the click's page, not the last
    record = page.url
    other = page.context.new_page()
    other.goto(record + "/edit")
    page.goto(record + "/edit")
    page.get_by_label("Phone").fill("0100 000")
    page.get_by_role("button", name=re.compile("^Save")).click()
    other.get_by_label("Notes").fill("Prefers mornings")
    other.get_by_role("button", name=re.compile("^Save")).click()
    expect(other.get_by_role("alert").first).to_contain_text("You saved this in another tab")
    expect(other.get_by_label("Notes")).to_have_value("Prefers mornings")
    expect(other.get_by_label("Phone")).to_have_value("0100 000")  # the first tab's change stays
    _look(other, "conflict")
    other.get_by_role("button", name=re.compile("^Save")).click()
    expect(other.get_by_text("Patient details saved.")).to_be_visible()

    # The audit page names what happened to whom.
    page.goto("/admin/audit")
    expect(page.get_by_role("link", name="Ngozi Okafor (RPH-1001)").first).to_be_visible()
    _look(page, "audit")
    assert clinic.tracebacks() == ""
