"""The four-week editor in a real browser: keyboard alone, and a bad dose refused beside its cell."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tests.e2e.browsing import Server, add_patient, sign_in, start_plan

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

expect = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)"
).expect

MAX_TABS = 120


def _draft(page: Page, family: str, chart: str) -> int:
    """Sign in, add a patient and open a Strengthening draft in the editor."""
    sign_in(page)
    add_patient(page, "Maria", family, chart)
    page.get_by_role("link", name="New plan").click()
    return start_plan(page, "Strengthening")


def _week_cell(page: Page, exercise: str, week: int) -> Locator:
    """The plan page's dose cell for an exercise in a week."""
    row = page.get_by_role("row", name=re.compile(f"^{re.escape(exercise)}"))
    return row.get_by_role("cell").nth(week - 1)


def test_editor_works_with_the_keyboard_alone(
    clinic: Server, new_page: Callable[..., Page]
) -> None:
    page = new_page(clinic.url)
    plan_id = _draft(page, "Keys", "KB-0001")
    target = page.get_by_label("Repetitions, week 2 row 1")
    new_reps = int(target.input_value()) + 2

    page.goto(f"/plans/{plan_id}/edit")  # focus starts at the top of a fresh page
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label')") == (
            "Repetitions, week 2 row 1"
        ):
            break
    else:
        pytest.fail(f"{MAX_TABS} presses of Tab never reached the week 2 repetitions")
    expect(target).to_be_focused()
    # The focus ring is visible, not just present.
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"

    page.keyboard.press("Control+A")
    page.keyboard.type(str(new_reps))
    page.keyboard.press("Enter")  # the editor's hidden first submit button saves
    expect(page.get_by_role("status")).to_contain_text("Plan saved.")
    expect(page).to_have_url(re.compile(rf"/plans/{plan_id}$"))
    expect(_week_cell(page, "Slow hold", 2)).to_contain_text(f"{new_reps} reps")
    assert clinic.tracebacks() == ""


def test_editor_refuses_a_bad_dose_beside_the_cell(
    clinic: Server, new_page: Callable[..., Page]
) -> None:
    page = new_page(clinic.url)
    plan_id = _draft(page, "Typo", "KB-0002")
    reps = page.get_by_label("Repetitions, week 3 row 1")
    before = reps.input_value()
    page.get_by_label("Notes to the patient").fill("Keep going, you are doing well.")
    reps.fill("0")
    page.get_by_role("button", name="Save the plan").click()

    expect(page.get_by_role("alert")).to_be_visible()
    expect(reps).to_have_attribute("aria-invalid", "true")
    expect(reps).to_have_accessible_description(re.compile(r"\d+ to \d+"))
    expect(reps).to_be_focused()  # the page starts at the field to fix
    expect(page.get_by_label("Notes to the patient")).to_have_value(
        "Keep going, you are doing well."
    )

    page.get_by_role("link", name="Back without saving").click()
    expect(page).to_have_url(re.compile(rf"/plans/{plan_id}$"))
    expect(_week_cell(page, "Slow hold", 3)).to_contain_text(f"{before} reps")
    expect(page.get_by_text("Keep going, you are doing well.")).to_have_count(0)
    assert clinic.tracebacks() == ""
