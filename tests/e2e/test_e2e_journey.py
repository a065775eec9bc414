"""A therapist's day in a real browser, from first-run setup to signing out.

The journey runs on a server of its own (a first run needs an empty database). On every page it
passes, `audit` runs axe-core and takes screenshots at 1280 and 375 px; the tests after the
journey assert on what it saw.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from pypdf import PdfReader

from tests.e2e.browsing import (
    ADMIN_NAME,
    AXE_MISSING,
    CLINIC,
    NARROW,
    WIDE,
    PageAudit,
    Server,
    add_patient,
    complete_setup,
    start_plan,
    start_server,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

expect = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)"
).expect

GIVEN, FAMILY, PREFERRED, CHART = "Łucja", "Wiśniewska", "Lucy", "E2E-0001"

#: Every page the journey must pass through (and audit), in order.
JOURNEY_PAGES = (
    "setup",
    "patients",
    "patient-form",
    "patient-form-errors",
    "patient-record",
    "assessment-form",
    "assessment-form-errors",
    "new-plan",
    "plan-editor",
    "plan-page",
    "plan-issued",
    "log-form",
    "plan-with-chart",
    "print",
    "exercises",
    "admin-users",
    "clinic-settings",
    "error-404",
    "login",
)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of the journey's own, on an empty database."""
    running = start_server(tmp_path_factory.mktemp("journey-instance"))
    yield running
    running.stop(keep_as="journey")


def _flash(page: Page, text: str) -> None:
    expect(page.get_by_role("status")).to_contain_text(text)


