"""Plan lifecycle through the views: create, edit, issue, revise, complete, cancel, copy."""

from __future__ import annotations

import re

import pytest

from prescriptions.domain.vocab import PlanStatus, label
from prescriptions.extensions import db
from prescriptions.models import (
    AuditEvent,
    ClinicTemplate,
    Plan,
    PlanItem,
    Submission,
    WarningAck,
)
from tests.factories import count, editor_data, editor_from_html, issue, issue_version, new_plan


@pytest.fixture
def patient_id(clinician, make_patient, make_assessment):
    pid = make_patient(clinician.clinic_id, given_name="Hoa", family_name="Nguyễn")
    make_assessment(pid, clinician.id, endurance_s=4, repetitions=6, relaxation="full")
    return pid


def test_new_plan_starts_from_the_assessment(app, signed_in, patient_id):
    plan_id = new_plan(signed_in, patient_id)
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        assert plan.status == "draft" and plan.title
        first = [i for i in plan.items if i.week == 1 and i.exercise_code == "slow_hold"][0]
        assert first.hold_s == 4  # the patient held 4 s, not the template's number
        assert (plan.end_date - plan.start_date).days == 27
    page = signed_in.get(f"/plans/{plan_id}").get_data(as_text=True)
    for week in range(1, 5):
        assert f"Week {week}" in page


def test_new_plan_double_click_makes_one_plan(app, signed_in, patient_id):
    new_plan(signed_in, patient_id, once="same")
    new_plan(signed_in, patient_id, once="same")
    assert count(Plan, app) == 1


def test_new_plan_bad_input(app, signed_in, patient_id):
    response = signed_in.post(
        f"/patients/{patient_id}/plans/new",
        data={"template": "nonsense", "start_date": "not a date", "once": "x"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Not a valid choice" in page and "Not a valid date value" in page
    assert count(Plan, app) == 0


def test_edit_a_dose_in_week_two(app, signed_in, patient_id):
    plan_id = new_plan(signed_in, patient_id)
    data = editor_data(signed_in, plan_id)
    week2 = [k for k, v in data.items() if k.endswith("-week") and v == "2"][0]
    prefix = week2.removesuffix("week")
    data[prefix + "reps"] = "9"
    data["notes_to_patient"] = "Keep going!"
    response = signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "save"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        assert [i.reps for i in plan.items if i.week == 2][0] == 9
        assert plan.notes_to_patient == "Keep going!"


def test_editor_errors_sit_beside_the_cell_and_nothing_is_saved(app, signed_in, patient_id):
    plan_id = new_plan(signed_in, patient_id)
    data = editor_data(signed_in, plan_id)
    with app.app_context():
        before = [(i.week, i.hold_s, i.reps) for i in db.session.get(Plan, plan_id).items]
    data["items-0-hold_s"] = "16"  # over the 15 s block
    data["items-1-reps"] = "lots"
    response = signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "save"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter a whole number." in page
    assert 'value="lots"' in page  # what was typed is kept
    data["items-1-reps"] = "8"
    response = signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "save"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="items-0-hold_s-error">[^<]*15', page)
    with app.app_context():
        after = [(i.week, i.hold_s, i.reps) for i in db.session.get(Plan, plan_id).items]
    assert after == before


def test_structural_editor_actions_do_not_save(app, signed_in, patient_id):
    plan_id = new_plan(signed_in, patient_id)
    data = editor_data(signed_in, plan_id)
    rows = len([k for k in data if k.endswith("-week")])
    added = signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "add:1"})
    assert added.status_code == 200
    assert added.get_data(as_text=True).count('name="items-') > 0
    assert len(re.findall(r'name="items-\d+-week"', added.get_data(as_text=True))) == rows + 1
    removed = signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "remove:0"})
    assert len(re.findall(r'name="items-\d+-week"', removed.get_data(as_text=True))) == rows - 1
    with app.app_context():
        assert count(PlanItem, app) == rows


