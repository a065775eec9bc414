"""Returned logs, adherence on the plan page, the start page and the audit trail."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from prescriptions.extensions import db
from prescriptions.models import AuditEvent, LogEntry, Plan
from tests.factories import LOGGED_START, count, log_form, new_plan, prescribed, whole_week


@pytest.fixture
def issued_plan(signed_in, clinician, make_patient, make_assessment, make_plan, issue_plan):
    pid = make_patient(clinician.clinic_id, given_name="Rosa", family_name="Logger")
    make_assessment(pid, clinician.id)
    return issue_plan(make_plan(pid, start=LOGGED_START))  # a past month: every day loggable


def test_enter_a_partial_week(app, signed_in, issued_plan):
    per_day = prescribed(app, issued_plan, 1)
    data = {
        "days-0-sessions_done": str(per_day),
        "days-0-longest_hold_s": "5",
        "days-0-leaks": "1",
        "days-0-leak_trigger": "sneeze",
        "days-0-urgency": "2",
        "days-0-pain": "3",
        "days-0-note": "Felt good",
        "days-2-sessions_done": "1",
    }
    response = signed_in.post(f"/plans/{issued_plan}/weeks/1/log", data=whole_week(data))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        entries = db.session.scalars(sa.select(LogEntry).order_by(LogEntry.day)).all()
        start = db.session.get(Plan, issued_plan).start_date
    assert [e.day for e in entries] == [start, start + timedelta(days=2)]
    first = entries[0]
    assert (first.sessions_done, first.sessions_prescribed, first.leaks, first.urgency) == (
        per_day,
        per_day,
        1,
        2,
    )
    assert first.leak_trigger == "sneeze" and first.pain == 3
    page = signed_in.get(f"/plans/{issued_plan}").get_data(as_text=True)
    assert 'id="adherence-chart"' in page and 'role="img"' in page
    done = per_day + 1
    assert f"{done} of {2 * per_day}" in page  # week 1 over the two logged days
    assert count(AuditEvent, app, action="log.save") == 1


def test_log_values_are_checked_against_the_plan(app, signed_in, issued_plan):
    per_day = prescribed(app, issued_plan, 1)
    response = signed_in.post(
        f"/plans/{issued_plan}/weeks/1/log",
        data=whole_week(
            {
                "days-0-sessions_done": str(per_day + 1),
                "days-1-leaks": "2",  # a filled day without sessions
                "days-2-sessions_done": "1",
                "days-2-urgency": "7",
                "days-3-sessions_done": "1",
                "days-3-pain": "11",
                "days-4-note": "x" * 301,
            }
        ),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"At most {per_day} a day were prescribed this week." in page
    assert "How many sessions? 0 if none." in page
    assert "Not a valid choice" in page
    assert "0 to 10." in page
    assert count(LogEntry, app) == 0


def test_editing_a_log_keeps_one_row_per_day_and_guards_the_version(app, signed_in, issued_plan):
    assert (
        signed_in.post(
            f"/plans/{issued_plan}/weeks/2/log", data=whole_week({"days-0-sessions_done": "1"})
        ).status_code
        == 302
    )
    versions = log_form(signed_in, issued_plan, 2)
    assert versions["days-0-version"] == "1"
    stale = dict(versions)
    update = whole_week({**versions, "days-0-sessions_done": "2", "days-0-leaks": "1"})
    assert signed_in.post(f"/plans/{issued_plan}/weeks/2/log", data=update).status_code == 302
    # a second clerk who opened the form before that save
    conflict = signed_in.post(
        f"/plans/{issued_plan}/weeks/2/log", data=whole_week({**stale, "days-0-sessions_done": "0"})
    )
    assert conflict.status_code == 409
    # a twin who opened an empty form tries to create the same day
    twin = signed_in.post(
        f"/plans/{issued_plan}/weeks/2/log", data=whole_week({"days-0-sessions_done": "0"})
    )
    assert twin.status_code == 409
    with app.app_context():
        entries = db.session.scalars(sa.select(LogEntry)).all()
    assert len(entries) == 1 and (entries[0].sessions_done, entries[0].leaks) == (2, 1)


def test_an_incomplete_week_form_is_refused(app, signed_in, issued_plan):
    response = signed_in.post(
        f"/plans/{issued_plan}/weeks/1/log",
        data={"days-0-sessions_done": "1", "days-2-sessions_done": "1"},
    )
    assert response.status_code == 400
    assert "came back incomplete" in response.get_data(as_text=True)
    assert count(LogEntry, app) == 0


def test_drafts_have_no_log_and_bad_weeks_are_404(signed_in, clinician, make_patient, issued_plan):
    draft = new_plan(signed_in, make_patient(clinician.clinic_id), once="draft")
    assert signed_in.get(f"/plans/{draft}/weeks/1/log").status_code == 302
    assert signed_in.get(f"/plans/{issued_plan}/weeks/5/log").status_code == 404
    assert signed_in.get(f"/plans/{issued_plan}/weeks/0/log").status_code == 404


def test_another_clinics_log_is_a_404(app, signed_in, other_clinic):
    plan = other_clinic["plan"]  # issued, with a logged week
    assert signed_in.get(f"/plans/{plan}/weeks/1/log").status_code == 404
    assert signed_in.post(f"/plans/{plan}/weeks/1/log", data={}).status_code == 404


def test_start_page(
    app, signed_in, clinician, make_patient, issued_plan, make_plan, issue_plan, log_week
):
    today = date.today()
    draft = make_plan(make_patient(clinician.clinic_id, family_name="Drafty"))
    behind = make_patient(clinician.clinic_id, family_name="Behind")
    # week 4 began 3 days ago, so the plan ends in 3 days; its last 3 days have 1 session each
    behind_plan = issue_plan(make_plan(behind, start=today - timedelta(days=24)))
    log_week(behind_plan, 4, days={n: {"sessions_done": 1} for n in range(3)})
    per_day = prescribed(app, behind_plan, 4)
    page = signed_in.get("/").get_data(as_text=True)
    ending = page.split('id="ending"')[1].split("</section>")[0]
    assert "Behind" in ending and "Logger" not in ending
    drafts = page.split('id="drafts"')[1].split("</section>")[0]
    assert f"/plans/{draft}" in drafts and "Drafty" in drafts
    falling = page.split('id="behind"')[1].split("</section>")[0]
    assert f"3 of {3 * per_day} sessions ({round(100 / per_day)}%)" in falling
    assert "Behind" in falling and "Logger" not in falling


def test_audit_page_filters_and_is_for_admins(app, admin_client, signed_in, issued_plan):
    assert signed_in.get("/admin/audit").status_code == 403
    page = admin_client.get("/admin/audit?action=plan.").get_data(as_text=True)
    assert "plan.issue" in page and "auth.login" not in page
    page = admin_client.get("/admin/audit?action=auth.").get_data(as_text=True)
    assert "auth.login" in page
    assert admin_client.get("/admin/audit?action=evil").status_code == 400
    assert admin_client.get("/admin/audit?first=not-a-date").status_code == 400
    verified = admin_client.get("/admin/audit/verify", follow_redirects=True)
    assert "The audit trail is intact" in verified.get_data(as_text=True)


def test_audit_verify_finds_an_edited_and_a_removed_row(app, runner, issued_plan):
    assert runner.invoke(args=["audit-verify"]).exit_code == 0
    with app.app_context():
        # Each clinic has its own chain: tamper with the middle of the busiest one.
        clinic = db.session.scalar(
            sa.select(AuditEvent.clinic_id)
            .where(AuditEvent.clinic_id.is_not(None))
            .group_by(AuditEvent.clinic_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        )
        ids = db.session.scalars(
            sa.select(AuditEvent.id).where(AuditEvent.clinic_id == clinic).order_by(AuditEvent.id)
        ).all()
        db.session.execute(
            sa.update(AuditEvent).where(AuditEvent.id == ids[3]).values(detail="tampered")
        )
        db.session.commit()
    result = runner.invoke(args=["audit-verify"])
    assert (
        result.exit_code == 1 and f"event {ids[3]}" in result.output and "edited" in result.output
    )
    with app.app_context():
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == ids[3]))
        db.session.commit()
    result = runner.invoke(args=["audit-verify"])
    assert (
        result.exit_code == 1 and f"event {ids[4]}" in result.output and "removed" in result.output
    )
