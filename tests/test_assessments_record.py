"""Assessments on the record (every field, newest first, change since previous) and amendments."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from prescriptions.extensions import db
from prescriptions.models import Assessment, AuditEvent
from tests.factories import count, login


def test_every_field_is_on_the_record_newest_first_with_the_change(
    app, signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id)
    make_assessment(pid, clinician.id, assessed_on=date(2026, 10, 1), iciq_total=12,
                    pads_per_day=3, oxford_grade=2, notes="First visit")  # fmt: skip
    make_assessment(pid, clinician.id, assessed_on=date(2026, 11, 1), iciq_total=9,
                    pads_per_day=1, oxford_grade=3, notes="Much drier")  # fmt: skip
    page = signed_in.get(f"/patients/{pid}").get_data(as_text=True)
    table = page[page.index('class="table assessments"') :]
    assert table.index("2026-11-01") < table.index("2026-10-01")
    assert "ICIQ-UI SF total" in table and "Pads a day" in table
    assert "Much drier" in table and "First visit" in table
    iciq = re.search(r"ICIQ-UI SF total</th>(.*?)</tr>", table, re.S).group(1)
    assert re.search(r"9 <span class=\"delta\">-3", iciq)
    pads = re.search(r"Pads a day</th>(.*?)</tr>", table, re.S).group(1)
    assert re.search(r"1 <span class=\"delta\">-2", pads)


def test_a_single_assessment_shows_its_pads_iciq_and_notes(
    signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id)
    make_assessment(pid, clinician.id, iciq_total=14, pads_per_day=4, notes="Runs daily")
    page = signed_in.get(f"/patients/{pid}").get_data(as_text=True)
    assert 'id="assessments"' in page and "Runs daily" in page
    assert re.search(r"ICIQ-UI SF total</th><td>14", page)


def test_the_author_amends_with_a_reason_and_the_old_values_stay(
    app, signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id)
    aid = make_assessment(pid, clinician.id, pads_per_day=7, notes="typo")
    url = f"/patients/{pid}/assessments/{aid}/amend"
    form = signed_in.get(url).get_data(as_text=True)
    assert re.search(r'name="pads_per_day"[^>]*value="7"', form)
    data = {"assessed_on": "2026-11-02", "oxford_grade": "3", "pads_per_day": "1",
            "iciq_total": "9", "notes": "fixed"}  # fmt: skip
    refused = signed_in.post(url, data=data)  # no reason
    assert refused.status_code == 400 and "This field is required." in refused.get_data(True)
    assert count(Assessment, app) == 1
    response = signed_in.post(url, data={**data, "reason": "Typed 7 for 1 pad a day"})
    assert response.status_code == 302
    with app.app_context():
        old = db.session.get(Assessment, aid)
        new = db.session.scalar(sa.select(Assessment).where(Assessment.amends_id == aid))
        assert (old.pads_per_day, old.notes, old.void_reason) == (
            7,
            "typo",
            "Typed 7 for 1 pad a day",
        )
        assert old.voided_at is not None and old.voided_by_id == clinician.id
        assert (new.pads_per_day, new.notes, new.clinician_id) == (1, "fixed", clinician.id)
        events = db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action.in_(["assessment.void", "assessment.amend"])
            )
        ).all()
        assert {e.action for e in events} == {"assessment.void", "assessment.amend"}
        assert all(
            "Typed 7 for 1 pad a day" in e.detail and e.user_id == clinician.id for e in events
        )
    page = signed_in.get(f"/patients/{pid}").get_data(as_text=True)
    assert "Amended assessments (1)" in page and "Typed 7 for 1 pad a day" in page
    assert re.search(r"Pads a day</th><td>1", page)
    # a second submission of the same form amends nothing more
    again = signed_in.post(url, data={**data, "reason": "again"})
    assert again.status_code == 302 and count(Assessment, app) == 2


def test_only_the_author_or_an_admin_amends(
    app, signed_in, clinician, make_user, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id)
    other = make_user(clinician.clinic_id, name="Colleague")
    aid = make_assessment(pid, other)
    assert signed_in.get(f"/patients/{pid}/assessments/{aid}/amend").status_code == 403
    admin_id = make_user(clinician.clinic_id, role="admin")
    admin = app.test_client()
    with app.app_context():
        from prescriptions.models import User

        email = db.session.get(User, admin_id).email
    login(admin, email)
    assert admin.get(f"/patients/{pid}/assessments/{aid}/amend").status_code == 200


def test_another_clinics_assessment_cannot_be_amended(signed_in, other_clinic):
    url = f"/patients/{other_clinic['patient']}/assessments/{other_clinic['assessment']}/amend"
    assert signed_in.get(url).status_code == 404
    assert signed_in.post(url, data={"reason": "x"}).status_code == 404


def test_plans_start_from_the_amended_values(
    app, signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id)
    aid = make_assessment(pid, clinician.id, endurance_s=9)
    data = {"assessed_on": "2026-11-02", "endurance_s": "3", "reason": "Was 3 s, not 9"}
    assert signed_in.post(f"/patients/{pid}/assessments/{aid}/amend", data=data).status_code == 302
    page = signed_in.get(f"/patients/{pid}/plans/new").get_data(as_text=True)
    assert "endurance 3 s" in page
