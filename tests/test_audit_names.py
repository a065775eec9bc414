"""The audit page names records and people, and links to them, within the clinic only."""

from __future__ import annotations

import re

from prescriptions.audit import Actor, record_event
from prescriptions.extensions import db
from prescriptions.models import Patient
from tests.factories import NEW_PATIENT as NEW
from tests.factories import new_plan


def test_the_audit_page_shows_names_and_links(
    app, signed_in, admin_client, clinician, make_patient, make_assessment
):
    data = {**NEW, "given_name": "Ngozi", "family_name": "Okafor", "chart_number": "RPH-7"}
    response = signed_in.post("/patients/new", data=data)
    pid = int(response.location.rsplit("/", 1)[1])
    aid = make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid)
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert re.search(rf'<a href="/patients/{pid}">Ngozi Okafor \(RPH-7\)</a>', page)
    assert re.search(
        rf'<a href="/plans/{plan_id}">Strengthening[^<]*revision 1, for Ngozi Okafor</a>', page
    )
    assert re.search(
        rf'<a href="/patients/{pid}#assessments">Assessment of 2026-11-02, Ngozi', page
    )
    assert not re.search(r"<td>(patient|plan|assessment) \d+</td>", page)
    assert clinician.name in page  # who, by name
    assert aid


def test_another_clinics_record_is_never_named(app, admin_client, clinician, other_clinic):
    with app.app_context():
        foreign = db.session.get(Patient, other_clinic["patient"])
        # an event of this clinic that (wrongly) points at another clinic's patient
        from prescriptions.models import User

        me = db.session.scalar(db.select(User).where(User.clinic_id == clinician.clinic_id))
        record_event(Actor(me), "patient.view", foreign)
        db.session.commit()
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "Secret" not in page and "Foreigner" not in page
    assert f"patient {other_clinic['patient']}" in page


def test_a_page_number_past_any_integer_shows_the_last_page(admin_client):
    """/admin/audit?page=<huge>: an OFFSET that overflowed SQLite's integers was a 500 (found by
    the audit filter fuzz); it is the last page, like any page past the end."""
    answer = admin_client.get("/admin/audit?page=184467440737095518")
    assert answer.status_code == 200
    assert answer.get_data(as_text=True).count("<tr") > 1  # the last page's events, not none