def test_copy_week_forward_then_save(app, signed_in, patient_id):
    plan_id = new_plan(signed_in, patient_id)
    data = editor_data(signed_in, plan_id)
    page = signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "copy:1"})
    copied = editor_from_html(page.get_data(as_text=True))
    response = signed_in.post(f"/plans/{plan_id}/edit", data={**copied, "action": "save"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        items = db.session.get(Plan, plan_id).items
        week1 = [(i.exercise_code, i.hold_s, i.reps) for i in items if i.week == 1]
        week2 = [(i.exercise_code, i.hold_s, i.reps) for i in items if i.week == 2]
    assert week1 == week2


def test_issue_with_warnings_needs_every_acknowledgement(app, signed_in, patient_id, clinician):
    plan_id = new_plan(signed_in, patient_id)
    data = editor_data(signed_in, plan_id)
    data["items-0-hold_s"] = "12"  # warn above 10 s
    data["items-0-rest_s"] = "12"
    assert (
        signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "save"}).status_code == 302
    )
    page = signed_in.get(f"/plans/{plan_id}").get_data(as_text=True)
    keys = re.findall(r'name="acknowledge" value="([^"]+)"', page)
    assert keys and any(k.startswith("hold.contract_long") for k in keys)
    version = issue_version(page)
    refused = signed_in.post(f"/plans/{plan_id}/issue", data={"version": version})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.get(Plan, plan_id).status == "draft"
    assert "Tick every warning" in refused.get_data(as_text=True)
    issued = signed_in.post(
        f"/plans/{plan_id}/issue", data={"acknowledge": keys, "version": version}
    )
    assert issued.status_code == 302
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        assert plan.status == "issued" and plan.issued_by_id == clinician.id
        acks = db.session.scalars(db.select(WarningAck)).all()
        assert {a.code for a in acks} == set(keys)
        assert all(a.acknowledged_by_id == clinician.id for a in acks)


def test_issued_plans_are_read_only(app, signed_in, patient_id):
    plan_id = new_plan(signed_in, patient_id)
    data = editor_data(signed_in, plan_id)
    issue(signed_in, plan_id)
    response = signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": "save"})
    assert response.status_code == 409
    assert "Revise it" in response.get_data(as_text=True)
    assert signed_in.get(f"/plans/{plan_id}/edit").status_code == 302
    again = signed_in.post(f"/plans/{plan_id}/issue", data={})  # a repeat: the plan as it stands
    assert again.status_code == 302 and again.location == f"/plans/{plan_id}"
    assert "already issued" in signed_in.get(again.location).get_data(as_text=True)


def test_revise_then_issue_supersedes_and_history_shows_the_change(app, signed_in, patient_id):
    plan_id = new_plan(signed_in, patient_id)
    issue(signed_in, plan_id)
    response = signed_in.post(f"/plans/{plan_id}/revise")
    revision_id = int(re.search(r"/plans/(\d+)/edit", response.location).group(1))
    assert revision_id != plan_id
    again = signed_in.post(f"/plans/{plan_id}/revise")  # the open draft, not a second one
    assert again.location.endswith(f"/plans/{revision_id}/edit")
    data = editor_data(signed_in, revision_id)
    week2 = [k for k, v in data.items() if k.endswith("-week") and v == "2"][0].removesuffix("week")
    data[week2 + "reps"] = "10"
    assert (
        signed_in.post(f"/plans/{revision_id}/edit", data={**data, "action": "save"}).status_code
        == 302
    )
    issue(signed_in, revision_id)
    with app.app_context():
        old, new = db.session.get(Plan, plan_id), db.session.get(Plan, revision_id)
        assert (old.status, new.status, new.revision, new.revises_id) == (
            "superseded",
            "issued",
            2,
            plan_id,
        )
    page = signed_in.get(f"/plans/{revision_id}/history").get_data(as_text=True)
    assert "Revision 1" in page and "Revision 2" in page
    assert re.search(r"Week 2 · [^<]*reps \d+ → 10", page)


