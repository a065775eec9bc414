"""Programmes: a plan is a block of one, the timeline, planning the next block, stopping."""

from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa

from prescriptions.extensions import db
from prescriptions.models import Plan, PlanItem, Programme
from tests.factories import new_plan

TODAY = date.today()
START = TODAY - timedelta(days=28)  #: block 1 has just ended


def _programme_of(app, plan_id: int) -> int:
    with app.app_context():
        return db.session.get(Plan, plan_id).programme_id


def _block_one(
    app,
    clinician,
    make_patient,
    make_assessment,
    make_plan,
    issue_plan,
    log_week,
    *,
    done: int = 3,
    hold: int = 8,
    pain: int = 1,
) -> tuple[int, int, int]:
    """An issued block 1 whose last two weeks are logged; (patient, plan, programme) ids."""
    patient_id = make_patient(clinician.clinic_id)
    make_assessment(patient_id, clinician.id, assessed_on=START - timedelta(days=7))
    plan_id = issue_plan(make_plan(patient_id, start=START))
    for week in (3, 4):
        values = {"sessions_done": done, "longest_hold_s": hold, "pain": pain, "leaks": 1}
        log_week(plan_id, week, days={n: dict(values) for n in range(7)})
    return patient_id, plan_id, _programme_of(app, plan_id)


def _once_and_block(page: str) -> dict[str, str]:
    form = page[page.index('id="next-head"') :]
    found = {
        name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', form)
        for name in ("csrf_token", "once", "block")
    }
    return {name: match.group(1) for name, match in found.items() if match}


def test_a_new_plan_is_block_one_of_a_three_block_programme(app, signed_in, clinician,
                                                             make_patient):  # fmt: skip
    patient_id = make_patient(clinician.clinic_id)
    plan_id = new_plan(signed_in, patient_id)
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        programme = db.session.get(Programme, plan.programme_id)
        assert (plan.block_number, programme.block_count, programme.status) == (1, 3, "running")
        assert programme.patient_id == patient_id and programme.clinic_id == clinician.clinic_id
    page = signed_in.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "Block 1: weeks 1 to 4" in page and "Block 3: weeks 9 to 12" in page
    assert "not planned" in page


def test_the_timeline_shows_adherence_and_the_review_due(
    app, signed_in, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week
):
    patient_id, plan_id, _ = _block_one(
        app, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week, done=2
    )
    page = signed_in.get(f"/patients/{patient_id}").get_data(as_text=True)
    # 2 of 3 sessions a day over 14 logged days
    assert "67% of sessions on 14 logged days" in page
    due = (START + timedelta(days=28)).isoformat()
    assert f"Review after block 1:\n    due {due}" in page


