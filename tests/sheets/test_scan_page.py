"""The "Scan returned sheets" page: real printed sheets, marked by hand in software, photographed.

A sheet goes to its plan and week by its signed code; the week's log form opens filled in, with
doubts highlighted and the handwritten cells beside their inputs; nothing is saved until the
therapist saves, and the upload is not kept after that unless the clinic keeps scans.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import corpus
import cv2
import numpy as np
import pytest
import sqlalchemy as sa

from pdf import HandoutOptions, render_handout
from pdf.sample import sample_snapshot
from prescriptions.extensions import db
from prescriptions.mapping.sheets import SheetId, server_key, sign
from prescriptions.models import Clinic, LogEntry, SheetScan, utcnow
from sheets import read_file

DPI = 150
START = date.today() - timedelta(days=14)
BIRO = corpus._Pen(40, DPI / 25.4 * 0.5)  # noqa: SLF001 - the corpus's own pen, a firm biro


def _rasterise(pdf: bytes, first: int = 1, last: int = 1) -> list[np.ndarray]:
    tool = shutil.which("pdftoppm")
    assert tool
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "s.pdf"
        src.write_bytes(pdf)
        subprocess.run([tool, "-r", str(DPI), "-f", str(first), "-l", str(last), "-gray", "-png",
                        str(src), str(Path(tmp) / "p")], check=True, capture_output=True)  # fmt: skip
        files = sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        return [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files]


@pytest.fixture
def plan_id(clinician, make_patient, make_plan, issue_plan) -> int:
    patient = make_patient(clinician.clinic_id, given_name="Wiesława", family_name="Nowak")
    return issue_plan(make_plan(patient, start=START))


@pytest.fixture
def handout(runner, tmp_path):  # noqa: ANN201
    """The log sheets a plan's handout prints, as PDF bytes."""

    def render(plan: int) -> bytes:
        out = tmp_path / f"sheets-{plan}.pdf"
        result = runner.invoke(args=["handout", str(plan), "-o", str(out), "--log-sheets-only"])
        assert result.exit_code == 0, result.output
        return out.read_bytes()

    return render


#: What the patient marked on week 1: day -> (sessions ticked, pain, urgency, leaks).
MARKS = {0: (2, 3, 1, 0), 1: (1, 0, 0, 2), 2: (0, 5, 2, 5)}


def _mark(page: np.ndarray, marks=MARKS, extra=()) -> np.ndarray:  # noqa: ANN001
    """The blank page with ticks in the first boxes and crosses on the chosen circles."""
    read = read_file(cv2.imencode(".png", page)[1].tobytes())[0]
    layout, k = read.layout, DPI / 72
    layer = np.full(page.shape, 255, np.uint8)
    rng = np.random.default_rng(7)
    boxes = {(a.day, a.field, a.index if a.field == "session" else a.value): a.box
             for a in layout.areas}  # fmt: skip
    for day, (ticks, pain, urgency, leaks) in marks.items():
        for i in range(ticks):
            corpus.draw_mark(layer, [v * k for v in boxes[(day, "session", i)]], "tick", BIRO, rng)
        for name, value in (("pain", pain), ("urgency", urgency), ("leaks", leaks)):
            corpus.draw_mark(layer, [v * k for v in boxes[(day, name, value)]], "cross", BIRO, rng)
    for key in extra:
        corpus.draw_mark(layer, [v * k for v in boxes[key]], "cross", BIRO, rng)
    # handwriting in day 0's hold cell, so its picture shows something
    x0, y0, x1, y1 = (int(v * k) for v in next(c.box for c in layout.cells if c.field == "hold"))
    cv2.putText(layer, "12", (x0 + 8, y1 - 6), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 0.8, 30, 2)
    return np.minimum(page, layer)


def _photo(page: np.ndarray, seed: int = 3) -> bytes:
    """A phone photo of the page (tilted, shadowed, JPEG q60), smaller than 12 MP to stay fast."""
    return corpus.photograph(page, np.random.default_rng(seed), size=(2000, 1500))


