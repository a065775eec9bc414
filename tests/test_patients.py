"""Patients and assessments: create, edit, search, pagination, archive, scoping, bad input."""

from __future__ import annotations

import re

import pytest

from prescriptions.extensions import db
from prescriptions.models import Assessment, Patient
from tests.conftest import count

NEW = {
    "given_name": "Łucja",
    "family_name": "Wiśniewska",
    "preferred_name": "Lucy",
    "date_of_birth": "1968-03-09",
    "chart_number": "HP-0042",
    "cue_set": "female",
    "diagnoses": ["stress_ui", "prolapse"],
    "precautions": [],
    "phone": "07700 900123",
    "email": "lucja@example.org",
    "address": "3 Mill Lane",
    "notes": "Prefers morning visits.",
    "once": "t-1",
}


def _version(page: str) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)


def test_create_patient_then_open_the_record(app, signed_in, clinician):
    response = signed_in.post("/patients/new", data=NEW)
    assert response.status_code == 302
    with app.app_context():
        patient = db.session.scalar(db.select(Patient))
        assert patient.clinic_id == clinician.clinic_id
        assert patient.diagnoses == ["prolapse", "stress_ui"]
        assert patient.called == "Lucy"
    page = signed_in.get(response.location).get_data(as_text=True)
    assert "Łucja Wiśniewska" in page and "HP-0042" in page
    assert "No assessment yet" in page