def test_the_next_block_is_proposed_from_the_logs_and_says_why(
    app, signed_in, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week
):
    _, plan_id, programme_id = _block_one(
        app, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week, hold=10
    )
    page = signed_in.get(f"/programmes/{programme_id}").get_data(as_text=True)
    assert "42 of 42 sessions done (100%) over 14 logged days" in page
    assert "Longest hold reached the prescribed 10 s on 7 of the last 7 logged days." in page
    assert "Starting at 10 s: longest hold logged 10 s on most of the last days." in page
    fields = _once_and_block(page)
    assert fields["block"] == "2"
    start = (START + timedelta(days=28)).isoformat()
    response = signed_in.post(
        f"/programmes/{programme_id}/next-block", data={**fields, "start_date": start}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    draft_id = int(re.search(r"/plans/(\d+)/edit", response.location).group(1))
    with app.app_context():
        draft = db.session.get(Plan, draft_id)
        assert (draft.programme_id, draft.block_number, draft.status) == (programme_id, 2, "draft")
        assert draft.lineage_id is None and draft.start_date.isoformat() == start
        slow = [i for i in draft.items if i.exercise_code == "slow_hold"]
        assert slow[0].hold_s == 10  # not below what was logged
        assert "longest hold logged 10 s" in slow[0].reason
    editor = signed_in.get(response.location).get_data(as_text=True)
    assert "Why this dose:" in editor and "longest hold logged 10 s" in editor
    # the reasons stay with the plan through an editor save
    with app.app_context():
        from prescriptions.audit import Actor
        from prescriptions.mapping.plans import plan_items
        from prescriptions.models import User
        from prescriptions.plans.operations import update_plan

        draft = db.session.get(Plan, draft_id)
        update_plan(draft, plan_items(draft.items), Actor(db.session.get(User, clinician.id)))
        db.session.commit()
        reasons = db.session.scalars(
            sa.select(PlanItem.reason).where(
                PlanItem.plan_id == draft_id, PlanItem.exercise_code == "slow_hold"
            )
        ).all()
        assert reasons and all("10 s" in r for r in reasons)


def test_planning_the_next_block_twice_or_from_a_stale_tab_makes_one_draft(
    app, signed_in, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week
):
    _, plan_id, programme_id = _block_one(
        app, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week
    )
    page = signed_in.get(f"/programmes/{programme_id}").get_data(as_text=True)
    fields = {**_once_and_block(page), "start_date": TODAY.isoformat()}
    url = f"/programmes/{programme_id}/next-block"
    first = signed_in.post(url, data=fields)
    again = signed_in.post(url, data=fields)  # a double click: what the first one made
    assert again.status_code == 302 and again.location == first.location
    stale = signed_in.post(url, data={**fields, "once": "another-tab-token-000000000"})
    assert stale.status_code == 302 and stale.location.endswith(f"/programmes/{programme_id}")
    followed = signed_in.get(stale.location).get_data(as_text=True)
    assert "This page was out of date" in followed
    with app.app_context():
        blocks = db.session.scalars(
            sa.select(Plan.block_number).where(Plan.programme_id == programme_id)
        ).all()
    assert sorted(blocks) == [1, 2]


def test_a_weak_block_repeats_and_says_so(
    app, signed_in, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week
):
    _, _, programme_id = _block_one(
        app, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week, done=1
    )
    page = signed_in.get(f"/programmes/{programme_id}").get_data(as_text=True)
    assert "14 of 42 sessions done (33%) over 14 logged days: stepping back one week." in page


def test_holds_short_of_the_prescription_repeat_the_dose(
    app, signed_in, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week
):
    _, _, programme_id = _block_one(
        app, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week, hold=8
    )
    page = signed_in.get(f"/programmes/{programme_id}").get_data(as_text=True)
    assert (
        "Longest hold reached the prescribed 10 s on 0 of the last 7 logged days: repeating" in page
    )


def test_goal_and_length_are_checked_beside_the_field(app, signed_in, clinician, make_patient):
    plan_id = new_plan(signed_in, make_patient(clinician.clinic_id))
    programme_id = _programme_of(app, plan_id)
    page = signed_in.get(f"/programmes/{programme_id}").get_data(as_text=True)
    token = (re.search(r'name="csrf_token"[^>]*value="([^"]*)"', page) or re.match("()", "")).group(
        1
    )
    url = f"/programmes/{programme_id}"
    for typed, message in (("7", "A programme has 1 to 6 blocks."), ("two", "")):
        data = {"csrf_token": token, "version": "1", "goal": "Fewer leaks", "block_count": typed}
        response = signed_in.post(url, data=data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    data = {"csrf_token": token, "version": "1", "goal": "Walk the dog dry", "block_count": "2"}
    assert signed_in.post(url, data=data).status_code == 302
    stale = signed_in.post(url, data={**data, "goal": "Old tab"})  # opened at version 1
    assert stale.status_code == 409
    with app.app_context():
        programme = db.session.get(Programme, programme_id)
        assert (programme.goal, programme.block_count) == ("Walk the dog dry", 2)


def test_stopping_needs_a_reason_and_finishing_the_last_block_finishes(
    app, signed_in, clinician, make_patient, make_plan, issue_plan, complete_plan
):
    patient_id = make_patient(clinician.clinic_id)
    plan_id = issue_plan(make_plan(patient_id))
    programme_id = _programme_of(app, plan_id)
    page = signed_in.get(f"/programmes/{programme_id}").get_data(as_text=True)
    token = (re.search(r'name="csrf_token"[^>]*value="([^"]*)"', page) or re.match("()", "")).group(
        1
    )
    url = f"/programmes/{programme_id}/stop"
    signed_in.post(url, data={"csrf_token": token, "reason": ""})
    with app.app_context():
        assert db.session.get(Programme, programme_id).status == "running"
        db.session.get(Programme, programme_id).block_count = 1
        db.session.commit()
    complete_plan(plan_id)
    with app.app_context():
        programme = db.session.get(Programme, programme_id)
        assert (programme.status, programme.ended_on) == ("finished", TODAY)
    second = issue_plan(make_plan(patient_id))
    other = _programme_of(app, second)
    response = signed_in.post(
        f"/programmes/{other}/stop", data={"csrf_token": token, "reason": "Moved away"}
    )
    assert response.status_code == 302
    with app.app_context():
        programme = db.session.get(Programme, other)
        assert (programme.status, programme.status_reason) == ("stopped", "Moved away")


def test_the_record_shows_outcomes_and_marks_important_changes(
    app, signed_in, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week
):
    patient_id = make_patient(clinician.clinic_id)
    make_assessment(patient_id, clinician.id, assessed_on=START, iciq_total=12, pain=5)
    make_assessment(patient_id, clinician.id, assessed_on=TODAY, iciq_total=10, pain=2)
    plan_id = issue_plan(make_plan(patient_id, start=START))
    log_week(plan_id, 1, days={n: {"sessions_done": 3, "leaks": 2} for n in range(3)})  # part week
    log_week(plan_id, 4, days={n: {"sessions_done": 3, "leaks": 1} for n in range(7)})
    page = signed_in.get(f"/patients/{patient_id}").get_data(as_text=True)
    outcomes = page[page.index('id="outcomes-head"') :]
    # 2 a day on 3 logged days is 14 a week, never 6; then 7: a responder
    assert "<strong>14 to 7 (-7): clinically important improvement</strong>" in outcomes
    assert "12 to 10 (-2)</td>" in outcomes  # under ICIQ's 2.5 points: not marked
    assert "<strong>5 to 2 (-3): clinically important improvement</strong>" in outcomes
    # programme weeks 1 and 4, whatever calendar weeks the block's days fell in
    assert (
        "Leaks a week from the logs (mean per logged day × 7), by programme week. "
        "Week 1: 14; Week 4: 7." in outcomes
    )
    assert "Sessions done, by block. Block 1: 100%." in outcomes


def test_a_later_blocks_handout_says_where_it_sits_and_what_changed(
    app, signed_in, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week
):
    import io

    from pypdf import PdfReader

    _, plan_id, programme_id = _block_one(
        app, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week, hold=8
    )
    first = signed_in.get(f"/plans/{plan_id}/handout.pdf")
    cover = PdfReader(io.BytesIO(first.data)).pages[0].extract_text()
    assert "Block 1 of 3: weeks 1 to 4" in cover
    assert "What changed since your last block" not in cover
    page = signed_in.get(f"/programmes/{programme_id}").get_data(as_text=True)
    response = signed_in.post(
        f"/programmes/{programme_id}/next-block",
        data={**_once_and_block(page), "start_date": TODAY.isoformat()},
    )
    draft_id = int(re.search(r"/plans/(\d+)/edit", response.location).group(1))
    pdf = signed_in.get(f"/plans/{draft_id}/handout.pdf")
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.data)).pages[:2]
    )
    assert "Block 2 of 3: weeks 5 to 8" in text
    assert "What changed since your last block" in text
    # holds short of the prescription: the slow squeeze repeats, said kindly and plainly
    assert "your longest squeezes are not yet as long as the time we asked for" in text
    assert "A step up from your last block" in text  # quick flicks and the Knack move on
    assert "42 of 42" not in text  # the clinician's figures stay in the editor