def _upload(client, data: bytes, name: str = "sheet.jpg"):  # noqa: ANN001, ANN202
    return client.post(
        "/scans", data={"sheet": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def _inputs(html: str) -> dict[str, str]:
    """Every input's value and every select's chosen option, by name."""
    out: dict[str, str] = {}
    for tag in re.finditer(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag[0])
        value = re.search(r'value="([^"]*)"', tag[0])
        if name:
            out[name[1]] = value[1] if value else ""
    for sel in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(
            r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', sel[2]
        )
        out[sel[1]] = (chosen[1] or chosen[2]) if chosen else ""
    return out


def _count(app, model) -> int:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_phone_photo_fills_the_week_and_nothing_is_saved_until_confirmed(
    app, signed_in, plan_id, handout
) -> None:
    page = _rasterise(handout(plan_id))[0]
    response = _upload(signed_in, _photo(_mark(page)))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert re.fullmatch(r"/scans/\d+", response.location)
    assert _count(app, LogEntry) == 0 and _count(app, SheetScan) == 1
    html = signed_in.get(response.location).get_data(as_text=True)
    assert "Check week 1 from the sheet" in html and "Wiesława Nowak" in html
    values = _inputs(html)
    for day, (ticks, pain, urgency, leaks) in MARKS.items():
        assert values[f"days-{day}-sessions_done"] == str(ticks), day
        assert values[f"days-{day}-pain"] == str(pain), day
        assert values[f"days-{day}-urgency"] == str(urgency), day
        if leaks < 5:
            assert values[f"days-{day}-leaks"] == str(leaks), day
    # "5 or more" leaks is filled as 5 and highlighted, for the number the patient may have written
    assert re.search(r'<td class=" unsure"[^>]*>.*?name="days-2-leaks"', html, re.S)
    assert "Five or more on the sheet" in html
    assert values["days-3-sessions_done"] == ""  # a day with nothing marked stays empty
    # each day the sheet filled says so, in its row
    assert html.count('<tr class="from-sheet">') == len(MARKS)
    assert html.count('<span class="muted">from the sheet</span>') == len(MARKS)
    assert "saved before" not in html
    # the handwritten cells are shown as pictures beside their inputs
    assert html.count('src="data:image/png;base64,') >= 14
    assert _count(app, LogEntry) == 0
    saved = signed_in.post(response.location, data=values)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    assert saved.location.startswith(f"/plans/{plan_id}")
    with app.app_context():
        rows = {r.day: r for r in db.session.scalars(sa.select(LogEntry))}
        assert set(rows) == {START + timedelta(days=d) for d in MARKS}
        first = rows[START]
        assert (first.sessions_done, first.pain, first.urgency, first.leaks) == (2, 3, 1, 0)
    assert _count(app, SheetScan) == 0  # the upload is gone once the week is saved


def test_an_unsure_row_is_left_empty_and_highlighted_never_guessed(
    app, signed_in, plan_id, handout
) -> None:
    page = _rasterise(handout(plan_id))[0]
    # two pain circles crossed on day 1: the reader must not pick one
    marked = _mark(page, extra=[(1, "pain", 7)])
    response = _upload(signed_in, cv2.imencode(".png", marked)[1].tobytes(), "sheet.png")
    assert response.status_code == 302
    html = signed_in.get(response.location).get_data(as_text=True)
    values = _inputs(html)
    assert values["days-1-pain"] == ""
    assert re.search(
        r'<td class=" unsure"[^>]*><div class="scan-field">\s*<input[^>]*name="days-1-pain"', html
    )
    assert "the reader was not sure" in html
    assert values["days-0-pain"] == "3"


def test_a_scanned_pdf_files_each_week_and_refuses_the_spare_sheet(
    app, signed_in, plan_id, handout
) -> None:
    response = _upload(signed_in, _pages(handout(plan_id), [0, 1, 4]), "scan.pdf")
    assert response.status_code == 302
    with app.app_context():
        weeks = sorted(s.week for s in db.session.scalars(sa.select(SheetScan)))
    assert weeks == [1, 2]
    listing = signed_in.get("/scans").get_data(as_text=True)
    assert "Page 3: This is the spare sheet" in listing
    assert listing.count("Check and save") == 2
    # saving one week leads to the next page of the same upload
    first = signed_in.get(response.location).get_data(as_text=True)
    done = signed_in.post(response.location, data=_inputs(first))
    assert re.fullmatch(r"/scans/\d+", done.location) and done.location != response.location
    assert _count(app, SheetScan) == 1 and _count(app, LogEntry) == 0  # a blank week saves no day


def _one_sheet(code: str) -> bytes:
    """A one-page PDF of a week-1 sheet carrying the given code (the sample plan's sheet)."""
    snap = replace(sample_snapshot(), weeks=sample_snapshot().weeks[:1])
    return render_handout(replace(snap, sheet_codes=((1, 0, code),)),
                          HandoutOptions(log_sheets_only=True))  # fmt: skip


def test_another_clinics_and_forged_sheets_are_refused(app, signed_in, other_clinic) -> None:
    with app.app_context():
        key = server_key()
    theirs = SheetId(other_clinic["clinic"], other_clinic["plans"][1], 1, 1, 0)
    forged = SheetId(1, 1, 1, 1, 0)
    for code in (sign(key, theirs), sign(b"another server's key", forged)):
        response = _upload(signed_in, _pages(_one_sheet(code), [0]), "sheet.pdf")
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "not printed by this clinic" in html
        assert "Ulrike" not in html and "Outlander" not in html  # nothing of theirs is named
    assert _count(app, SheetScan) == 0


def _pages(pdf: bytes, keep: list[int]) -> bytes:
    """A PDF of some of the pages of another (a short scan keeps the test fast)."""
    from pypdf import PdfReader, PdfWriter

    reader, writer = PdfReader(io.BytesIO(pdf)), PdfWriter()
    for n in keep:
        writer.add_page(reader.pages[n])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _rasterise_png(pdf: bytes) -> bytes:
    return cv2.imencode(".png", _rasterise(pdf)[0])[1].tobytes()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"hello, not a picture", "Upload a photo (JPEG, PNG or HEIC) or a PDF"),
        (b"%PDF-1.4 broken", "This PDF could not be opened."),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "This image could not be opened."),
    ],
)
def test_uploads_are_type_checked_beside_the_field(app, signed_in, data, message) -> None:
    response = _upload(signed_in, data, "x.jpg")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'<div class="error" id="sheet-error"><p>' + re.escape(message), html)
    assert _count(app, SheetScan) == 0