def test_double_click_on_create_makes_one_patient(app, signed_in):
    first = signed_in.post("/patients/new", data=NEW)
    second = signed_in.post("/patients/new", data=NEW)
    assert second.status_code == 302 and second.location == first.location
    assert count(Patient, app) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("given_name", "", "This field is required."),
        ("chart_number", "has space", "Use letters, digits"),
        ("date_of_birth", "2999-01-01", "This date is in the future."),
        ("date_of_birth", "1850-01-01", "Check the year of birth."),
        ("date_of_birth", "not a date", "Not a valid date value."),
        ("email", "not-an-email", "Enter a valid email address"),
        ("cue_set", "robot", "Not a valid choice"),
        ("diagnoses", ["stress_ui", "made_up"], "is not a valid choice"),
        ("given_name", "x" * 101, "Field cannot be longer than 100 characters."),
        ("notes", "bell\x07", None),
    ],
)
def test_bad_patient_input_is_shown_beside_the_field(app, signed_in, field, value, message):
    response = signed_in.post("/patients/new", data={**NEW, field: value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    if message:
        assert message in page
    assert 'value="Wiśniewska"' in page  # what was typed is kept
    assert count(Patient, app) == 0


def test_control_characters_are_refused_in_names(app, signed_in):
    response = signed_in.post("/patients/new", data={**NEW, "family_name": "Bad\x00Name"})
    assert response.status_code == 400
    assert "Remove the control characters" in response.get_data(as_text=True)
    assert count(Patient, app) == 0


def test_chart_number_is_unique_within_a_clinic_only(
    app, signed_in, clinician, make_patient, other_clinic
):
    make_patient(clinician.clinic_id, chart_number="HP-0042")
    response = signed_in.post("/patients/new", data=NEW)
    assert response.status_code == 400
    assert "Another patient already has this chart number." in response.get_data(as_text=True)
    make_patient(other_clinic["clinic"], chart_number="X-1")
    assert signed_in.post("/patients/new", data={**NEW, "chart_number": "X-1"}).status_code == 302


def test_edit_patient(app, signed_in, clinician, make_patient):
    patient_id = make_patient(clinician.clinic_id)
    page = signed_in.get(f"/patients/{patient_id}/edit").get_data(as_text=True)
    data = {**NEW, "version": _version(page), "family_name": "Nowak"}
    assert signed_in.post(f"/patients/{patient_id}/edit", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(Patient, patient_id).family_name == "Nowak"


def test_stale_edit_is_a_conflict_and_the_newer_data_survives(
    app, signed_in, clinician, make_patient
):
    patient_id = make_patient(clinician.clinic_id)
    page = signed_in.get(f"/patients/{patient_id}/edit").get_data(as_text=True)
    version = _version(page)
    first = {**NEW, "version": version, "family_name": "First"}
    second = {**NEW, "version": version, "family_name": "Second"}
    assert signed_in.post(f"/patients/{patient_id}/edit", data=first).status_code == 302
    response = signed_in.post(f"/patients/{patient_id}/edit", data=second)
    assert response.status_code == 409
    assert "after opening this form" in response.get_data(as_text=True)  # who saved when
    with app.app_context():
        assert db.session.get(Patient, patient_id).family_name == "First"


def test_search_by_name_and_chart_number(signed_in, clinician, make_patient, other_clinic):
    make_patient(clinician.clinic_id, given_name="Hoa", family_name="Nguyễn", chart_number="V-77")
    make_patient(clinician.clinic_id, given_name="Anna", family_name="Smith", chart_number="S-1")
    by_name = signed_in.get("/patients?q=nguy").get_data(as_text=True)
    assert "Nguyễn" in by_name and "Smith" not in by_name
    by_chart = signed_in.get("/patients?q=s-1").get_data(as_text=True)
    assert "Smith" in by_chart and "Nguyễn" not in by_chart
    both_words = signed_in.get("/patients?q=anna+smith").get_data(as_text=True)
    assert "Smith" in both_words
    foreign = signed_in.get("/patients?q=Foreigner").get_data(as_text=True)
    assert "Secret" not in foreign and "No patient matches" in foreign
    wildcard = signed_in.get("/patients?q=%25").get_data(as_text=True)
    assert "No patient matches" in wildcard


def test_pagination(app_factory, make_user, make_patient):
    app = app_factory(PATIENTS_PER_PAGE=3)
    client = app.test_client()
    user_id = make_user()
    with app.app_context():
        from prescriptions.models import User

        user = db.session.get(User, user_id)
        clinic_id, email = user.clinic_id, user.email
    for i in range(7):
        make_patient(clinic_id, family_name=f"Family{i}")
    from tests.conftest import login

    login(client, email)
    first = client.get("/patients").get_data(as_text=True)
    assert "Page 1 of 3" in first and "7 patients" in first
    assert "Family0" in first and "Family3" not in first
    last = client.get("/patients?page=3").get_data(as_text=True)
    assert "Family6" in last and "Family0" not in last
    beyond = client.get("/patients?page=99").get_data(as_text=True)
    assert "Page 3 of 3" in beyond
    assert client.get("/patients?page=abc&sort=evil").status_code == 200


def test_archive_and_restore(app, signed_in, clinician, make_patient):
    patient_id = make_patient(clinician.clinic_id, family_name="Archer")
    assert signed_in.post(f"/patients/{patient_id}/archive").status_code == 302
    signed_in.get(f"/patients/{patient_id}")  # shows the flash message
    assert "Archer" not in signed_in.get("/patients").get_data(as_text=True)
    assert "Archer" in signed_in.get("/patients?archived=1").get_data(as_text=True)
    assert signed_in.get(f"/patients/{patient_id}").status_code == 200  # kept, not deleted
    assert signed_in.post(f"/patients/{patient_id}/restore").status_code == 302
    assert "Archer" in signed_in.get("/patients").get_data(as_text=True)
    assert signed_in.get(f"/patients/{patient_id}/archive").status_code == 405


def test_record_an_assessment(app, signed_in, clinician, make_patient):
    patient_id = make_patient(clinician.clinic_id)
    data = {
        "assessed_on": "2026-11-20",
        "oxford_grade": "3",
        "endurance_s": "4",
        "repetitions": "6",
        "fast_contractions": "8",
        "relaxation": "partial",
        "pain": "2",
        "leaks_per_week": "6",
        "pads_per_day": "1",
        "technique_confirmed": "y",
        "iciq_total": "11",
        "notes": "Good lift.",
        "once": "a-1",
    }
    assert signed_in.post(f"/patients/{patient_id}/assessments/new", data=data).status_code == 302
    assert signed_in.post(f"/patients/{patient_id}/assessments/new", data=data).status_code == 302
    with app.app_context():
        assessments = db.session.scalars(db.select(Assessment)).all()
        assert len(assessments) == 1
        a = assessments[0]
        assert (a.oxford_grade, a.endurance_s, a.relaxation, a.technique_confirmed) == (
            3,
            4,
            "partial",
            True,
        )
        assert a.clinician_id == clinician.id
    page = signed_in.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "Latest assessment" in page and "Partial" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("oxford_grade", "6", "Enter a number from 0 to 5."),
        ("oxford_grade", "three", "Enter a whole number."),
        ("pain", "-1", "Enter a number from 0 to 10."),
        ("iciq_total", "22", "Enter a number from 0 to 21."),
        ("relaxation", "some", "Not a valid choice"),
        ("assessed_on", "", "This field is required."),
        ("assessed_on", "2999-01-01", "This date is in the future."),
    ],
)
def test_bad_assessment_input(app, signed_in, clinician, make_patient, field, value, message):
    patient_id = make_patient(clinician.clinic_id)
    data = {"assessed_on": "2026-11-20", "oxford_grade": "3", "notes": "kept text", field: value}
    response = signed_in.post(f"/patients/{patient_id}/assessments/new", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and "kept text" in page
    assert count(Assessment, app) == 0


def test_another_clinics_patient_is_a_404_everywhere(signed_in, other_clinic):
    pid = other_clinic["patient"]
    for path in (f"/patients/{pid}", f"/patients/{pid}/edit", f"/patients/{pid}/assessments/new"):
        assert signed_in.get(path).status_code == 404, path
    for path in (
        f"/patients/{pid}/edit",
        f"/patients/{pid}/archive",
        f"/patients/{pid}/restore",
        f"/patients/{pid}/assessments/new",
    ):
        assert signed_in.post(path, data=NEW).status_code == 404, path


def test_anonymous_visitors_are_sent_to_sign_in(client, clinician, make_patient):
    patient_id = make_patient(clinician.clinic_id)
    for path in ("/patients", f"/patients/{patient_id}", "/patients/new"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location