def test_complete_and_cancel(app, signed_in, patient_id):
    first = new_plan(signed_in, patient_id, once="a")
    issue(signed_in, first)
    assert signed_in.post(f"/plans/{first}/complete").status_code == 302
    again = signed_in.post(f"/plans/{first}/complete")
    assert again.status_code == 302 and again.location == f"/plans/{first}"
    assert "already completed" in signed_in.get(again.location).get_data(as_text=True)
    second = new_plan(signed_in, patient_id, once="b")
    assert signed_in.post(f"/plans/{second}/cancel", data={"reason": ""}).status_code == 302
    with app.app_context():
        assert db.session.get(Plan, second).status == "draft"
    assert (
        signed_in.post(f"/plans/{second}/cancel", data={"reason": "Patient moved"}).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(Plan, first).status == "completed"
        cancelled = db.session.get(Plan, second)
        assert (cancelled.status, cancelled.status_reason) == ("cancelled", "Patient moved")
        actions = set(db.session.scalars(db.select(AuditEvent.action)))
        assert {"plan.create", "plan.issue", "plan.complete", "plan.cancel"} <= actions


def test_copy_to_another_patient_and_save_as_template(
    app, signed_in, clinician, patient_id, make_patient
):
    other = make_patient(clinician.clinic_id, chart_number="OTHER-1")
    plan_id = new_plan(signed_in, patient_id)
    response = signed_in.post(
        f"/plans/{plan_id}/copy",
        data={"chart_number": "OTHER-1", "start_date": "2026-12-07", "once": "c"},
    )
    assert response.status_code == 302
    missing = signed_in.post(
        f"/plans/{plan_id}/copy",
        data={"chart_number": "NOPE", "start_date": "2026-12-07", "once": "d"},
    )
    assert missing.status_code == 400
    assert (
        signed_in.post(
            f"/plans/{plan_id}/save-template", data={"name": "My strength", "once": "t"}
        ).status_code
        == 302
    )
    with app.app_context():
        copies = db.session.scalars(db.select(Plan).where(Plan.patient_id == other)).all()
        assert len(copies) == 1 and len(copies[0].items) == len(db.session.get(Plan, plan_id).items)
        template = db.session.scalar(db.select(ClinicTemplate))
        assert template.name == "My strength" and template.clinic_id == clinician.clinic_id
    # and a plan can start from the clinic template
    new_from_template = new_plan(signed_in, other, template=f"clinic:{template.id}", once="n")
    with app.app_context():
        assert db.session.get(Plan, new_from_template).title == "My strength"


def test_clinic_exercise_joins_the_catalogue(app, signed_in, patient_id):
    data = {
        "name": "Bridge with squeeze",
        "kind": "contract",
        "params": ["hold_s", "rest_s"],
        "summary": "Builds strength in a position you use every day.",
        "steps": "Lie on your back.\nLift your hips.",
        "breathing": "Breathe out as you lift.",
        "feel": "A lift inside while your buttocks stay soft.",
        "mistakes": "Holding your breath.",
        "once": "e",
    }
    assert signed_in.post("/exercises", data=data).status_code == 302
    assert signed_in.post("/exercises", data=data).status_code == 302
    page = signed_in.get("/exercises").get_data(as_text=True)
    assert page.count("<strong>Bridge with squeeze</strong>") == 1
    plan_id = new_plan(signed_in, patient_id)
    assert "c_bridge_with_squeeze" in signed_in.get(f"/plans/{plan_id}/edit").get_data(as_text=True)
    bad = signed_in.post("/exercises", data={**data, "name": "", "kind": "dance", "once": "f"})
    assert bad.status_code == 400
    # a handout exercise always says how to breathe, what to feel and what to avoid
    for blank in ("breathing", "feel", "mistakes"):
        missing = signed_in.post("/exercises", data={**data, blank: "", "once": f"g{blank}"})
        assert missing.status_code == 400


def test_copy_to_an_unknown_chart_number_is_refused_and_writes_nothing(
    app, signed_in, clinician, patient_id, make_patient, other_clinic
):
    plan_id = new_plan(signed_in, patient_id)

    def written():
        return (
            count(Plan, app),
            count(PlanItem, app),
            count(Submission, app),
            count(AuditEvent, app, action="plan.copy"),
        )

    before = written()
    # no such chart number anywhere, and one that only the other clinic has
    for chart in ("NOPE-1", "FX-9931"):
        response = signed_in.post(
            f"/plans/{plan_id}/copy",
            data={"chart_number": chart, "start_date": "2026-12-07", "once": "copy-1"},
        )
        # the plan page again, the message beside the field, nothing written
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert f"chart number matches “{chart}”." in page
        assert written() == before, chart
    with app.app_context():
        foreign = db.session.scalars(
            db.select(Plan).where(Plan.clinic_id == other_clinic["clinic"])
        ).all()
    assert sorted(p.id for p in foreign) == sorted(other_clinic["plans"])
    # Corrected, the same form (same one-time token) copies: the refusals did not use it up.
    other = make_patient(clinician.clinic_id, chart_number="OTHER-1")
    response = signed_in.post(
        f"/plans/{plan_id}/copy",
        data={"chart_number": "OTHER-1", "start_date": "2026-12-07", "once": "copy-1"},
    )
    assert re.search(r"/plans/\d+/edit$", response.location), response.location
    with app.app_context():
        (copied,) = db.session.scalars(db.select(Plan).where(Plan.patient_id == other)).all()
        assert copied.clinic_id == clinician.clinic_id and copied.status == "draft"


def _record_plans(page: str) -> list[tuple[int, str]]:
    """The plans table of a patient's record: (plan id, status shown), in page order."""
    section = page.split("<h2>Plans</h2>", 1)[1].split("</section>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if cells:
            plan_id = int(re.search(r'href="/plans/(\d+)"', cells[0]).group(1))
            rows.append((plan_id, re.sub(r"<[^>]+>", "", cells[1]).strip()))
    return rows


def test_patient_record_lists_every_plan_and_revision(
    signed_in,
    clinician,
    patient_id,
    make_patient,
    make_plan,
    issue_plan,
    revise_plan,
    complete_plan,
    cancel_plan,
    other_clinic,
):
    draft = make_plan(patient_id)
    superseded = issue_plan(make_plan(patient_id))
    current = issue_plan(revise_plan(superseded))
    open_revision = revise_plan(current)
    completed = complete_plan(issue_plan(make_plan(patient_id)))
    cancelled_draft = cancel_plan(make_plan(patient_id))
    cancelled_issued = cancel_plan(issue_plan(make_plan(patient_id)))
    make_plan(make_patient(clinician.clinic_id))  # another patient's plan: not on this record
    expected = {
        draft: PlanStatus.DRAFT,
        superseded: PlanStatus.SUPERSEDED,
        current: PlanStatus.ISSUED,
        open_revision: PlanStatus.DRAFT,
        completed: PlanStatus.COMPLETED,
        cancelled_draft: PlanStatus.CANCELLED,
        cancelled_issued: PlanStatus.CANCELLED,
    }
    page = signed_in.get(f"/patients/{patient_id}").get_data(as_text=True)
    # every plan and revision once, newest first, each with its own status
    assert _record_plans(page) == [
        (plan_id, label(expected[plan_id])) for plan_id in sorted(expected, reverse=True)
    ]
    assert len({label(s) for s in PlanStatus}) == len(PlanStatus)  # the labels tell them apart


def test_another_clinics_plan_is_a_404(app, signed_in, other_clinic, make_user):
    plan_id = other_clinic["plans"][-1]  # a draft revision
    for path in ("", "/edit", "/history"):
        assert signed_in.get(f"/plans/{plan_id}{path}").status_code == 404
    for path in ("/edit", "/issue", "/revise", "/complete", "/cancel", "/copy", "/save-template"):
        assert signed_in.post(f"/plans/{plan_id}{path}", data={"reason": "x"}).status_code == 404
    assert signed_in.get(f"/patients/{other_clinic['patient']}/plans/new").status_code == 404
