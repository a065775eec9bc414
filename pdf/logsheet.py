"""The weekly logging sheet, drawn straight on the canvas from the positions in pdf.sheetlayout."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import segno
from reportlab.lib.colors import Color
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.pathobject import PDFPathObject
from reportlab.platypus import Flowable

from pdf.companion import SHEET_QR, draw_sheet_qr
from pdf.sheetlayout import (
    MM,
    SCALE_LABELS,
    Area,
    SheetLayout,
    SheetSpec,
    aruco_cells,
    pages_per_week,
    question_lines,
    sheet_layout,
)
from pdf.sheetlayout import session_boxes as _layout_boxes
from pdf.snapshot import HandoutSnapshot, WeekPlan
from pdf.styles import ACCENT, GRID, INK, MUTED, RULE, TINT, HandoutStyles
from pdf.text import date_range, day_name, dose_sentence, fit, one_line, short_date, wrap

LEGEND = (
    "Cross one circle in each row. Urgency (a sudden, strong need to pass urine): 0 none to "
    "3 severe. Pain: 0 none to 10 the worst you can imagine. Changed your mind? Fill in the "
    "wrong circle and cross the right one."
)
BOLD, PLAIN = True, False
BLACK = Color(0, 0, 0)
NO_CODE = "-"


@dataclass(frozen=True, slots=True)
class Box:
    """One tick box: lower-left corner and side, relative to the cell it sits in."""

    x: float
    y: float
    size: float


def session_boxes(count: int, width: float, height: float, preferred: float) -> list[Box]:
    """Exactly `count` square tick boxes in a cell (lower-left origin), as the layout has them."""
    return [
        Box(x=x, y=height - y - s, size=s)
        for x, y, s in _layout_boxes(count, width, height, preferred)
    ]


def code_text(snap: HandoutSnapshot, week: int, spec: SheetSpec) -> str:
    """What the sheet's QR code holds: the app's signed code, then the geometry tag."""
    signed = next((c for w, p, c in snap.sheet_codes if w == week and p == spec.page), NO_CODE)
    return f"{signed or NO_CODE}/{spec.tag()}"


def log_sheets(snap: HandoutSnapshot, st: HandoutStyles, paper: str) -> list[Flowable]:
    """One flowable per page: every week's sheet, then one spare, undated sheet."""
    out: list[Flowable] = []
    weeks: list[WeekPlan | None] = [*snap.weeks]
    if snap.weeks:
        weeks.append(None)
    for week in weeks:
        sessions = week.sessions_per_day if week else max(w.sessions_per_day for w in snap.weeks)
        for page in range(pages_per_week(st.large)):
            spec = SheetSpec(
                paper, st.large, min(sessions, 99), week.starts if week else None, page
            )
            out.append(LogSheet(snap, week, spec, st))
    return out


class LogSheet(Flowable):
    """One page of a week's logging sheet, filling the whole frame.

    `plain = True` draws every circle, digit, marker and code afresh where it appears, with no
    cache and no form (the same picture; the bench's plain peer build and a test use it).
    """

    plain = False

    def __init__(
        self, snap: HandoutSnapshot, week: WeekPlan | None, spec: SheetSpec, styles: HandoutStyles
    ) -> None:
        super().__init__()
        self.snap = snap
        self.week = week
        self.spec = spec
        self.styles = styles
        self.width = self.height = 0.0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """Claim the whole frame; the sheet always starts on a fresh page."""
        self.width, self.height = availWidth, availHeight
        return availWidth, availHeight

    def draw(self) -> None:
        """Draw the sheet in page coordinates, where the layout puts everything."""
        canv = self.canv
        x, y = canv.absolutePosition(0, 0)
        canv.saveState()
        canv.translate(-x, -y)
        lay = sheet_layout(self.spec)
        draw_log_sheet(canv, self.snap, self.week, lay, self.styles, plain=self.plain)
        canv.restoreState()