def test_therapist_journey(
    first_run: Server, new_page: Callable[..., Page], audit: PageAudit
) -> None:
    page = new_page(first_run.url)

    # First run: every page leads to /setup.
    page.goto("/patients")
    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(page.get_by_role("heading", name="Welcome to FloorPlan")).to_be_visible()
    audit.check(page, "setup")
    complete_setup(page)
    _flash(page, f"{CLINIC} is set up")
    expect(page.get_by_role("link", name=ADMIN_NAME)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/users$"))  # setup leads to adding people
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", name="Patients", level=1)).to_be_visible()
    audit.check(page, "patients")

    # A patient; first with the given name missing: a message, the rest kept, nothing saved.
    add_patient(page, "", FAMILY, CHART, preferred=PREFERRED, submit=False)
    audit.check(page, "patient-form")
    page.get_by_role("button", name="Add patient").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check the fields marked below.")
    given = page.get_by_label("Given name")
    expect(given).to_have_attribute("aria-invalid", "true")
    expect(given).to_have_accessible_description(re.compile("required", re.I))
    expect(given).to_be_focused()  # the page starts at the field to fix
    expect(page.get_by_label("Family name")).to_have_value(FAMILY)
    expect(page.get_by_role("checkbox", name="Stress urinary incontinence")).to_be_checked()
    audit.check(page, "patient-form-errors")
    given.fill(GIVEN)
    page.get_by_role("button", name="Add patient").click()
    _flash(page, "was added. Next, record an assessment.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(FAMILY)
    patient_url = page.url
    audit.check(page, "patient-record")

    # An assessment; first with an Oxford grade of 9.
    page.get_by_role("link", name="New assessment").click()
    audit.check(page, "assessment-form")
    page.get_by_label("Modified Oxford grade").fill("9")
    page.get_by_label("Endurance (s)").fill("5")
    page.get_by_label("Repetitions").fill("8")
    page.get_by_label("Fast contractions").fill("6")
    page.get_by_label("Relaxation after a contraction").select_option(label="Full")
    page.get_by_label("Pain (0-10)").fill("1")
    page.get_by_label("Leaks a week").fill("4")
    page.get_by_label("Technique confirmed").check()
    page.get_by_role("button", name="Save assessment").click()
    grade = page.get_by_label("Modified Oxford grade")
    expect(grade).to_have_attribute("aria-invalid", "true")
    expect(grade).to_have_accessible_description(re.compile("from 0 to 5"))
    expect(grade).to_be_focused()
    expect(page.get_by_label("Endurance (s)")).to_have_value("5")
    audit.check(page, "assessment-form-errors")
    grade.fill("3")
    page.get_by_role("button", name="Save assessment").click()
    _flash(page, "Assessment saved.")
    expect(page.get_by_text("All assessments")).to_have_count(0)  # the grade 9 never saved

    # A plan from the Strengthening template.
    page.get_by_role("link", name="New plan").click()
    expect(page.get_by_text("Doses start from the assessment")).to_be_visible()
    audit.check(page, "new-plan")
    plan_id = start_plan(page, "Strengthening")
    _flash(page, "Draft created from the template")
    audit.check(page, "plan-editor")

    # Week 2: one more rep; week 4: a 12 s slow hold with 12 s rest (a ">10 s" warning).
    reps = page.get_by_label("Repetitions, week 2 row 1")
    old_reps = int(reps.input_value())
    reps.fill(str(old_reps + 1))
    expect(page.get_by_label("Exercise, week 4 row 1")).to_have_value("slow_hold")
    page.get_by_label("Hold seconds, week 4 row 1").fill("12")
    page.get_by_label("Rest seconds, week 4 row 1").fill("12")
    # started a week ago, so week 1's sheet can come back whole (days still to come are refused)
    page.get_by_label("Start date").fill((date.today() - timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Save the plan").click()
    _flash(page, "Plan saved.")
    expect(page).to_have_url(re.compile(rf"/plans/{plan_id}$"))
    grid = page.get_by_role("table")
    expect(grid).to_contain_text(f"{old_reps + 1} reps")
    expect(grid).to_contain_text("hold 12 s, rest 12 s")
    audit.check(page, "plan-page")

    # Issue, ticking every warning.
    warnings = page.get_by_role("group", name=re.compile("warnings? to consider"))
    boxes = warnings.get_by_role("checkbox")
    expect(boxes.first).to_be_visible()
    expect(warnings).to_contain_text("a 12 s hold is above the usual 10 s")
    for box in boxes.all():
        box.check()
    page.get_by_role("button", name="Issue the plan").click()
    _flash(page, "Plan issued.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Issued")
    expect(page.get_by_role("heading", name="Warnings acknowledged when issued")).to_be_visible()
    audit.check(page, "plan-issued")

    # The handout, fetched with the page's cookies.
    handout = page.get_by_role("link", name="Print the handout")
    expect(handout).to_have_attribute("href", f"/plans/{plan_id}/handout.pdf")
    response = page.request.get(f"/plans/{plan_id}/handout.pdf")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    body = response.body()
    assert body.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(body)).pages)
    assert PREFERRED in text
    assert FAMILY in text

    # A week's log from the returned sheet, then the adherence chart on the plan.
    page.get_by_role("link", name=re.compile(r"^Enter week 1")).click()
    expect(page).to_have_url(re.compile(rf"/plans/{plan_id}/weeks/1/log$"))
    audit.check(page, "log-form")
    sessions = page.get_by_label(re.compile(r"^Sessions done, "))
    expect(sessions).to_have_count(7)
    for day, done in enumerate([3, 3, 2, 3, 1, 0, 3]):
        sessions.nth(day).fill(str(done))
    page.get_by_role("button", name=re.compile(r"^Save")).click()
    _flash(page, "Week 1 log saved (7 days changed).")
    expect(page).to_have_url(re.compile(rf"/plans/{plan_id}(#progress)?$"))
    expect(page.get_by_role("cell", name="15 of 21 (71%)")).to_be_visible()
    chart = page.locator("figure#adherence-chart")
    expect(chart).to_be_visible()
    image = chart.locator("svg[role=img]")
    expect(image).to_be_visible()
    expect(image).to_have_accessible_name(re.compile(r"\w"))
    expect(chart).to_contain_text(re.compile(r"\w"))
    audit.check(page, "plan-with-chart")

    # The programme the plan is block 1 of, from the record, and the clinic's outcomes.
    page.goto(patient_url)
    expect(page.get_by_text("Block 1: weeks 1 to 4")).to_be_visible()
    audit.check(page, "patient-record-with-programme")
    page.get_by_role("link", name=re.compile(r"^Programme started")).click()
    expect(page.get_by_role("heading", name="Plan the next block")).to_be_visible()
    audit.check(page, "programme")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("row", name=re.compile("Programmes started"))).to_be_visible()
    audit.check(page, "outcomes")

    # The other pages a therapist and an administrator use.
    main_nav = page.get_by_role("navigation", name="Main")
    main_nav.get_by_role("link", name="Print").click()
    expect(page.get_by_role("row", name=re.compile(FAMILY))).to_be_visible()
    audit.check(page, "print")
    main_nav.get_by_role("link", name="Exercises").click()
    expect(page.get_by_text("Slow hold", exact=True)).to_be_visible()
    audit.check(page, "exercises")
    main_nav.get_by_role("link", name="Clinic").click()
    expect(page.get_by_role("cell", name=ADMIN_NAME)).to_be_visible()
    audit.check(page, "admin-users")
    page.get_by_role("link", name="Clinic settings").click()
    expect(page.get_by_label("Clinic name")).to_have_value(CLINIC)
    audit.check(page, "clinic-settings")
    missing = page.goto("/patients/999999")
    assert missing is not None and missing.status == 404
    expect(page.get_by_text("Error 404")).to_be_visible()
    audit.check(page, "error-404")

    # The patient is listed once (the refused form created nothing); sign out from the record,
    # and Back shows no patient data.
    main_nav.get_by_role("link", name="Patients").click()
    expect(page.get_by_text("1 patient", exact=False)).to_be_visible()
    page.get_by_role("link", name=f"{FAMILY}, {GIVEN}").click()
    expect(page).to_have_url(patient_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text(FAMILY)
    page.get_by_role("button", name="Sign out").click()
    _flash(page, "You are signed out.")
    audit.check(page, "login")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text(FAMILY)).to_have_count(0)
    expect(page.get_by_text(CHART)).to_have_count(0)
    assert first_run.tracebacks() == ""


def test_journey_pages_have_no_serious_axe_violations(audit: PageAudit) -> None:
    if audit.axe_source is None:
        pytest.skip(AXE_MISSING)
    missed = [name for name in JOURNEY_PAGES if name not in audit.overflow]
    assert not missed, f"the journey did not reach: {missed}"
    assert audit.serious() == {}


def test_journey_pages_fit_a_375px_screen(audit: PageAudit) -> None:
    assert audit.overflow, "the journey audited no page"
    # document width vs window width at 375 px; the editor's tables scroll in .table-wrap.
    assert audit.scrolls_sideways() == {}, f"pages wider than {NARROW} px"


def test_screenshots_were_written(audit: PageAudit) -> None:
    # Other journeys write to the same folder: look for this one's own two shots of each page.
    assert audit.overflow
    missing = [
        f"{name}-{width}.png"
        for name in audit.overflow
        for width in (WIDE, NARROW)
        if not (audit.shots / f"{name}-{width}.png").is_file()
    ]
    assert missing == []
