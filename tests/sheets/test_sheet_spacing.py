"""Room round every answer area: circles a shaky hand can mark one at a time, nothing crowded."""

from __future__ import annotations

import math
import shutil
import subprocess
from datetime import date
from io import BytesIO
from pathlib import Path

import corpus
import cv2
import numpy as np
import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from pdf.companion import SHEET_QR
from pdf.fonts import register_fonts
from pdf.logsheet import draw_log_sheet
from pdf.sheetlayout import (
    LAYOUT_VERSION,
    MM,
    Area,
    SheetLayout,
    SheetSpec,
    parse_tag,
    sheet_layout,
    spacing,
)
from pdf.styles import handout_styles
from sheets import read_file

Box = tuple[float, float, float, float]

#: The clear space wanted between two circles side by side, and to the nearest circle of
#: another row (a row above or below), in millimetres.
ROW_GAP = {False: 2.0, True: 3.0}
OTHER_ROW_GAP = {False: 2.0, True: 2.5}

VARIANTS = [(p, lg) for p in ("a4", "letter") for lg in (False, True)]


def _specs(paper: str, large: bool) -> list[SheetSpec]:
    return [
        SheetSpec(paper, large, n, starts, page)
        for n in (0, 1, 3, 6, 10, 99)
        for starts in (date(2026, 12, 7), None)
        for page in range(2 if large else 1)
    ]


def _centre(a: Area) -> tuple[float, float]:
    return (a.box[0] + a.box[2]) / 2, (a.box[1] + a.box[3]) / 2


def _circle_gaps(lay: SheetLayout) -> tuple[float, float]:
    """The narrowest clear space between neighbours in a row, and between circles of two rows."""
    circles = [a for a in lay.areas if a.shape == "circle"]
    in_row = other_row = math.inf
    for i, a in enumerate(circles):
        for b in circles[i + 1 :]:
            radii = (a.box[2] - a.box[0] + b.box[2] - b.box[0]) / 2
            gap = math.dist(_centre(a), _centre(b)) - radii
            if (a.day, a.field) == (b.day, b.field):
                in_row = min(in_row, gap)
            else:
                other_row = min(other_row, gap)
    return in_row, other_row


def _apart(a: Box, b: Box) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def _label_boxes(lay: SheetLayout) -> list[tuple[str, Box]]:
    """Where each printed caption inside a day's row puts its letters, as the renderer sets it."""
    st = handout_styles(lay.spec.large)
    size = st.sheet_small if lay.heading else st.sheet_size
    out = []
    for row in lay.rows:
        for text, x, baseline in row.labels:
            w = stringWidth(text, st.fonts.regular, size)
            if text == "s" and lay.heading:  # set flush right against x
                x -= w
            out.append((text, (x, baseline - size * 0.76, x + w, baseline + size * 0.24)))
    return out


@pytest.mark.parametrize(("paper", "large"), VARIANTS)
def test_circles_leave_room_for_a_shaky_hand(paper: str, large: bool) -> None:
    for spec in _specs(paper, large):
        in_row, other_row = _circle_gaps(sheet_layout(spec))
        assert in_row >= ROW_GAP[large] * MM - 1e-6, (spec, in_row / MM)
        assert other_row >= OTHER_ROW_GAP[large] * MM - 1e-6, (spec, other_row / MM)


@pytest.mark.parametrize(("paper", "large"), VARIANTS)
def test_no_answer_area_touches_another_or_the_margins_marks_codes_and_captions(
    paper: str, large: bool
) -> None:
    for spec in _specs(paper, large):
        lay = sheet_layout(spec)
        left, top, right, bottom = lay.frame
        qr = (right - SHEET_QR, bottom - SHEET_QR, right, bottom)  # the companion link's code
        fixed = [("mark", m) for m in lay.marks] + [("code", lay.code), ("qr", qr)]
        fixed += [(f"cell {c.field}", c.box) for c in lay.cells] + _label_boxes(lay)
        boxes = [a.box for a in lay.areas]
        for i, box in enumerate(boxes):
            assert left <= box[0] and box[2] <= right and top <= box[1] and box[3] <= bottom
            assert lay.head[3] <= box[1] and box[3] <= lay.foot[1], (spec, box)
            for name, other in fixed:
                assert _apart(box, other), (spec, lay.areas[i], name)
            for other in boxes[i + 1 :]:
                assert _apart(box, other), (spec, box, other)