def _intro(
    week: WeekPlan | None, st: HandoutStyles, width: float, full: bool, named: int | None = None
) -> list[tuple[str, bool]]:
    """The lines in the box above the grid: the week's doses in full, or shortened.

    `named` doses at most are given; the rest are listed by name on a line that says where
    their doses are, so that no exercise is ever left off the reminder unsaid.
    """
    size, fonts = st.sheet_size, st.fonts
    if week is None:
        return [
            (line, PLAIN)
            for line in wrap(
                "A spare sheet, for a week you repeat or a sheet that gets lost. "
                "Write the dates in yourself.",
                fonts.regular,
                size,
                width,
            )
        ]
    lines: list[tuple[str, bool]] = []
    if week.doses:
        lines.append(("This week, one session is:", BOLD))
        bullet_w = width - size * 1.2
        given = week.doses if named is None else week.doses[:named]
        for dose in given:
            # The note is in the dose grid; here it would crowd the reminder (and be cut short).
            sentence = dose_sentence(dose, with_note=False)
            wrapped = wrap(sentence, fonts.regular, size, bullet_w, max_lines=2 if full else 1)
            lines += [(("• " if i == 0 else "   ") + line, PLAIN) for i, line in enumerate(wrapped)]
        rest = week.doses[len(given) :]
        if rest:
            names = ", ".join(one_line(dose.exercise_name) for dose in rest)
            also = wrap(f"• Also {names}: see “Week by week” for how many.", fonts.regular,
                        size, width)  # fmt: skip
            if len(also) > 2:  # too many names: how many, and where they are
                more = "exercise" if len(rest) == 1 else "exercises"
                also = wrap(f"• {len(rest)} more {more}: see “Week by week”.", fonts.regular,
                            size, width)  # fmt: skip
            lines += [(line, PLAIN) for line in also]
    n = week.sessions_per_day
    if n > 0:
        plural = "session" if n == 1 else "sessions"
        sessions = f"Do {n} {plural} a day, and tick a box for each one."
    else:
        sessions = "No sessions are planned for this week."
    lines += [(line, BOLD) for line in wrap(sessions, fonts.bold, size, width)]
    return lines


def _split_chars(text: str, font: str, size: float, width: float) -> list[str]:
    """Break text into lines no wider than width, between words or, if need be, inside them."""
    lines: list[str] = []
    current = ""
    for ch in text:
        if current and stringWidth(current + ch, font, size) > width:
            cut = current.rfind(" ")
            if cut > 0:
                lines.append(current[:cut])
                current = current[cut + 1 :]
            else:
                lines.append(current)
                current = ""
        current += ch
    return [*lines, current] if current else lines