def test_a_programme_as_fhir_with_its_blocks_and_outcomes(
    app, signed_in, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week,
    other_clinic,
):  # fmt: skip
    import json

    from fhir.resources.R4B.bundle import Bundle

    from prescriptions.exports.fhir import code_problems

    _, plan_id, programme_id = _block_one(
        app, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week, hold=10
    )
    page = signed_in.get(f"/programmes/{programme_id}").get_data(as_text=True)
    response = signed_in.post(
        f"/programmes/{programme_id}/next-block",
        data={**_once_and_block(page), "start_date": TODAY.isoformat()},
    )
    assert response.status_code == 302
    exported = signed_in.get(f"/programmes/{programme_id}/fhir.json")
    assert exported.status_code == 200 and exported.mimetype == "application/fhir+json"
    text = exported.get_data(as_text=True)
    bundle = Bundle.model_validate_json(text)  # the library validates every resource
    assert code_problems(json.loads(text)) == []
    by_kind: dict[str, list] = {}
    for entry in bundle.entry:
        by_kind.setdefault(entry.resource.get_resource_type(), []).append(entry)
    programme, block_1, block_2 = by_kind["CarePlan"]
    assert programme.resource.title == "Programme of 3 four-week blocks"
    assert block_1.resource.partOf[0].reference == programme.fullUrl
    assert block_2.resource.partOf[0].reference == programme.fullUrl
    assert block_2.resource.basedOn[0].reference == block_1.fullUrl
    assert block_1.resource.basedOn is None
    codes = {(c.system, c.code) for e in by_kind["Observation"] for c in e.resource.code.coding}
    assert ("http://loinc.org", "72514-3") in codes  # pain
    assert ("urn:floorplan:outcome", "leaks-a-week-logged") in codes
    assert signed_in.get(f"/programmes/{other_clinic['programme']}/fhir.json").status_code == 404


