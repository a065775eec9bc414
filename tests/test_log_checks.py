"""Logs refuse days still to come, flag implausible values, and chart leaks per logged day."""

from __future__ import annotations

import re
from datetime import date, timedelta

from prescriptions.domain.adherence import DayLog, implausible, summarise
from prescriptions.extensions import db
from prescriptions.models import LogEntry, Plan
from tests.factories import LOGGED_START, count, issue, new_plan, whole_week


def _issued(signed_in, clinician, make_patient, make_assessment, start):
    pid = make_patient(clinician.clinic_id)
    make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid, start=start)
    issue(signed_in, plan_id)
    return plan_id


def test_a_day_still_to_come_is_refused(app, signed_in, clinician, make_patient, make_assessment):
    today = date.today()
    plan_id = _issued(signed_in, clinician, make_patient, make_assessment, today.isoformat())
    data = whole_week({"days-0-sessions_done": "1", "days-1-sessions_done": "2"})
    response = signed_in.post(f"/plans/{plan_id}/weeks/1/log", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This day is still to come" in page
    assert re.search(r'name="days-1-sessions_done" type="text" value="2"', page)
    assert count(LogEntry, app) == 0
    form = signed_in.get(f"/plans/{plan_id}/weeks/1/log").get_data(as_text=True)
    assert form.count("still to come") == 6  # every day after today is marked


def test_implausible_values_are_kept_and_flagged(
    app, signed_in, clinician, make_patient, make_assessment
):
    plan_id = _issued(signed_in, clinician, make_patient, make_assessment, LOGGED_START)
    data = whole_week(
        {
            "days-0-sessions_done": "1",
            "days-0-longest_hold_s": "99",
            "days-1-sessions_done": "1",
            "days-1-longest_hold_s": "5",
            "days-2-sessions_done": "1",
            "days-2-leaks": "30",
        }
    )
    assert signed_in.post(f"/plans/{plan_id}/weeks/1/log", data=data).status_code == 302
    with app.app_context():
        holds = sorted(e.longest_hold_s or 0 for e in db.session.scalars(db.select(LogEntry)))
        start = db.session.get(Plan, plan_id).start_date
    assert holds == [0, 5, 99]  # kept as logged
    page = signed_in.get(f"/plans/{plan_id}").get_data(as_text=True)
    flags = page[page.index('id="log-flags"') :][:800]
    assert "To check with the patient" in flags
    assert f"{start.strftime('%a %d %b')}: a 99 s longest hold is more than 60 s" in flags
    assert "30 leaks in one day" in flags
    assert (start + timedelta(days=1)).strftime("%a %d %b") not in flags


def test_the_leaks_chart_compares_weeks_per_logged_day(
    app, signed_in, clinician, make_patient, make_assessment
):
    plan_id = _issued(signed_in, clinician, make_patient, make_assessment, LOGGED_START)
    week1 = {f"days-{n}-sessions_done": "1" for n in range(6)} | {
        f"days-{n}-leaks": "2" for n in range(6)
    }  # 12 leaks over 6 days: 14 a week
    week2 = {f"days-{n}-sessions_done": "1" for n in range(7)} | {
        f"days-{n}-leaks": "2" for n in range(7)
    }  # 14 over 7 days: 14 a week
    assert (
        signed_in.post(f"/plans/{plan_id}/weeks/1/log", data=whole_week(week1)).status_code == 302
    )
    assert (
        signed_in.post(f"/plans/{plan_id}/weeks/2/log", data=whole_week(week2)).status_code == 302
    )
    page = signed_in.get(f"/plans/{plan_id}").get_data(as_text=True)
    chart = page[page.index('id="leaks-chart"') :]
    assert "mean per logged day × 7" in chart
    assert "Week 1: 14; Week 2: 14" in chart  # not 12 against 14
    assert "12 over 6 days · 14 a week" in page


def test_domain_leaks_per_week_and_flags_on_both_sides():
    start = date(2026, 11, 2)
    logs = [DayLog(start + timedelta(days=n), 1, 1, leaks=1) for n in range(3)]
    (week1, *_rest) = summarise(start, logs)
    assert (week1.leaks, week1.leak_days, week1.leaks_per_week) == (3, 3, 7.0)
    day = start
    assert implausible(DayLog(day, 1, 1, longest_hold_s=60), None) == ()
    assert implausible(DayLog(day, 1, 1, longest_hold_s=61), None)
    assert implausible(DayLog(day, 1, 1, longest_hold_s=15), 5) == ()
    assert implausible(DayLog(day, 1, 1, longest_hold_s=16), 5)
    assert implausible(DayLog(day, 1, 1, leaks=20), None) == ()
    assert implausible(DayLog(day, 1, 1, leaks=21), None)