def draw_log_sheet(
    canv: Canvas,
    snap: HandoutSnapshot,
    week: WeekPlan | None,
    lay: SheetLayout,
    st: HandoutStyles,
    plain: bool = False,
) -> None:
    """Draw one page of a week's sheet; the canvas works in page coordinates.

    The rows of circles and the corner markers are forms drawn once per document, and each QR
    code is encoded once per process; `plain` draws them all afresh instead (the same picture).
    """
    h = lay.page[1]
    fonts, size = st.fonts, st.sheet_size
    text = _TextRun(canv, h)
    left, top, right, _ = lay.frame
    width = right - left
    line_h = size * 1.35

    # Title, dates, name and chart number beside the code.
    beside = width - (lay.code[2] - lay.code[0]) - 4 * MM
    first = lay.spec.page == 0
    if week is None:
        title = "Spare log sheet"
        dates = "Dates: from ______________ to ______________"
    else:
        title = f"Week {week.number} log sheet" + ("" if first else ", continued")
        dates = date_range(week.starts, week.ends)
    # Beside the title and after the name when they fit: a line or two more for the doses.
    gap = size
    y = top + st.sheet_title_size
    title_w = stringWidth(title, fonts.bold, st.sheet_title_size)
    text.put(left, y, fit(title, fonts.bold, st.sheet_title_size, beside), fonts.bold,
             st.sheet_title_size, ACCENT)  # fmt: skip
    dates_beside = first and title_w + gap + stringWidth(dates, fonts.regular, size) <= beside
    if dates_beside:
        text.put(left + title_w + gap, y, dates, fonts.regular, size, INK)
    y += st.sheet_title_size * 0.25 + line_h * 0.9
    if first and not dates_beside:
        text.put(left, y, fit(dates, fonts.regular, size, beside), fonts.regular, size, INK)
        y += line_h
    chart = one_line(snap.chart_number)
    name = one_line(snap.patient_full_name)
    name_w = stringWidth(name, fonts.regular, size)
    labelled = f"Chart {chart}"
    if not chart:
        text.put(left, y, fit(name, fonts.regular, size, beside), fonts.regular, size, INK)
    elif not first and stringWidth(f"{name}, chart {chart}", fonts.regular, size) <= beside:
        text.put(left, y, f"{name}, chart {chart}", fonts.regular, size, INK)
    elif first and name_w + gap + stringWidth(labelled, fonts.bold, size) <= beside:
        text.put(left, y, name, fonts.regular, size, INK)
        text.put(left + name_w + gap, y, labelled, fonts.bold, size, INK)
    else:
        text.put(left, y, fit(name, fonts.regular, size, beside), fonts.regular, size, INK)
        # in full, over more lines if need be: staff file loose sheets by it
        for part in _split_chars(labelled, fonts.bold, size, beside):
            y += line_h
            text.put(left, y, part, fonts.bold, size, INK)
    y = max(y + size * 0.6, lay.code[3] + 2 * MM)

    # What this week's sessions are, in a tinted box (first page only).
    if first:
        pad = size * 0.5
        room = lay.head[3] - y - 2 * MM
        # The doses in full, in closer lines if need be, then shortened to a line each, then
        # the last ones named only (with where to find them), never left off unsaid.
        doses = len(week.doses) if week else 0
        tries = [(True, None), (False, None)] + [(False, n) for n in range(doses - 1, -1, -1)]
        for full, named in tries:
            intro = _intro(week, st, width - size, full=full, named=named)
            for tighter in (1.35, 1.22, 1.12):
                line_h = size * tighter
                pad = size * (0.5 if tighter > 1.3 else 0.3)
                if len(intro) * line_h + pad * 2 <= room:
                    break
            if len(intro) * line_h + pad * 2 <= room:
                break
        while intro and len(intro) * line_h + pad * 2 > room:  # not even the names fit
            intro = intro[:-2] + intro[-1:] if len(intro) > 1 else []
        if intro:
            box_h = len(intro) * line_h + pad * 2
            canv.setFillColor(TINT)
            canv.roundRect(left, h - y - box_h, width, box_h, 4, stroke=0, fill=1)
            ty = y + pad + size
            for line, bold in intro:
                text.put(left + pad, ty, line, fonts.bold if bold else fonts.regular, size, INK)
                ty += line_h

    _grid(canv, text, lay, st, week)
    if plain:
        _plain_scales(canv, text, lay, st)
    else:
        _scales(canv, lay, st)
    _foot(canv, text, lay, st, qr=bool(snap.companion_url))
    canv.setFillColor(BLACK)
    if plain:
        canv.drawPath(_marks_path(lay.spec.variant, lay.marks, lay.page[1]), stroke=0, fill=1)
    else:
        _marks(canv, lay)
    payload = code_text(snap, week.number if week else 0, lay.spec)
    if plain:
        canv.drawPath(_code_path(payload, lay.code, lay.page[1]), stroke=0, fill=1)
    else:
        _code(canv, lay, payload)
    if snap.companion_url:  # the patient's phone link, clear of the reader's code and marks
        draw_sheet_qr(canv, snap.companion_url, lay.foot, h)
    text.draw()