def test_the_next_block_is_offered_from_the_last_week_and_refused_before(
    app, signed_in, clinician, make_patient, make_assessment, make_plan, issue_plan
):
    patient_id = make_patient(clinician.clinic_id)
    start = TODAY - timedelta(days=3)  # issued, no days logged yet
    make_assessment(patient_id, clinician.id, assessed_on=start - timedelta(days=2))
    plan_id = issue_plan(make_plan(patient_id, start=start))
    programme_id = _programme_of(app, plan_id)
    opens = (start + timedelta(days=21)).isoformat()
    page = signed_in.get(f"/programmes/{programme_id}").get_data(as_text=True)
    assert f"Block 2 is offered from {opens}, block 1&#39;s last week" in page
    assert "Make block 2 a draft" not in page
    # a form posted anyway is refused with the same words, and nothing is written
    fields = {**_once_and_block(page), "block": "2", "start_date": opens}
    response = signed_in.post(f"/programmes/{programme_id}/next-block", data=fields)
    assert response.status_code == 302 and response.location.endswith(f"/programmes/{programme_id}")
    assert f"Block 2 is offered from {opens}" in signed_in.get(response.location).get_data(
        as_text=True
    )
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(Plan).where(Plan.programme_id == programme_id)
        )
    assert count == 1
    # once reassessed during the block, it is offered at once
    make_assessment(patient_id, clinician.id, assessed_on=TODAY)
    page = signed_in.get(f"/programmes/{programme_id}").get_data(as_text=True)
    assert "Make block 2 a draft" in page


def test_a_new_plan_offers_the_next_block_and_a_separate_one_ends_the_running_one(
    app, signed_in, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week
):
    patient_id, plan_id, programme_id = _block_one(
        app, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week
    )
    url = f"/patients/{patient_id}/plans/new"
    page = signed_in.get(url).get_data(as_text=True)
    assert "has a programme running" in page
    assert f'href="/programmes/{programme_id}#next-block">Plan the next block</a>' in page
    # no choice made: refused beside the field, nothing written
    data = {"template": "strengthening", "start_date": TODAY.isoformat(), "once": "sep-1"}
    refused = signed_in.post(url, data=data)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert (
        "Their programme is still running." in text
        and "Say why the running programme ends." in text
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Programme)) == 1
    # an explicit stop, with a reason, starts a separate programme
    new_id = new_plan(signed_in, patient_id, once="sep-2", start=TODAY.isoformat(),
                      end_running="stop", end_reason="Moved to a hospital programme")  # fmt: skip
    with app.app_context():
        old = db.session.get(Programme, programme_id)
        assert (old.status, old.status_reason, old.ended_on) == (
            "stopped",
            "Moved to a hospital programme",
            TODAY,
        )
        assert db.session.get(Plan, new_id).programme_id != programme_id


