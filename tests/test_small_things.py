"""The smaller items of issue 13: favicon, age, hints, one message, PDF tab, Back-resubmit."""

from __future__ import annotations

from datetime import date

from prescriptions.domain.dates import age_on
from prescriptions.models import Patient
from tests.factories import NEW_PATIENT as NEW
from tests.factories import count, new_plan


def test_every_page_names_a_favicon_that_exists(signed_in):
    page = signed_in.get("/patients").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg"' in page
    icon = signed_in.get("/static/favicon.svg")
    assert icon.status_code == 200 and b"<svg" in icon.data


def test_the_record_shows_the_age_beside_the_date_of_birth(signed_in, clinician, make_patient):
    pid = make_patient(clinician.clinic_id, date_of_birth=date(1970, 5, 17))
    page = signed_in.get(f"/patients/{pid}").get_data(as_text=True)
    assert f"born 1970-05-17 · age {age_on(date(1970, 5, 17), date.today())}" in page


def test_age_counts_whole_years():
    assert age_on(date(1970, 5, 17), date(2026, 5, 16)) == 55
    assert age_on(date(1970, 5, 17), date(2026, 5, 17)) == 56
    assert age_on(date(2000, 2, 29), date(2025, 2, 28)) == 24
    assert age_on(date(2000, 2, 29), date(2025, 3, 1)) == 25


def test_the_endurance_hint_matches_its_limit(signed_in, clinician, make_patient):
    pid = make_patient(clinician.clinic_id)
    page = signed_in.get(f"/patients/{pid}/assessments/new").get_data(as_text=True)
    assert "seconds held, up to 60" in page and "up to 10" not in page


def test_the_handout_opens_in_a_new_tab(signed_in, clinician, make_patient, make_assessment):
    pid = make_patient(clinician.clinic_id)
    make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid)
    page = signed_in.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert (
        f'href="/plans/{plan_id}/handout.pdf" target="_blank" rel="noopener">Print a draft handout'
        in page
    )
    assert "(opens in a new tab)" in page


def test_back_and_resubmit_shows_the_patient_just_added(app, signed_in):
    first = signed_in.post("/patients/new", data={**NEW, "once": "first"})
    assert first.status_code == 302
    again = signed_in.post("/patients/new", data={**NEW, "once": "after-back"})  # a fresh token
    assert again.status_code == 302 and again.location == first.location
    page = signed_in.get(again.location).get_data(as_text=True)
    assert "is already on the record" in page
    assert "Another patient already has this chart number" not in page
    assert count(Patient, app) == 1
    other = signed_in.post(
        "/patients/new", data={**NEW, "given_name": "Someone", "once": "different"}
    )
    assert other.status_code == 400  # a different person with that chart number: refused
    assert "Another patient already has this chart number." in other.get_data(as_text=True)
