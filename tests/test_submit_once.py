"""Submit once: one token lookup scoped to the clinic and the user, one answer to a repeat."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from prescriptions.extensions import db
from prescriptions.models import (
    Assessment,
    ClinicExercise,
    ClinicTemplate,
    Patient,
    Plan,
    Submission,
    User,
)
from prescriptions.plans import views as plan_views
from prescriptions.web.once import REPEAT_MESSAGE, SUBMISSION_TTL
from tests.factories import PASSWORD, login

NEW_PATIENT = {
    "given_name": "Ana",
    "family_name": "Okafor",
    "date_of_birth": "1970-03-02",
    "chart_number": "RPH-77",
    "cue_set": "female",
    "once": "shared-token",
}


def _count(app, model, **filters) -> int:
    with app.app_context():
        stmt = sa.select(sa.func.count()).select_from(model)
        for key, value in filters.items():
            stmt = stmt.where(getattr(model, key) == value)
        return db.session.execute(stmt).scalar_one()


def _foreign_client(app, other_clinic):
    with app.app_context():
        email = db.session.get(User, other_clinic["user"]).email
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def test_another_clinics_used_token_does_not_swallow_a_new_patient(
    app, signed_in, clinician, other_clinic
):
    foreign = _foreign_client(app, other_clinic)
    first = foreign.post("/patients/new", data={**NEW_PATIENT, "chart_number": "ELSE-1"})
    assert first.status_code == 302
    ours = signed_in.post("/patients/new", data=NEW_PATIENT)
    assert ours.status_code == 302
    with app.app_context():
        patient = db.session.scalar(
            sa.select(Patient).where(Patient.clinic_id == clinician.clinic_id)
        )
        assert patient is not None and patient.chart_number == "RPH-77"
        assert ours.headers["Location"].endswith(f"/patients/{patient.id}")


def test_a_colleagues_token_is_a_different_submission(app, signed_in, admin_client, clinician):
    assert signed_in.post("/patients/new", data=NEW_PATIENT).status_code == 302
    again = {**NEW_PATIENT, "chart_number": "RPH-78", "given_name": "Bea"}
    assert admin_client.post("/patients/new", data=again).status_code == 302
    assert _count(app, Patient, clinic_id=clinician.clinic_id) == 2


def test_a_repeat_shows_what_the_first_made_even_when_it_would_no_longer_validate(app, signed_in):
    first = signed_in.post("/patients/new", data=NEW_PATIENT)
    # The chart number is now taken, by the patient the first submission made.
    again = signed_in.post("/patients/new", data=NEW_PATIENT, follow_redirects=True)
    assert again.status_code == 200
    assert REPEAT_MESSAGE in again.get_data(as_text=True)
    assert again.request.path == first.headers["Location"]
    assert _count(app, Patient) == 1


@pytest.fixture
def patient_id(make_patient, clinician) -> int:
    return make_patient(clinician.clinic_id, chart_number="CH-1")


@pytest.fixture
def plan_id(app, signed_in, patient_id) -> int:
    data = {"template": "strengthening", "start_date": "2026-11-30", "once": "plan-1"}
    signed_in.post(f"/patients/{patient_id}/plans/new", data=data)
    with app.app_context():
        return db.session.scalar(sa.select(Plan.id))


def _forms(patient_id: int, plan_id: int, other_patient: int) -> dict:
    return {
        "assessment": (
            f"/patients/{patient_id}/assessments/new",
            {"assessed_on": "2026-11-20", "oxford_grade": "3", "once": "t"},
            Assessment,
        ),
        "plan": (
            f"/patients/{patient_id}/plans/new",
            # the patient's programme runs (the plan fixture's): a new one stops it, with a reason
            {
                "template": "balanced",
                "start_date": "2026-12-07",
                "once": "t",
                "end_running": "stop",
                "end_reason": "A separate programme",
            },
            Plan,
        ),
        "copy": (
            f"/plans/{plan_id}/copy",
            {"chart_number": "CH-2", "start_date": "2026-12-07", "once": "t"},
            Plan,
        ),
        "template": (
            f"/plans/{plan_id}/save-template",
            {"name": "Ours", "once": "t"},
            ClinicTemplate,
        ),
        "exercise": (
            "/exercises",
            {
                "name": "Bridge squeeze",
                "kind": "contract",
                "params": ["hold_s", "rest_s"],
                "summary": "Squeeze while bridging.",
                "steps": "Lie down.\nLift your hips.",
                "breathing": "Breathe out as you lift.",
                "feel": "A lift inside.",
                "mistakes": "Holding your breath.",
                "once": "t",
            },
            ClinicExercise,
        ),
    }


@pytest.mark.parametrize("form", ["assessment", "plan", "copy", "template", "exercise"])
def test_every_create_form_answers_a_double_click_the_same_way(
    app, signed_in, clinician, make_patient, patient_id, plan_id, form
):
    other = make_patient(clinician.clinic_id, chart_number="CH-2", given_name="Ben")
    url, data, model = _forms(patient_id, plan_id, other)[form]
    before = _count(app, model)
    first = signed_in.post(url, data=data)
    assert first.status_code == 302, first.get_data(as_text=True)
    assert _count(app, model) == before + 1
    again = signed_in.post(url, data=data)
    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert _count(app, model) == before + 1
    page = signed_in.get(again.headers["Location"]).get_data(as_text=True)
    assert REPEAT_MESSAGE in page


def test_the_people_form_answers_a_double_click_the_same_way(app, admin_client):
    data = {
        "name": "Ben Clinician",
        "email": "ben@harbour.test",
        "role": "clinician",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "once": "people-1",
    }
    first = admin_client.post("/admin/users", data=data)
    again = admin_client.post("/admin/users", data=data, follow_redirects=True)
    assert first.status_code == 302 and again.status_code == 200
    assert REPEAT_MESSAGE in again.get_data(as_text=True)
    assert _count(app, User, email="ben@harbour.test") == 1


def test_used_tokens_are_purged_after_their_time(app, signed_in):
    from prescriptions.models import Submission

    assert signed_in.post("/patients/new", data=NEW_PATIENT).status_code == 302
    with app.app_context():
        db.session.execute(
            sa.update(Submission).values(
                created_at=Submission.created_at - SUBMISSION_TTL - timedelta(minutes=1)
            )
        )
        db.session.commit()
    fresh = {**NEW_PATIENT, "chart_number": "RPH-79", "once": "another-token"}
    assert signed_in.post("/patients/new", data=fresh).status_code == 302
    with app.app_context():
        tokens = db.session.scalars(sa.select(Submission.token)).all()
    assert tokens == ["another-token"]


def test_a_template_gone_before_the_save_is_a_404_that_keeps_nothing(
    app, signed_in, clinician, make_patient, monkeypatch
):
    """The new-plan token is claimed before the template is looked up; a 404 rolls both back."""
    patient_id = make_patient(clinician.clinic_id)
    monkeypatch.setattr(plan_views, "_template", lambda code: None)  # deleted by someone else
    data = {"template": "strengthening", "start_date": "2026-11-30", "once": "gone-1"}
    assert signed_in.post(f"/patients/{patient_id}/plans/new", data=data).status_code == 404
    assert _count(app, Plan, patient_id=patient_id) == 0
    assert _count(app, Submission, token="gone-1") == 0


def test_a_lost_race_whose_twin_committed_meanwhile_answers_as_the_repeat(
    app, signed_in, monkeypatch
):
    """Our save loses on a unique index and, while we roll back, the twin commits the same
    token: the second run of the view ends itself with the repeat's redirect (an abort), which
    the lost-race handler answers as it is, not as a 500."""
    from sqlalchemy.exc import IntegrityError

    from prescriptions.patients import views as patient_views
    from prescriptions.web import once

    app.config["PROPAGATE_EXCEPTIONS"] = False
    state = {"lost": False}
    real_fetch = once.fetch_submission_target

    def fetch(token):  # after our loss, the twin's committed claim is what the table holds
        return "/patients" if state["lost"] else real_fetch(token)

    def create(*args, **kwargs):
        state["lost"] = True
        raise IntegrityError("INSERT", {}, Exception("uq_patient_chart"))

    monkeypatch.setattr(once, "fetch_submission_target", fetch)
    monkeypatch.setattr(patient_views, "create_patient", create)
    response = signed_in.post("/patients/new", data=NEW_PATIENT)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/patients")