def test_large_print_keeps_two_pages_a_week_and_its_type_size() -> None:
    for paper in ("a4", "letter"):
        layouts = [sheet_layout(SheetSpec(paper, True, 3, date(2026, 12, 7), p)) for p in (0, 1)]
        assert sorted(r.day for lay in layouts for r in lay.rows) == list(range(7))
        assert all(lay.digit_size >= 16 and lay.circle >= 9 * MM for lay in layouts)


@pytest.mark.parametrize(("paper", "large"), VARIANTS)
def test_wider_circles_leave_the_tick_boxes_their_size(paper: str, large: bool) -> None:
    """Up to six sessions a day, each tick box is as large as it was with the tighter circles."""
    for sessions in range(1, 7):
        sides = [
            next(a.box[2] - a.box[0] for a in sheet_layout(spec).areas if a.field == "session")
            for spec in (SheetSpec(paper, large, sessions, None, 0, v) for v in ("S1", "S2"))
        ]
        assert sides[1] >= sides[0] - 1e-6, (sessions, [s / MM for s in sides])


def test_new_sheets_print_this_edition_and_sheets_printed_before_keep_theirs() -> None:
    spec = SheetSpec("a4", True, 3, date(2026, 12, 7), 1)
    assert spec.tag().startswith(LAYOUT_VERSION) and parse_tag(spec.tag()) == spec
    old = parse_tag("S1AL0320261207P1")
    assert old is not None and old.version == "S1"
    assert round(spacing(old).gap, 2) == 1.2 and spacing(spec).gap >= 3
    assert sheet_layout(old).areas != sheet_layout(spec).areas
    with pytest.raises(ValueError, match="version"):
        SheetSpec("a4", True, 3, None, 0, "S9")


def _printed_page(spec: SheetSpec, dpi: int, tmp: Path) -> np.ndarray:
    """One sheet page drawn on its own at `spec`'s edition, rasterised in grey."""
    snap = corpus._snapshot(spec.sessions)
    week = next(w for w in snap.weeks if w.starts == spec.starts)
    lay = sheet_layout(spec)
    register_fonts()
    buf = BytesIO()
    canv = Canvas(buf, pagesize=lay.page, invariant=1)
    draw_log_sheet(canv, snap, week, lay, handout_styles(spec.large))
    canv.showPage()
    canv.save()
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is needed"
    (tmp / "s.pdf").write_bytes(buf.getvalue())
    subprocess.run(
        [pdftoppm, "-r", str(dpi), "-gray", "-png", "-singlefile", tmp / "s.pdf", tmp / "s"],
        check=True,
        capture_output=True,
    )
    return cv2.imread(str(tmp / "s.png"), cv2.IMREAD_GRAYSCALE)


def test_a_sheet_printed_with_the_old_spacing_still_reads_right(tmp_path: Path) -> None:
    """A patient may return a sheet printed before the spacing changed: its code names its
    edition, and the reader looks for the marks where that edition put the circles."""
    spec = SheetSpec("a4", True, 3, date(2025, 3, 3), 0, "S1")
    dpi, k = 150, 150 / 72
    page = _printed_page(spec, dpi, tmp_path)
    lay = sheet_layout(spec)
    rng = np.random.default_rng(4)
    layer = np.full(page.shape, 255, np.uint8)
    pen = corpus._Pen(40, dpi / 25.4 * 0.5)
    # Values whose circles moved most between the editions: high pain and leaks, low urgency.
    want = {}
    for r in lay.rows:
        want |= {(r.day, "pain"): 8 + r.day % 3, (r.day, "leaks"): 4 + r.day % 2}
        want[r.day, "urgency"] = r.day % 2
    for a in lay.areas:
        if a.field != "session" and want[a.day, a.field] == a.value:
            corpus.draw_mark(layer, tuple(v * k for v in a.box), "cross", pen, rng)
    (read,) = read_file(cv2.imencode(".png", np.minimum(page, layer))[1].tobytes())
    assert read.spec == spec
    got = {(d.day, f): getattr(d, f) for d in read.days for f in ("pain", "urgency", "leaks")}
    assert got == want
