"""The weekly logging sheet, drawn straight on the canvas: a fixed grid needs no text flow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from reportlab.lib.colors import Color
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from pdf.snapshot import HandoutSnapshot, WeekPlan
from pdf.styles import ACCENT, GRID, INK, MUTED, RULE, TINT, HandoutStyles
from pdf.text import date_range, day_name, dose_sentence, fit, one_line, short_date, wrap

#: Column shares of the grid: day, sessions, longest hold, leaks, urgency, pain.
COLUMNS = (0.14, 0.27, 0.15, 0.14, 0.15, 0.15)
HEADINGS = (
    "Day",
    "Sessions done: tick a box for each",
    "Longest hold in seconds",
    "Leaks: how many",
    "Urgency 0 to 3",
    "Pain 0 to 10",
)
LEGEND = (
    "Urgency (a sudden, strong need to pass urine): 0 none, 1 mild, 2 moderate, 3 severe.  "
    "Pain: 0 no pain, up to 10 the worst pain you can imagine."
)
BOLD, PLAIN = True, False


@dataclass(frozen=True, slots=True)
class Box:
    """One tick box: lower-left corner and side, relative to the cell it sits in."""

    x: float
    y: float
    size: float


def session_boxes(count: int, width: float, height: float, preferred: float) -> list[Box]:
    """Lay out exactly `count` square tick boxes in a cell, on more lines if they need them."""
    if count <= 0:
        return []
    size = preferred
    while True:
        gap = size * 0.5
        per_line = max(1, int((width + gap) // (size + gap)))
        lines = -(-count // per_line)
        if lines * size + (lines - 1) * gap <= height or size <= 0.5:
            break
        size *= 0.9
    block_h = lines * size + (lines - 1) * gap
    top = (height + block_h) / 2
    return [
        Box(
            x=(i % per_line) * (size + gap),
            y=top - (i // per_line + 1) * size - (i // per_line) * gap,
            size=size,
        )
        for i in range(count)
    ]


def _intro(week: WeekPlan, st: HandoutStyles, width: float, full: bool) -> list[tuple[str, bool]]:
    """The lines in the box above the grid: the week's doses in full, or a pointer to them."""
    size, fonts = st.sheet_size, st.fonts
    lines: list[tuple[str, bool]] = []
    if full and week.doses:
        lines.append(("This week, one session is:", BOLD))
        bullet_w = width - size * 1.2
        for dose in week.doses:
            # The note is in the dose grid; here it would crowd the reminder (and be cut short).
            sentence = dose_sentence(dose, with_note=False)
            wrapped = wrap(sentence, fonts.regular, size, bullet_w, max_lines=2)
            lines += [(("• " if i == 0 else "   ") + line, PLAIN) for i, line in enumerate(wrapped)]
    n = week.sessions_per_day
    if n > 0:
        plural = "session" if n == 1 else "sessions"
        sessions = f"Do {n} {plural} a day, and tick a box for each one."
    else:
        sessions = "No sessions are planned for this week."
    lines += [(line, BOLD) for line in wrap(sessions, fonts.bold, size, width)]
    return lines


def _fitting_size(texts: tuple[str, ...], font: str, size: float, widths: list[float]) -> float:
    """The largest size up to `size` at which no single word is wider than its column."""
    for text, width in zip(texts, widths, strict=True):
        for word in text.split():
            w = stringWidth(word, font, size)
            if w > width:
                size *= width / w
    return size


class LogSheet(Flowable):
    """One week's logging sheet filling the whole frame."""

    def __init__(self, snap: HandoutSnapshot, week: WeekPlan, styles: HandoutStyles) -> None:
        super().__init__()
        self.snap = snap
        self.week = week
        self.styles = styles
        self.width = self.height = 0.0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """Claim the whole frame; the sheet always starts on a fresh page."""
        self.width, self.height = availWidth, availHeight
        return availWidth, availHeight

    def draw(self) -> None:
        """Draw the sheet into the frame."""
        draw_log_sheet(self.canv, self.snap, self.week, self.styles, self.width, self.height)


