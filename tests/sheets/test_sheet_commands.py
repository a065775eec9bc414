"""`sheet-layout` and `read-sheets` through the app: signed codes, foreign sheets, gone plans."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import cv2
import numpy as np

from pdf import HandoutOptions, render_handout
from pdf.sample import sample_snapshot
from prescriptions.mapping.sheets import SheetId, server_key, sign, verify


def _plan(clinician, make_patient, make_plan, issue_plan) -> int:  # noqa: ANN001
    return issue_plan(make_plan(make_patient(clinician.clinic_id), start=date(2026, 12, 7)))


def test_sheet_layout_prints_the_contracts_json(app, runner, clinician, make_patient, make_plan,
                                                issue_plan) -> None:  # fmt: skip
    plan_id = _plan(clinician, make_patient, make_plan, issue_plan)
    result = runner.invoke(args=["sheet-layout", str(plan_id), "1", "--paper", "letter"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["page"] == [612.0, 792.0]
    dates = {f["date"] for f in out["fields"]}
    assert dates == {f"2026-12-{d:02d}" for d in range(7, 14)}
    pain = [f["value"] for f in out["fields"] if f["field"] == "pain" and f["date"] == "2026-12-07"]
    assert pain == list(range(11))
    big = runner.invoke(args=["sheet-layout", str(plan_id), "2", "--large-print"])
    assert {f["page_index"] for f in json.loads(big.output)["fields"]} == {0, 1}
    assert runner.invoke(args=["sheet-layout", str(plan_id), "9"]).exit_code != 0
    assert "No plan" in runner.invoke(args=["sheet-layout", "99999", "1"]).output


def test_codes_are_signed_per_clinic(app) -> None:
    with app.app_context():
        key = server_key()
    sheet = SheetId(1, 7, 2, 3, 0)
    code = sign(key, sheet)
    assert verify(key, code) == sheet
    assert verify(key, code.replace("C1.", "C2.", 1)) is None  # another clinic's sheet
    assert verify(key, code.replace("W3", "W4")) is None
    assert verify(b"another server", code) is None


def test_read_sheets_reads_a_printed_handouts_sheets(app, runner, tmp_path, clinician,
                                                     make_patient, make_plan, issue_plan) -> None:  # fmt: skip
    plan_id = _plan(clinician, make_patient, make_plan, issue_plan)
    pdf = tmp_path / "sheets.pdf"
    result = runner.invoke(args=["handout", str(plan_id), "-o", str(pdf), "--log-sheets-only"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["read-sheets", str(pdf), "--json"])
    assert result.exit_code == 0, result.output
    sheets = [json.loads(line) for line in result.output.splitlines()]
    assert [(s["plan"], s["week"]) for s in sheets] == [(plan_id, w) for w in (1, 2, 3, 4, 0)]
    first = sheets[0]
    assert first["revision"] == 1 and first["days"][0]["date"] == "2026-12-07"
    assert all(d["unsure"] == [] and d["pain"] is None for d in first["days"])
    assert "2026-12-07/hold" in first["crops"]
    from pypdf import PdfReader, PdfWriter

    first_page = PdfWriter()  # the human-readable form once, on one page: reading costs time
    first_page.add_page(PdfReader(pdf).pages[0])
    one = tmp_path / "week1.pdf"
    with one.open("wb") as out:
        first_page.write(out)
    human = runner.invoke(args=["read-sheets", str(one)])
    assert f"plan {plan_id}, week 1, revision 1" in human.output


def _sheet_pdf(tmp_path, code: str):  # noqa: ANN001, ANN202
    snap = replace(sample_snapshot(), sheet_codes=((1, 0, code),))
    snap = replace(snap, weeks=snap.weeks[:1])
    path = tmp_path / "one.pdf"
    path.write_bytes(render_handout(snap, HandoutOptions(log_sheets_only=True)))
    return path


def test_foreign_gone_and_unreadable_sheets_exit_1(app, runner, tmp_path) -> None:
    with app.app_context():
        key = server_key()
    foreign = _sheet_pdf(tmp_path, sign(b"some other server", SheetId(1, 1, 1, 1, 0)))
    result = runner.invoke(args=["read-sheets", str(foreign)])
    assert result.exit_code == 1 and "not signed by a clinic on this server" in result.output
    gone = _sheet_pdf(tmp_path, sign(key, SheetId(1, 99999, 1, 1, 0)))
    result = runner.invoke(args=["read-sheets", str(gone)])
    assert result.exit_code == 1 and "plan 99999, which no longer exists" in result.output
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((600, 400), 240, np.uint8))
    result = runner.invoke(args=["read-sheets", str(blank)])
    assert result.exit_code == 1 and "No sheet found" in result.output
