"""Two tabs on one record: a conflict re-shows the form with the typing, the saved values beside."""

from __future__ import annotations

import re

from prescriptions.extensions import db
from prescriptions.models import LogEntry, Patient, Plan
from tests.factories import (
    LOGGED_START,
    editor_data,
    issue,
    issue_version,
    log_form,
    login,
    new_plan,
    whole_week,
)
from tests.factories import NEW_PATIENT as NEW


def _patient_form(client, pid):
    page = client.get(f"/patients/{pid}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    return {**NEW, "chart_number": "HP-7", "version": version}


def test_a_stale_patient_form_keeps_the_typing_and_applies_on_top(
    app, signed_in, clinician, make_patient
):
    pid = make_patient(clinician.clinic_id, chart_number="HP-7")
    first, second = _patient_form(signed_in, pid), _patient_form(signed_in, pid)
    assert (
        signed_in.post(f"/patients/{pid}/edit", data={**first, "phone": "0100"}).status_code == 302
    )
    typed = {**second, "notes": "Typed in the second tab"}
    response = signed_in.post(f"/patients/{pid}/edit", data=typed)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Typed in the second tab" in page  # the typing is kept
    assert "You saved this in another tab or window at" in page  # it was the same user
    assert re.search(r"Phone</th><td[^>]*>0100</td><td[^>]*>07700 900123<br>", page)
    assert re.search(r'name="phone" type="text" value="0100"', page)  # their change stays
    assert "Someone else changed this first" not in page
    # apply on top: the form as shown now (theirs merged in, mine kept)
    again = {**typed, "phone": "0100",
             "version": re.search(r'name="version" type="hidden" value="(\d+)"', page)[1]}  # fmt: skip
    assert signed_in.post(f"/patients/{pid}/edit", data=again).status_code == 302
    with app.app_context():
        patient = db.session.get(Patient, pid)
        assert (patient.notes, patient.phone) == ("Typed in the second tab", "0100")


def test_a_colleagues_save_is_named(app, signed_in, clinician, make_user, make_patient):
    pid = make_patient(clinician.clinic_id, chart_number="HP-7")
    colleague = app.test_client()
    uid = make_user(clinician.clinic_id, name="Priya Shah")
    with app.app_context():
        from prescriptions.models import User

        login(colleague, db.session.get(User, uid).email)
    mine = _patient_form(signed_in, pid)
    theirs = _patient_form(colleague, pid)
    assert colleague.post(f"/patients/{pid}/edit", data={**theirs, "phone": "1"}).status_code == 302
    page = signed_in.post(f"/patients/{pid}/edit", data=mine).get_data(as_text=True)
    assert "Priya Shah saved this at" in page


def test_a_stale_plan_editor_keeps_the_note_and_shows_the_saved_plan(
    app, signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id)
    make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid, start=LOGGED_START)
    tab_a, tab_b = editor_data(signed_in, plan_id), editor_data(signed_in, plan_id)
    tab_a["items-0-reps"] = "9"
    assert (
        signed_in.post(f"/plans/{plan_id}/edit", data={**tab_a, "action": "save"}).status_code
        == 302
    )
    tab_b["notes_to_patient"] = "Do them before breakfast"
    response = signed_in.post(f"/plans/{plan_id}/edit", data={**tab_b, "action": "save"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Do them before breakfast" in page
    assert "You saved this in another tab" in page and "The plan as saved now" in page
    assert re.search(r"reps 9 → \d+", page)  # the saved reps beside the typed ones
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    again = {**tab_b, "version": version, "action": "save"}
    assert signed_in.post(f"/plans/{plan_id}/edit", data=again).status_code == 302
    with app.app_context():
        assert db.session.get(Plan, plan_id).notes_to_patient == "Do them before breakfast"


def test_issuing_from_a_stale_page_is_a_conflict(
    app, signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id)
    make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid, start=LOGGED_START)
    reviewed = signed_in.get(f"/plans/{plan_id}").get_data(as_text=True)
    keys = re.findall(r'name="acknowledge" value="([^"]+)"', reviewed)
    data = editor_data(signed_in, plan_id)
    data["items-0-reps"] = "8"  # saved while the other page was being reviewed
    assert (
        signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "save"}).status_code == 302
    )
    stale = {"acknowledge": keys, "version": issue_version(reviewed)}
    response = signed_in.post(f"/plans/{plan_id}/issue", data=stale)
    assert response.status_code == 409
    assert "The plan was not issued" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Plan, plan_id).status == "draft"
    assert signed_in.post(f"/plans/{plan_id}/issue", data={"acknowledge": keys}).status_code == 409
    issue(signed_in, plan_id)  # from the page as it is now


def test_a_stale_log_week_keeps_the_typing_with_the_saved_days_beside(
    app, signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id)
    make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid, start=LOGGED_START)
    issue(signed_in, plan_id)
    opened = log_form(signed_in, plan_id, 1)
    other = whole_week({"days-0-sessions_done": "1", "days-1-sessions_done": "2"} | opened)
    assert signed_in.post(f"/plans/{plan_id}/weeks/1/log", data=other).status_code == 302
    mine = whole_week({"days-0-sessions_done": "0", "days-0-note": "Away all day"} | opened)
    response = signed_in.post(f"/plans/{plan_id}/weeks/1/log", data=mine)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Away all day" in page
    assert re.search(r"<td[^>]*>1 sessions</td><td[^>]*>0 sessions, Away all day</td>", page)
    assert re.search(r'name="days-1-sessions_done" type="text" value="2"', page)  # theirs shown
    versions = dict(re.findall(r'name="(days-\d+-version)"[^>]*value="([^"]*)"', page))
    again = whole_week({"days-0-sessions_done": "0", "days-0-note": "Away all day",
                        "days-1-sessions_done": "2"} | versions)  # fmt: skip
    assert signed_in.post(f"/plans/{plan_id}/weeks/1/log", data=again).status_code == 302
    with app.app_context():
        days = {e.sessions_done for e in db.session.scalars(db.select(LogEntry))}
        assert days == {0, 2}
