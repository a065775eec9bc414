"""Findings in one place near the top of a draft, in plain words, each linking to its cell."""

from __future__ import annotations

import re

from prescriptions.extensions import db
from prescriptions.models import Plan
from tests.factories import editor_data, issue_version, new_plan


def _draft_with_a_long_hold(signed_in, pid):
    plan_id = new_plan(signed_in, pid)
    data = editor_data(signed_in, plan_id)
    data["items-0-hold_s"] = "12"  # warn above 10 s
    data["items-0-rest_s"] = "12"
    assert (
        signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "save"}).status_code == 302
    )
    return plan_id


def test_warnings_sit_near_the_top_in_plain_words_linking_to_the_cell(
    signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id)
    make_assessment(pid, clinician.id)
    plan_id = _draft_with_a_long_hold(signed_in, pid)
    page = signed_in.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert page.index("Checks before issuing") < page.index("The four weeks")
    assert "[hold.contract_long" not in page and 'class="rule"' not in page
    assert re.search(r"warning[s]? to consider", page)
    assert "Week 1 · Slow holds" in page or "Week 1 ·" in page
    assert f'href="/plans/{plan_id}/edit#items-0-hold_s"' in page
    assert page.count("Issue the plan</button>") == 1


def test_issuing_without_ticking_shows_the_findings_with_the_ticks_kept(
    app, signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id, precautions=["pregnant"])
    make_assessment(pid, clinician.id)
    plan_id = _draft_with_a_long_hold(signed_in, pid)
    page = signed_in.get(f"/plans/{plan_id}").get_data(as_text=True)
    keys = re.findall(r'name="acknowledge" value="([^"]+)"', page)
    assert len(keys) >= 2
    response = signed_in.post(
        f"/plans/{plan_id}/issue", data={"acknowledge": keys[:1], "version": issue_version(page)}
    )
    assert response.status_code == 400
    shown = response.get_data(as_text=True)
    assert "Tick every warning to confirm" in shown
    assert re.search(rf'value="{re.escape(keys[0])}" id="ack-1" checked', shown)
    assert not re.search(rf'value="{re.escape(keys[1])}" id="ack-2" checked', shown)
    with app.app_context():
        assert db.session.get(Plan, plan_id).status == "draft"


def test_a_pregnant_patients_plan_warns_about_lying_on_the_back(
    signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id, precautions=["pregnant"])
    make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid)
    data = editor_data(signed_in, plan_id)
    data["items-0-position"] = "lying"
    assert (
        signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "save"}).status_code == 302
    )
    page = signed_in.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "After about 16 weeks, avoid long spells lying flat on the back" in page
    assert f'href="/plans/{plan_id}/edit#items-0-position"' in page
    data = editor_data(signed_in, plan_id)
    for key, value in list(data.items()):
        if key.endswith("-position") and value == "lying":
            data[key] = "side_lying"
    assert (
        signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "save"}).status_code == 302
    )
    page = signed_in.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "lying flat on the back" not in page


def test_errors_link_to_their_cell_and_refuse_issuing(
    app, signed_in, clinician, make_patient, make_assessment
):
    pid = make_patient(clinician.clinic_id, precautions=["catheter"])
    make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid)
    page = signed_in.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "Fix this before issuing" in page and "Catheter in place" in page
    assert "Issue the plan</button>" not in page
    response = signed_in.post(f"/plans/{plan_id}/issue", data={"version": "1"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Plan, plan_id).status == "draft"