def test_a_block_still_running_is_named_and_linked(app, signed_in, clinician, make_patient,
                                                   make_plan):  # fmt: skip
    patient_id = make_patient(clinician.clinic_id)
    plan_id = make_plan(patient_id, start=TODAY)
    page = signed_in.get(f"/patients/{patient_id}/plans/new").get_data(as_text=True)
    end = (TODAY + timedelta(days=27)).isoformat()
    assert f'Block 1 runs until {end}: <a href="/plans/{plan_id}">open block 1</a>' in page


def test_the_operation_and_the_index_refuse_two_running_programmes(app, clinician, make_patient,
                                                                   make_plan):  # fmt: skip
    import pytest

    from prescriptions.audit import Actor
    from prescriptions.models import Patient, User
    from prescriptions.programmes.operations import ProgrammeRunningError, start_programme

    patient_id = make_patient(clinician.clinic_id)
    make_plan(patient_id, start=TODAY)
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        actor = Actor(db.session.get(User, clinician.id))
        with pytest.raises(ProgrammeRunningError):
            start_programme(patient, "strengthening", actor, start=TODAY)
        with pytest.raises(ProgrammeRunningError):  # a choice without a reason is no choice
            start_programme(patient, "strengthening", actor, start=TODAY, end_running="stop")
        db.session.rollback()
        # the partial unique index, past the operation's check (two requests at once)
        db.session.add(
            Programme(clinic_id=patient.clinic_id, patient_id=patient_id, template_code="x",
                      started_on=TODAY, created_by_id=clinician.id, status="running")
        )  # fmt: skip
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()
        # a stopped or finished one is no obstacle
        db.session.add(
            Programme(clinic_id=patient.clinic_id, patient_id=patient_id, template_code="x",
                      started_on=TODAY, created_by_id=clinician.id, status="stopped")
        )  # fmt: skip
        db.session.flush()
        db.session.rollback()


def test_cancelling_the_last_open_block_asks_about_the_programme(
    app, signed_in, clinician, make_patient, make_plan
):
    patient_id = make_patient(clinician.clinic_id)
    kept = make_plan(patient_id, start=TODAY)
    page = signed_in.get(f"/plans/{kept}").get_data(as_text=True)
    assert "Also stop the programme it is a block of" in page
    # cancelled alone: the programme runs on, and the record says it needs a decision
    signed_in.post(f"/plans/{kept}/cancel", data={"reason": "Wrong template"})
    programme_id = _programme_of(app, kept)
    with app.app_context():
        assert db.session.get(Programme, programme_id).status == "running"
    record = signed_in.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "Needs a decision:</strong> block 1 was cancelled" in record
    # ticked: the programme stops for the same reason
    other = make_patient(clinician.clinic_id)
    plan_id = make_plan(other, start=TODAY)
    signed_in.post(f"/plans/{plan_id}/cancel", data={"reason": "Moved away", "stop_programme": "y"})
    with app.app_context():
        stopped = db.session.get(Programme, _programme_of(app, plan_id))
        assert (stopped.status, stopped.status_reason) == ("stopped", "Moved away")
    record = signed_in.get(f"/patients/{other}").get_data(as_text=True)
    assert "Needs a decision" not in record


def test_copying_to_a_patient_with_a_running_programme_is_refused_beside_the_field(
    app, signed_in, clinician, make_patient, make_plan
):
    source = make_plan(make_patient(clinician.clinic_id), start=TODAY)
    other = make_patient(clinician.clinic_id, chart_number="RUN-1")
    make_plan(other, start=TODAY)
    response = signed_in.post(
        f"/plans/{source}/copy",
        data={"chart_number": "RUN-1", "start_date": TODAY.isoformat(), "once": "copy-run"},
    )
    assert response.status_code == 400
    assert "has a programme running: plan its next block from their record" in response.get_data(
        as_text=True
    )
    with app.app_context():
        plans = db.session.scalar(
            sa.select(sa.func.count()).select_from(Plan).where(Plan.patient_id == other)
        )
    assert plans == 1
