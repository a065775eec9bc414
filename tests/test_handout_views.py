"""The handout endpoint, batch printing, the `handout` command and the snapshot they print."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from prescriptions.domain.catalogue import FINDING_THE_MUSCLES, exercise_catalogue
from prescriptions.domain.vocab import CueSet
from prescriptions.extensions import db
from prescriptions.mapping.handouts import handout_snapshot
from prescriptions.models import AuditEvent, Clinic, Plan
from tests.factories import count, issue, new_plan


def pdf_text(data: bytes) -> tuple[int, str, list[float]]:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    widths = [float(page.mediabox.width) for page in reader.pages]
    return len(reader.pages), text, widths


@pytest.fixture
def plan_id(signed_in, clinician, make_patient, make_assessment):
    pid = make_patient(
        clinician.clinic_id,
        given_name="Łucja",
        family_name="Wiśniewska & <b>Co</b>",
        preferred_name="Lucy",
        chart_number="HP/7",
        cue_set="male",
    )
    make_assessment(pid, clinician.id)
    return new_plan(signed_in, pid)


def test_handout_pdf_holds_the_patient_and_every_exercise(app, signed_in, plan_id):
    response = signed_in.get(f"/plans/{plan_id}/handout.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    # the revision, and DRAFT while it is one
    assert (
        'filename="handout-HP-7-2026-11-30-v1-DRAFT.pdf"' in response.headers["Content-Disposition"]
    )
    pages, text, widths = pdf_text(response.data)
    assert "Lucy" in text and "Wiśniewska & <b>Co</b>" in text  # printed literally
    assert "DRAFT" in text  # a draft says so
    with app.app_context():
        codes = {i.exercise_code for i in db.session.get(Plan, plan_id).items}
    assert len(codes) >= 3
    catalogue = exercise_catalogue()
    for code in codes:
        assert catalogue[code].patient_name in text
    assert text.count("log sheet") >= 4
    assert round(widths[0]) == 595  # the clinic's default paper: A4
    assert count(AuditEvent, app, action="plan.print") == 1


def test_handout_options(signed_in, plan_id):
    normal, _, _ = pdf_text(signed_in.get(f"/plans/{plan_id}/handout.pdf").data)
    large, _, _ = pdf_text(signed_in.get(f"/plans/{plan_id}/handout.pdf?large_print=1").data)
    assert large > normal
    _, _, widths = pdf_text(signed_in.get(f"/plans/{plan_id}/handout.pdf?paper=letter").data)
    assert round(widths[0]) == 612
    sheets, text, _ = pdf_text(signed_in.get(f"/plans/{plan_id}/handout.pdf?sheets=y").data)
    assert sheets == 5 and "Finding the right muscles" not in text  # four weeks and a spare
    assert signed_in.get(f"/plans/{plan_id}/handout.pdf?paper=a3").status_code == 400


def test_issued_handout_has_no_watermark_and_identical_bytes(signed_in, plan_id):
    issue(signed_in, plan_id)
    first = signed_in.get(f"/plans/{plan_id}/handout.pdf").data
    second = signed_in.get(f"/plans/{plan_id}/handout.pdf").data
    assert first == second
    assert "DRAFT" not in pdf_text(first)[1]


def test_handout_follows_the_plan_and_clinic_settings(app, signed_in, plan_id, clinician):
    with app.app_context():
        db.session.get(Clinic, clinician.clinic_id).paper = "letter"
        db.session.commit()
    _, _, widths = pdf_text(signed_in.get(f"/plans/{plan_id}/handout.pdf").data)
    assert round(widths[0]) == 612


def test_snapshot_uses_the_patients_wording_and_week_dates(app, plan_id):
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        clinic = db.session.get(Clinic, plan.clinic_id)
        snap = handout_snapshot(plan, clinic, exercise_catalogue())
        assert snap.finding_the_muscles == FINDING_THE_MUSCLES[CueSet.MALE]
        assert snap.patient_name == "Lucy"
        assert [w.starts for w in snap.weeks] == [
            date(2026, 11, 30),
            date(2026, 12, 7),
            date(2026, 12, 14),
            date(2026, 12, 21),
        ]
        for week in snap.weeks:
            stored = [i for i in plan.items if i.week == week.number]
            assert week.sessions_per_day == max(i.sessions_per_day for i in stored)
            assert len(week.doses) == len(stored)
        plan.cue_set = "female"
        assert (
            handout_snapshot(plan, clinic, exercise_catalogue()).finding_the_muscles
            == (FINDING_THE_MUSCLES[CueSet.FEMALE])
        )
        db.session.rollback()


def test_batch_print_makes_one_pdf(app, signed_in, clinician, make_patient, plan_id):
    other = make_patient(clinician.clinic_id, given_name="Hoa", family_name="Nguyễn")
    second = new_plan(signed_in, other, once="second")
    issue(signed_in, plan_id)
    issue(signed_in, second)
    page = signed_in.get("/print").get_data(as_text=True)
    assert f'value="{plan_id}"' in page and f'value="{second}"' in page
    response = signed_in.post("/print", data={"plans": [plan_id, second]})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages, text, _ = pdf_text(response.data)
    assert "Lucy" in text and "Hoa" in text
    first_alone, _, _ = pdf_text(signed_in.get(f"/plans/{plan_id}/handout.pdf").data)
    assert re.search(rf"Page 1 of {first_alone}", text)
    assert pages > first_alone
    empty = signed_in.post("/print", data={})
    assert empty.status_code == 400 and "Tick at least one plan" in empty.get_data(as_text=True)


def test_batch_print_ignores_another_clinics_plan(app, signed_in, other_clinic, plan_id):
    foreign_plan = other_clinic["plan"]  # issued
    response = signed_in.post("/print", data={"plans": [foreign_plan]})
    assert response.status_code == 400  # not a choice offered to this clinic


def test_handout_of_another_clinic_is_a_404(app, signed_in, other_clinic):
    foreign_plan = other_clinic["plan"]  # issued
    assert signed_in.get(f"/plans/{foreign_plan}/handout.pdf").status_code == 404


def test_handout_command(app, runner, plan_id, tmp_path):
    out = tmp_path / "h.pdf"
    result = runner.invoke(args=["handout", str(plan_id), "-o", str(out), "--paper", "letter"])
    assert result.exit_code == 0, result.output
    pages, text, widths = pdf_text(out.read_bytes())
    assert "Lucy" in text and round(widths[0]) == 612
    result = runner.invoke(args=["handout", "99999", "-o", str(out)])
    assert result.exit_code != 0 and "No plan has the id 99999" in result.output