def draw_log_sheet(
    canv: Canvas,
    snap: HandoutSnapshot,
    week: WeekPlan,
    st: HandoutStyles,
    width: float,
    height: float,
) -> None:
    """Draw a week's log sheet with (0, 0) at the bottom-left of a width x height area."""
    fonts, size = st.fonts, st.sheet_size
    line_h = size * 1.35
    title_size = st.sheet_title_size
    pad = size * 0.5
    col_w = [width * c for c in COLUMNS]
    cx = [sum(col_w[:i]) for i in range(len(col_w) + 1)]
    hpad = st.sheet_small * 0.45
    head_size = _fitting_size(HEADINGS, fonts.bold, st.sheet_small, [w - hpad * 2 for w in col_w])
    head_lines = [
        wrap(h, fonts.bold, head_size, w - hpad * 2) for h, w in zip(HEADINGS, col_w, strict=True)
    ]
    head_h = max(len(h) for h in head_lines) * head_size * 1.2 + head_size * 0.9
    small = st.sheet_small
    legend = wrap(LEGEND, fonts.regular, small, width)
    questions = 3 if not st.large else 2
    question_gap = size * 2.1

    # Dates on the left and whose sheet it is on the right (it comes back to the clinic on its
    # own), on one line when they fit, else on two.
    dates = fit(date_range(week.starts, week.ends), fonts.regular, size, width)
    chart = one_line(snap.chart_number)
    who = one_line(snap.patient_full_name) + (f", chart {chart}" if chart else "")
    gap = size * 1.5
    spare = width - stringWidth(dates, fonts.regular, size) - gap
    one_id_line = stringWidth(who, fonts.regular, size) <= spare
    if not one_id_line:
        who = fit(f"Name: {who}", fonts.regular, size, width)
    fixed = (
        title_size * 1.25
        + line_h * (1 if one_id_line else 2)
        + size * 0.6  # title, dates and name
        + size * 0.6  # gap under the box
        + head_h
        + size * 0.5
        + len(legend) * small * 1.3  # legend
        + size * 0.9
        + line_h
        + questions * question_gap  # questions
    )
    min_row = size * 3.4
    intro = _intro(week, st, width - pad * 2, full=True)
    box_h = len(intro) * line_h + pad * 2
    if (height - fixed - box_h) / 7 < min_row:
        intro = _intro(week, st, width - pad * 2, full=False)
        box_h = len(intro) * line_h + pad * 2
    row_h = (height - fixed - box_h) / 7

    text = _TextRun(canv)
    y = height - title_size
    text.put(0, y, f"Week {week.number} log sheet", fonts.bold, title_size, ACCENT)
    y -= title_size * 0.25 + line_h
    text.put(0, y, dates, fonts.regular, size, INK)
    if one_id_line:
        text.put(width, y, who, fonts.regular, size, INK, right=True)
    else:
        y -= line_h
        text.put(0, y, who, fonts.regular, size, INK)
    y -= size * 0.6

    # What this week's sessions are, in a tinted box.
    canv.setFillColor(TINT)
    canv.roundRect(0, y - box_h, width, box_h, 4, stroke=0, fill=1)
    ty = y - pad - size
    for line, bold in intro:
        text.put(pad, ty, line, fonts.bold if bold else fonts.regular, size, INK)
        ty -= line_h
    y -= box_h + size * 0.6

    # Column headings on a tinted band.
    canv.rect(0, y - head_h, width, head_h, stroke=0, fill=1)
    for lines, x in zip(head_lines, cx, strict=False):
        ly = y - head_size * 0.45 - head_size
        for line in lines:
            text.put(x + hpad, ly, line, fonts.bold, head_size, INK)
            ly -= head_size * 1.2
    grid_top = y
    y -= head_h

    # Seven days: tick boxes and numbers above, leak triggers and notes beneath.
    upper = row_h * 0.56
    half = cx[1] + (width - cx[1]) / 2
    box_pad = min(pad, upper * 0.15)
    boxes = session_boxes(
        week.sessions_per_day, col_w[1] - pad * 2, upper - box_pad * 2, size * 1.25
    )
    ticks = canv.beginPath()
    thin: list[tuple[float, float, float, float]] = []
    for day_index in range(7):
        day = week.starts + timedelta(days=day_index)
        top = y - day_index * row_h
        mid = top - upper
        text.put(pad, top - size * 1.25, day_name(day), fonts.bold, size, INK)
        text.put(pad, top - size * 2.45, short_date(day), fonts.regular, size, INK)
        for box in boxes:
            ticks.rect(cx[1] + pad + box.x, mid + box_pad + box.y, box.size, box.size)
        text.put(cx[3] - pad, mid + small * 0.4, "s", fonts.regular, small, MUTED, right=True)
        label_y = mid - small * 1.15
        text.put(cx[1] + pad, label_y, "Leaks caused by:", fonts.regular, small, MUTED)
        text.put(half + pad, label_y, "Notes:", fonts.regular, small, MUTED)
        thin += [(cx[1], mid, width, mid), (half, mid, half, top - row_h)]
    grid_bottom = y - 7 * row_h
    canv.setStrokeColor(RULE)
    canv.setLineWidth(0.5)
    canv.lines(thin)
    canv.setStrokeColor(GRID)
    canv.setLineWidth(0.8)
    canv.lines(
        [(cx[i], grid_top, cx[i], y) for i in range(2, 6)]
        + [
            (cx[i], y - d * row_h, cx[i], y - d * row_h - upper)
            for d in range(7)
            for i in range(2, 6)
        ]
    )
    canv.setLineWidth(1.2)
    canv.lines(
        [(0, grid_top, width, grid_top), (0, y, width, y)]
        + [(0, y - (d + 1) * row_h, width, y - (d + 1) * row_h) for d in range(7)]
        + [(x, grid_top, x, grid_bottom) for x in (0, cx[1], width)]
    )
    canv.setStrokeColor(INK)
    canv.setLineWidth(1)
    canv.drawPath(ticks, stroke=1, fill=0)

    # How to score, then room for questions.
    y = grid_bottom - size * 0.5
    for line in legend:
        y -= small * 1.3
        text.put(0, y, line, fonts.regular, small, MUTED)
    y -= size * 0.9 + size
    text.put(0, y, "Questions for your next visit", fonts.bold, size, INK)
    canv.setStrokeColor(RULE)
    canv.setLineWidth(0.6)
    canv.lines(
        [
            (0, y - question_gap * (i + 1), width, y - question_gap * (i + 1))
            for i in range(questions)
        ]
    )
    text.draw()


class _TextRun:
    """All of a sheet's words in one text object: far cheaper than a drawString per label."""

    def __init__(self, canv: Canvas) -> None:
        self.canv = canv
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
        """Place one string; right=True makes x its right edge."""
        if right:
            x -= stringWidth(text, font, size)
        if self.font != (font, size):
            self.obj.setFont(font, size)
            self.font = (font, size)
        if self.color is not color:
            self.obj.setFillColor(color)
            self.color = color
        self.obj.setTextOrigin(x, y)
        self.obj.textOut(text)

    def draw(self) -> None:
        """Put the text on the page, above the grid."""
        self.canv.drawText(self.obj)
