"""Copy to another patient: search by name or chart number, as the patient list does."""

from __future__ import annotations

import re

from prescriptions.extensions import db
from prescriptions.models import Plan
from tests.factories import new_plan


def _plan(signed_in, clinician, make_patient, make_assessment):
    pid = make_patient(clinician.clinic_id, given_name="Hoa", family_name="Tran")
    make_assessment(pid, clinician.id)
    return new_plan(signed_in, pid)


def test_a_name_lists_the_matches_and_the_chosen_one_gets_the_copy(
    app, signed_in, clinician, make_patient, make_assessment
):
    plan_id = _plan(signed_in, clinician, make_patient, make_assessment)
    ada = make_patient(clinician.clinic_id, given_name="Ada", family_name="Okafor",
                       chart_number="RPH-1001")  # fmt: skip
    make_patient(clinician.clinic_id, given_name="Chidi", family_name="Okafor",
                 chart_number="RPH-1002")  # fmt: skip
    data = {"chart_number": "okafor", "start_date": "2026-12-07", "once": "c-1"}
    response = signed_in.post(f"/plans/{plan_id}/copy", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2 patients match: choose one" in page
    assert "Okafor, Ada · RPH-1001" in page and "Okafor, Chidi · RPH-1002" in page
    with app.app_context():
        assert db.session.scalars(db.select(Plan).where(Plan.patient_id == ada)).all() == []
    chosen = signed_in.post(f"/plans/{plan_id}/copy", data={**data, "patient_id": str(ada)})
    assert chosen.status_code == 302
    with app.app_context():
        assert len(db.session.scalars(db.select(Plan).where(Plan.patient_id == ada)).all()) == 1


def test_an_exact_chart_number_in_any_case_copies_at_once(
    app, signed_in, clinician, make_patient, make_assessment
):
    plan_id = _plan(signed_in, clinician, make_patient, make_assessment)
    other = make_patient(clinician.clinic_id, chart_number="RPH-1001")
    data = {"chart_number": " rph-1001 ", "start_date": "2026-12-07", "once": "c-2"}
    response = signed_in.post(f"/plans/{plan_id}/copy", data=data)
    assert response.status_code == 302
    with app.app_context():
        assert len(db.session.scalars(db.select(Plan).where(Plan.patient_id == other)).all()) == 1


def test_no_match_says_so_beside_the_field_and_keeps_the_text(
    signed_in, clinician, make_patient, make_assessment
):
    plan_id = _plan(signed_in, clinician, make_patient, make_assessment)
    data = {"chart_number": "Nobody", "start_date": "2026-12-07", "once": "c-3"}
    response = signed_in.post(f"/plans/{plan_id}/copy", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="chart_number-error">No patient(&#39;|.)s name or chart number', page)
    assert 'value="Nobody"' in page


def test_another_clinics_patient_cannot_be_chosen(
    app, signed_in, clinician, make_patient, make_assessment, other_clinic
):
    plan_id = _plan(signed_in, clinician, make_patient, make_assessment)
    data = {"chart_number": "Foreigner", "start_date": "2026-12-07", "once": "c-4",
            "patient_id": str(other_clinic["patient"])}  # fmt: skip
    foreign = db.select(Plan.id).where(Plan.patient_id == other_clinic["patient"])
    with app.app_context():
        before = set(db.session.scalars(foreign))  # the other clinic's own plans
    response = signed_in.post(f"/plans/{plan_id}/copy", data=data)
    assert b"Secret" not in response.data
    with app.app_context():
        assert set(db.session.scalars(foreign)) == before  # no copy landed there