def _grid(
    canv: Canvas, text: _TextRun, lay: SheetLayout, st: HandoutStyles, week: WeekPlan | None
) -> None:
    """Column headings, the day labels and the rules between days and cells."""
    h = lay.page[1]
    fonts, size, small = st.fonts, st.sheet_size, st.sheet_small
    left, _, right, _ = lay.frame
    lines: list[tuple[float, float, float, float]] = []
    thin: list[tuple[float, float, float, float]] = []
    if lay.heading:
        x0, y0, x1, y1 = lay.heading
        canv.setFillColor(TINT)
        canv.rect(x0, h - y1, x1 - x0, y1 - y0, stroke=0, fill=1)
        for label, cx0, cx1 in lay.columns:
            hl = wrap(label, fonts.bold, small, cx1 - cx0 - 3 * MM, max_lines=2)
            ly = y0 + (y1 - y0 - len(hl) * small * 1.2) / 2 + small * 0.95
            for part in hl:
                text.put(cx0 + 1.5 * MM, ly, part, fonts.bold, small, INK)
                ly += small * 1.2
        lines.append((x0, y0, x1, y0))
        bottom = lay.rows[-1].box[3]
        lines += [(lay.columns[1][1], y0, lay.columns[1][1], bottom), (x0, y0, x0, bottom)]
        for _, cx0, _ in lay.columns[2:]:
            lines.append((cx0, y0, cx0, y1))
            lines += [(cx0, r.bands[0][1], cx0, r.bands[0][3]) for r in lay.rows]
        lines.append((x1, y0, x1, lay.rows[-1].box[3]))
    for row in lay.rows:
        x0, y0, x1, y1 = row.box
        day = lay.day_date(row.day)
        lx = row.label[0] + (1.5 * MM if lay.heading else 0)
        if day is not None:
            text.put(lx, y0 + size * 1.3, day_name(day), fonts.bold, size, INK)
            text.put(lx, y0 + size * 2.6, short_date(day), fonts.regular, size, INK)
        else:
            text.put(lx, y0 + size * 1.3, "Date:", fonts.bold, size, INK)
            thin.append((lx, y0 + size * 3.2, row.label[2] - 3 * MM, y0 + size * 3.2))
        for label, x, baseline in row.labels:
            colour = MUTED
            if label == "s":
                text.put(x, baseline, label, fonts.regular, small if lay.heading else size, colour,
                         right=bool(lay.heading))  # fmt: skip
            elif lay.heading:
                text.put(x, baseline, label, fonts.regular, small, colour)
            else:
                text.put(x, baseline, label, fonts.regular, size, INK)
        if lay.heading:
            lines.append((x0, y1, x1, y1))
            mid = row.bands[0][3]
            thin.append((row.bands[0][0], mid, x1, mid))
            for cell in (c for c in lay.cells if c.day == row.day):
                if cell.field == "trigger":
                    thin.append((cell.box[0], cell.box[1], cell.box[0], cell.box[3]))
        else:
            # A rule above each day; a writing box for the hold and a line for notes.
            lines.append((x0, y0 - 1.5 * MM, x1, y0 - 1.5 * MM))
            for cell in (c for c in lay.cells if c.day == row.day):
                cx0, cy0, cx1, cy1 = cell.box
                if cell.field == "hold":
                    a, b = cy0 + 1 * MM, cy1 - 1 * MM
                    thin += [(cx0, a, cx1, a), (cx1, a, cx1, b), (cx0, b, cx1, b), (cx0, a, cx0, b)]
                else:
                    start = cx0 + (16 if cell.field == "notes" else 28) * MM
                    thin.append((start, cy1 - 1.5 * MM, cx1, cy1 - 1.5 * MM))
    if lay.heading:
        lines.append((left, lay.rows[0].box[1], right, lay.rows[0].box[1]))
    canv.setStrokeColor(RULE)
    canv.setLineWidth(0.5)
    canv.lines([(a, h - b, c, h - d) for a, b, c, d in thin])
    canv.setStrokeColor(GRID)
    canv.setLineWidth(1.0)
    canv.lines([(a, h - b, c, h - d) for a, b, c, d in lines])


def _scales(canv: Canvas, lay: SheetLayout, st: HandoutStyles) -> None:
    """The tick boxes, and each row of numbered circles placed as a form."""
    h = lay.page[1]
    boxes = canv.beginPath()
    for a in lay.areas:
        if a.field == "session":
            x0, y0, x1, y1 = a.box
            boxes.rect(x0, h - y1, x1 - x0, y1 - y0)
    for x0, y0, name, shape in _row_forms(lay.spec, lay.digit_size, st.fonts.regular):
        if not canv.hasForm(name):
            _define_row_form(canv, name, shape, lay.digit_size, st.fonts.regular)
        canv.saveState()
        canv.translate(x0, h - y0)
        canv.doForm(name)
        canv.restoreState()
    canv.setStrokeColor(INK)
    canv.setLineWidth(1.0)
    canv.drawPath(boxes, stroke=1, fill=0)


RowShape = tuple[tuple[str, int | None, float, float, float], ...]


@lru_cache(maxsize=256)
def _row_forms(
    spec: SheetSpec, digit_size: float, font: str
) -> tuple[tuple[float, float, str, RowShape], ...]:
    """Each row of circles of a layout: its origin (the first circle's top left), the name of
    its form and its shape. Rows with the same shape (every day's pain row, say) share a form."""
    rows: dict[tuple[int, str], list[Area]] = {}
    for a in sheet_layout(spec).areas:
        if a.field != "session":
            rows.setdefault((a.day, a.field), []).append(a)
    out = []
    for row in rows.values():
        x0, y0 = row[0].box[0], row[0].box[1]
        shape = tuple(
            (a.field, a.value, round(a.box[0] - x0, 3), round(a.box[1] - y0, 3),
             round(a.box[2] - a.box[0], 3))
            for a in row
        )  # fmt: skip
        key = repr((shape, digit_size, font)).encode()
        name = "floorplan-row-" + hashlib.blake2b(key, digest_size=8).hexdigest()
        out.append((x0, y0, name, shape))
    return tuple(out)