def test_uploads_are_size_checked_beside_the_field(app, signed_in) -> None:
    app.config["SCAN_MAX_BYTES"] = 100 * 1024
    png = cv2.imencode(".png", np.random.default_rng(1).integers(0, 255, (400, 400), np.uint8))[1]
    assert 100 * 1024 < len(png) < 100 * 1024 + 64 * 1024
    response = _upload(signed_in, png.tobytes(), "big.png")
    assert response.status_code == 400
    assert "The file is larger than 100 KB." in response.get_data(as_text=True)
    huge = _upload(signed_in, b"\xff\xd8\xff" + b"\0" * (300 * 1024), "huge.jpg")
    assert huge.status_code == 413
    assert 'id="sheet-error"' in huge.get_data(as_text=True)  # the form again, message beside it


def test_a_picture_without_a_sheet_says_so(app, signed_in) -> None:
    blank = cv2.imencode(".jpg", np.full((600, 400), 235, np.uint8))[1].tobytes()
    response = _upload(signed_in, blank)
    assert response.status_code == 400
    assert "No sheet found" in response.get_data(as_text=True)


def test_a_clinic_that_keeps_scans_keeps_the_page(
    app, signed_in, admin_client, clinician, plan_id, handout
) -> None:
    page = admin_client.get("/admin/clinic").get_data(as_text=True)
    assert "Keep scanned sheets on record" in page
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page)[1]
    settings = {"name": "Harbour", "address": "", "phone": "0123", "email": "", "paper": "a4",
                "footer_text": "", "version": version, "keep_scans": "y"}  # fmt: skip
    assert admin_client.post("/admin/clinic", data=settings).status_code == 302
    with app.app_context():
        assert db.session.get(Clinic, clinician.clinic_id).keep_scans is True
    response = _upload(signed_in, _rasterise_png(handout(plan_id)), "s.png")
    scan_id = int(response.location.rsplit("/", 1)[1])
    page = signed_in.get(response.location).get_data(as_text=True)
    assert signed_in.post(response.location, data=_inputs(page)).status_code == 302
    image = signed_in.get(f"/scans/{scan_id}/page.png")
    assert image.status_code == 200 and image.data[:4] == b"\x89PNG"
    assert image.mimetype == "image/png"
    assert signed_in.get(response.location).status_code == 404  # confirmed: no second save
    assert "Kept on record" in signed_in.get("/scans").get_data(as_text=True)


def test_discarding_and_a_day_old_scan_leave_nothing(app, signed_in, plan_id, handout) -> None:
    png = _rasterise_png(handout(plan_id))
    first = _upload(signed_in, png, "s.png").location
    assert signed_in.get(first + "/page.png").status_code == 404  # this clinic keeps no images
    assert signed_in.post(first + "/discard").status_code == 302
    assert signed_in.get(first).status_code == 404
    _upload(signed_in, png, "s.png")
    with app.app_context():
        db.session.execute(sa.update(SheetScan).values(created_at=utcnow() - timedelta(days=2)))
        db.session.commit()
    _upload(signed_in, png, "s.png")  # the next upload purges the stale one
    assert _count(app, SheetScan) == 1


def test_the_form_is_filled_from_the_reading_as_the_sheet_says() -> None:
    """Unsure without an offer stays empty; an offer (a re-mark beside a scribble) is kept,
    highlighted; five-or-more leaks is highlighted; an unmarked day stays empty."""
    from prescriptions.scans.reading import filled_days

    days = [START + timedelta(days=d) for d in range(7)]
    reading = {
        "days": [
            {"date": days[0].isoformat(), "sessions": [True, True], "pain": None, "urgency": 2,
             "leaks": 5, "unsure": ["pain", "urgency"]},
            {"date": days[1].isoformat(), "sessions": [False, False], "pain": None,
             "urgency": None, "leaks": None, "unsure": []},
        ],
        "crops": {f"{days[1].isoformat()}/hold": "AAAA"},
    }  # fmt: skip
    first, second, *rest = filled_days(reading, days)
    assert first.values == {"sessions_done": 2, "urgency": 2, "leaks": 5}
    assert set(first.unsure) == {"pain", "urgency", "leaks"} and first.read
    assert "Five or more" in first.notes["leaks"]
    assert not second.read and second.values == {}
    assert second.images == {"longest_hold_s": "data:image/png;base64,AAAA"}
    assert all(not d.read for d in rest)
