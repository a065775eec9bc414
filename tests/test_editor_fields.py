"""The editor offers only the dose fields an exercise uses; long errors never widen cells."""

from __future__ import annotations

import re

from prescriptions.extensions import db
from prescriptions.models import Plan
from tests.factories import editor_data, new_plan


def _flicks_row(data):
    return next(
        k.removesuffix("exercise")
        for k, v in data.items()
        if k.endswith("-exercise") and v == "quick_flicks"
    )


def test_quick_flicks_offer_no_hold_or_rest(signed_in, clinician, make_patient, make_assessment):
    pid = make_patient(clinician.clinic_id)
    make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid)
    page = signed_in.get(f"/plans/{plan_id}/edit").get_data(as_text=True)
    prefix = _flicks_row(editor_data(signed_in, plan_id))
    for name in ("hold_s", "rest_s"):
        tag = re.search(rf'<input[^>]*name="{prefix}{name}"[^>]*>', page).group(0)
        assert "disabled" in tag and "hidden" in tag
    reps = re.search(rf'<input[^>]*name="{prefix}reps"[^>]*>', page).group(0)
    assert "disabled" not in reps
    assert "not used by this exercise" in page
    assert '"quick_flicks": ["reps", "sessions_per_day", "sets"]' in page.replace("&#34;", '"')


def test_a_hold_sent_for_quick_flicks_is_ignored_not_an_error(
    app, signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id)
    make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid)
    data = editor_data(signed_in, plan_id)
    prefix = _flicks_row(data)
    data[prefix + "hold_s"] = "5"
    response = signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "save"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        flicks = [i for i in plan.items if i.exercise_code == "quick_flicks"]
        assert flicks and all(i.hold_s is None for i in flicks)


def test_switching_a_row_to_an_exercise_with_a_hold_asks_for_it(
    app, signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id)
    make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid)
    data = editor_data(signed_in, plan_id)
    prefix = _flicks_row(data)
    data[prefix + "exercise"] = "slow_hold"  # without a script: no hold was offered
    response = signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "save"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    tag = re.search(rf'<input[^>]*name="{prefix}hold_s"[^>]*>', page).group(0)
    assert "disabled" not in tag  # now offered, with the message beside it
    assert "required" in page.lower()