def _define_row_form(
    canv: Canvas, name: str, shape: RowShape, digit_size: float, font: str
) -> None:
    """Draw one row of circles and their digits into the document as a form."""
    right = max(dx + d for _, _, dx, _, d in shape)
    low = max(dy + d for _, _, _, dy, d in shape)
    canv.beginForm(name, -2, -low - 2, right + 2, 2)
    circles = canv.beginPath()
    digits = canv.beginText()
    digits.setFont(font, digit_size)
    digits.setFillColor(MUTED)
    for field, value, dx, dy, d in shape:
        r = d / 2
        circles.circle(dx + r, -dy - r, r)
        tw = stringWidth(_digit(field, value), font, digit_size)
        digits.setTextOrigin(dx + r - tw / 2, -(dy + r + digit_size * 0.36))
        digits.textOut(_digit(field, value))
    canv.setStrokeColor(GRID)
    canv.setLineWidth(0.9)
    canv.drawPath(circles, stroke=1, fill=0)
    canv.drawText(digits)
    canv.endForm()


def _digit(field: str, value: int | None) -> str:
    label = SCALE_LABELS.get(field, ())
    return label[value] if value is not None and value < len(label) else str(value)


def _plain_scales(canv: Canvas, text: _TextRun, lay: SheetLayout, st: HandoutStyles) -> None:
    """The tick boxes and every circle and digit drawn where it is, with no form."""
    h = lay.page[1]
    fonts = st.fonts
    boxes = canv.beginPath()
    circles = canv.beginPath()
    for a in lay.areas:
        x0, y0, x1, y1 = a.box
        if a.field == "session":
            boxes.rect(x0, h - y1, x1 - x0, y1 - y0)
            continue
        r = (x1 - x0) / 2
        circles.circle(x0 + r, h - y0 - r, r)
        digit = _digit(a.field, a.value)
        ds = lay.digit_size
        tw = stringWidth(digit, fonts.regular, ds)
        text.put(x0 + r - tw / 2, y0 + r + ds * 0.36, digit, fonts.regular, ds, MUTED)
    canv.setStrokeColor(GRID)
    canv.setLineWidth(0.9)
    canv.drawPath(circles, stroke=1, fill=0)
    canv.setStrokeColor(INK)
    canv.setLineWidth(1.0)
    canv.drawPath(boxes, stroke=1, fill=0)


def _foot(
    canv: Canvas, text: _TextRun, lay: SheetLayout, st: HandoutStyles, qr: bool = False
) -> None:
    """How to mark and score (first page), then room for questions (last page)."""
    h = lay.page[1]
    fonts, size = st.fonts, st.sheet_size
    x0, y, x1, _ = lay.foot
    if qr:  # the companion QR takes the foot's bottom-right corner
        x1 -= SHEET_QR + 3 * MM
    width = x1 - x0
    last = lay.spec.page == pages_per_week(lay.spec.large) - 1
    legend_size = size if lay.spec.large else st.sheet_small
    if lay.spec.page == 0:
        y += size * 0.6
        for line in wrap(LEGEND, fonts.regular, legend_size, width, max_lines=4 if st.large else 3):
            y += legend_size * 1.3
            text.put(x0, y, line, fonts.regular, legend_size, MUTED)
    if last:
        questions = question_lines(lay.spec)
        gap = size * 2.1
        y += size * 1.9
        text.put(x0, y, "Questions for your next visit", fonts.bold, size, INK)
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.6)
        canv.lines(
            [(x0, h - (y + gap * (i + 1)), x1, h - (y + gap * (i + 1))) for i in range(questions)]
        )


def _marks_path(variant: int, marks: tuple, page_h: float) -> PDFPathObject:
    """The four corner markers the reader straightens the page by, as one path."""
    path = PDFPathObject()
    for corner, (x0, y0, x1, _) in enumerate(marks):
        cell = (x1 - x0) / 6
        for c, r in aruco_cells(variant * 4 + corner):
            _square(path, x0 + c * cell, page_h - y0 - (r + 1) * cell, cell)
    return path


