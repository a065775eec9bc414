"""Number fields never vanish: typed text comes back with one reason, or is stored as meant."""

from __future__ import annotations

import re

import pytest

from prescriptions.models import Assessment, LogEntry
from tests.factories import LOGGED_START, count, issue, new_plan, whole_week


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("leaks_per_week", "1e", "Enter a whole number. Use digits, like 5."),
        ("pads_per_day", "2,5", "Enter a whole number. Leave out the decimal part."),
        ("oxford_grade", "5.5", "Enter a whole number. Leave out the decimal part."),
        ("repetitions", "two", "Enter a whole number. Use digits, like 5."),
    ],
)
def test_an_assessment_keeps_what_was_typed_and_says_why_once(
    app, signed_in, clinician, make_patient, field, typed, message
):
    pid = make_patient(clinician.clinic_id)
    data = {"assessed_on": "2026-11-20", "notes": "kept", field: typed, "once": "n-1"}
    response = signed_in.post(f"/patients/{pid}/assessments/new", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(rf'name="{field}" type="text" value="{re.escape(typed)}"', page)
    error = re.search(rf'id="{field}-error">([^<]*)<', page).group(1)
    assert error == message  # one message for one mistake
    assert count(Assessment, app) == 0


def test_number_inputs_are_text_with_a_numeric_keyboard(signed_in, clinician, make_patient):
    pid = make_patient(clinician.clinic_id)
    page = signed_in.get(f"/patients/{pid}/assessments/new").get_data(as_text=True)
    assert 'type="number"' not in page
    assert re.search(r'inputmode="numeric"[^>]*name="leaks_per_week"', page)


def test_plain_digits_and_spaces_are_stored_as_meant(app, signed_in, clinician, make_patient):
    pid = make_patient(clinician.clinic_id)
    data = {"assessed_on": "2026-11-20", "pads_per_day": " 2 ", "leaks_per_week": "+3",
            "once": "n-2"}  # fmt: skip
    assert signed_in.post(f"/patients/{pid}/assessments/new", data=data).status_code == 302
    with app.app_context():
        from prescriptions.extensions import db

        a = db.session.scalars(db.select(Assessment)).one()
        assert (a.pads_per_day, a.leaks_per_week) == (2, 3)


def test_a_log_keeps_two_in_sessions_done(app, signed_in, clinician, make_patient, make_assessment):
    pid = make_patient(clinician.clinic_id)
    make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid, start=LOGGED_START)
    issue(signed_in, plan_id)
    response = signed_in.post(
        f"/plans/{plan_id}/weeks/1/log", data=whole_week({"days-0-sessions_done": "two"})
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'name="days-0-sessions_done" type="text" value="two"', page)
    assert "Use digits" in page
    assert count(LogEntry, app) == 0


def test_a_number_too_long_for_the_range_check_is_refused_beside_the_field(app, signed_in):
    """Found by the editor fuzz: 400 digits overflowed the float the range check compares."""
    from wtforms import Form

    from prescriptions.web.forms import WholeNumber

    class One(Form):
        n = WholeNumber("N")

    from werkzeug.datastructures import MultiDict

    form = One(MultiDict({"n": "9" * 400}))
    assert not form.validate()
    assert form.n.errors == ["That number is far too large."]
    assert form.n._value() == "9" * 400  # shown back as typed