def _module_runs(payload: str) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """A QR code's size in modules and its dark runs: (row, first column, length)."""
    matrix = segno.make(payload, error="m", micro=False).matrix
    n = len(matrix)
    runs = []
    for r, row in enumerate(matrix):
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return n, tuple(runs)


# Encoding is the slow part and its result is read-only, so a process keeps it by payload:
# the same plan printed again draws the same codes without encoding them again.
_cached_module_runs = lru_cache(maxsize=256)(_module_runs)


def _code_path(payload: str, box: tuple, page_h: float) -> PDFPathObject:
    """The sheet's QR code, encoded afresh, as one path of module runs (fill it black)."""
    n, runs = _module_runs(payload)
    x0, y0, x1, _ = box
    cell = (x1 - x0) / n
    path = PDFPathObject()
    for r, start, length in runs:
        _run(path, x0 + start * cell, page_h - y0 - (r + 1) * cell, length * cell, cell)
    return path


def _code(canv: Canvas, lay: SheetLayout, payload: str) -> None:
    """The sheet's QR code as a form: rectangles of module runs, placed at the code's box."""
    n, runs = _cached_module_runs(payload)
    x0, y0, x1, _ = lay.code
    side = x1 - x0
    key = repr((payload, round(side, 3))).encode()
    name = "floorplan-code-" + hashlib.blake2b(key, digest_size=8).hexdigest()
    if not canv.hasForm(name):
        cell = side / n
        canv.beginForm(name, 0, -side, side, 0)
        path = canv.beginPath()
        for r, start, length in runs:
            path.rect(start * cell, -(r + 1) * cell, length * cell, cell)
        canv.setFillColor(BLACK)
        canv.drawPath(path, stroke=0, fill=1)
        canv.endForm()
    canv.saveState()
    canv.translate(x0, lay.page[1] - y0)
    canv.doForm(name)
    canv.restoreState()


def _marks(canv: Canvas, lay: SheetLayout) -> None:
    """The four corner markers, each a form drawn once per document and placed on every sheet."""
    h = lay.page[1]
    for corner, (x0, y0, x1, _) in enumerate(lay.marks):
        marker = lay.spec.variant * 4 + corner
        cell = (x1 - x0) / 6
        name = f"floorplan-marker-{marker}-{round(cell * 1000)}"
        if not canv.hasForm(name):
            canv.beginForm(name, 0, -6 * cell, 6 * cell, 0)
            path = canv.beginPath()
            for c, r in aruco_cells(marker):
                path.rect(c * cell, -(r + 1) * cell, cell, cell)
            canv.setFillColor(BLACK)
            canv.drawPath(path, stroke=0, fill=1)
            canv.endForm()
        canv.saveState()
        canv.translate(x0, h - y0)
        canv.doForm(name)
        canv.restoreState()


def _square(path: PDFPathObject, x: float, y: float, side: float) -> None:
    _run(path, x, y, side, side)


def _run(path: PDFPathObject, x: float, y: float, width: float, height: float) -> None:
    # Four lines and a close rather than "re": in a page's own content, square "re" rectangles
    # are the tick boxes alone (tests count them); forms use "re".
    path.moveTo(x, y)
    path.lineTo(x + width, y)
    path.lineTo(x + width, y + height)
    path.lineTo(x, y + height)
    path.close()


class _TextRun:
    """All of a sheet's words in one text object, placed by top-left page coordinates."""

    def __init__(self, canv: Canvas, page_h: float) -> None:
        self.canv = canv
        self.h = page_h
        self.obj = canv.beginText()
        self.font: tuple[str, float] | None = None
        self.color: Color | None = None

    def put(
        self,
        x: float,
        y: float,
        text: str,
        font: str,
        size: float,
        color: Color,
        right: bool = False,
    ) -> None:
        """Place one string with its baseline at y (from the top); right=True makes x its end."""
        if right:
            x -= stringWidth(text, font, size)
        if self.font != (font, size):
            self.obj.setFont(font, size)
            self.font = (font, size)
        if self.color is not color:
            self.obj.setFillColor(color)
            self.color = color
        self.obj.setTextOrigin(x, self.h - y)
        self.obj.textOut(text)

    def draw(self) -> None:
        """Put the text on the page, above the grid."""
        self.canv.drawText(self.obj)
