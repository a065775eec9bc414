"""One function per handout section, each returning the flowables that section prints."""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    Image,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from pdf.chart import ProgressionChart, progression_series
from pdf.snapshot import HandoutSnapshot
from pdf.styles import GRID, MUTED, RULE, TINT, HandoutStyles
from pdf.text import (
    clean,
    date_range,
    dose_lines,
    markup,
    one_line,
    short_range,
    times_a_day,
)

LOGO_MAX_H = 22 * mm
LOGO_MAX_W = 50 * mm


class Para(Paragraph):
    """A Paragraph that keeps its line breaks when wrapped again at the same width.

    KeepTogether, tables and the frame each wrap the same paragraph; breaking its lines once
    instead of three times is most of what keeps a handout render fast.
    """

    _wrapped_at: tuple[float, float] | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """Break lines for this width, or reuse the last result at the same width."""
        cached = self._wrapped_at
        # split() may drop blPara to force a re-wrap; only reuse a result that is still there.
        if cached is not None and cached[0] == availWidth and hasattr(self, "blPara"):
            return self.width, self.height
        width, height = super().wrap(availWidth, availHeight)
        self._wrapped_at = (availWidth, height)
        return width, height


def _p(text: str, style: object) -> Paragraph:
    """A paragraph of snapshot text, escaped."""
    return Para(markup(text), style)


def _bullets(items: tuple[str, ...], st: HandoutStyles) -> list[Flowable]:
    return [Para(markup(item), st.bullet, bulletText="•") for item in items if clean(item)]


def _steps(items: tuple[str, ...], st: HandoutStyles) -> list[Flowable]:
    kept = [item for item in items if clean(item)]
    return [Para(markup(item), st.step, bulletText=f"{i}.") for i, item in enumerate(kept, 1)]


def _run_in(label: str, text: str, st: HandoutStyles) -> list[Flowable]:
    """A paragraph that opens with a bold label: 'Breathing: breathe out as you squeeze'."""
    if not clean(text):
        return []
    return [Para(f"<b>{escape(label)}:</b> {markup(text)}", st.body)]


def _logo(data: bytes | None) -> Image | None:
    """The clinic logo scaled to fit its box, or None when absent or unreadable."""
    if not data:
        return None
    try:
        w, h = ImageReader(BytesIO(data)).getSize()
    except Exception:  # a broken logo must not stop a patient's handout from printing
        return None
    if w <= 0 or h <= 0:
        return None
    scale = min(LOGO_MAX_W / w, LOGO_MAX_H / h)
    return Image(BytesIO(data), width=w * scale, height=h * scale)


def _clinic_block(snap: HandoutSnapshot, st: HandoutStyles, width: float) -> list[Flowable]:
    c = snap.clinic
    contact = " · ".join(one_line(x) for x in (c.address, c.phone, c.email) if one_line(x))
    text: list[Flowable] = [_p(one_line(c.name), st.clinic_name)]
    if contact:
        text.append(_p(contact, st.clinic_line))
    logo = _logo(c.logo)
    if logo is None:
        return text
    gap = 6 * mm
    table = Table(
        [[logo, text]],
        colWidths=[logo.drawWidth + gap, width - logo.drawWidth - gap],
        style=TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.fonts.regular),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    table.hAlign = "LEFT"
    return [table]


def _section(heading: Paragraph, body: list[Flowable]) -> list[Flowable]:
    """A heading kept on the same page as the start of what it introduces."""
    if not body:
        return []
    return [KeepTogether([heading, *body[:2]]), *body[2:]]


def cover(snap: HandoutSnapshot, st: HandoutStyles, width: float) -> list[Flowable]:
    """Clinic header, who the plan is for, its dates and purpose, and the therapist's note."""
    weeks = len(snap.weeks)
    days = (snap.end - snap.start).days + 1
    length = f"{days // 7} weeks" if days % 7 == 0 and days >= 14 else f"{days} days"
    length = f" ({length})" if days > 0 else ""
    facts = [
        ("Your therapist", one_line(snap.therapist)),
        ("Plan dates", f"{date_range(snap.start, snap.end)}{length}"),
        ("Chart number", one_line(snap.chart_number)),
    ]
    if snap.revision > 1:
        facts.append(("Plan version", f"{snap.revision}: this replaces any earlier version"))
    label_w = st.body_size * 9
    facts_table = Table(
        [[_p(k, st.label), _p(v, st.body)] for k, v in facts if v],
        colWidths=[label_w, width - label_w],
        style=TableStyle(
            [
                # Tables set a cell font even around Paragraphs; the default would be Helvetica.
                ("FONTNAME", (0, 0), (-1, -1), st.fonts.regular),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    facts_table.hAlign = "LEFT"
    out: list[Flowable] = [
        *_clinic_block(snap, st, width),
        Spacer(1, st.body_size * 0.6),
        HRFlowable(width="100%", thickness=1.2, color=RULE, spaceAfter=st.body_size * 1.2),
        _p(snap.title, st.title),
    ]
    name = one_line(snap.patient_name) or one_line(snap.patient_full_name)
    if name:
        out.append(_p(f"For {name}", st.subtitle))
    out.append(facts_table)
    if clean(snap.purpose):
        out += _section(Para("What this plan is for", st.h3), [_p(snap.purpose, st.body)])
    if clean(snap.block_note):
        out += _section(Para("Part of a longer programme", st.h3), [_p(snap.block_note, st.body)])
    if clean(snap.notes_to_patient):
        out += _section(
            Para(f"A note from {markup(one_line(snap.therapist)) or 'your therapist'}", st.h3),
            [_p(snap.notes_to_patient, st.note)],
        )
    how = [
        "Read “Finding the right muscles” and each exercise before you start.",
        "Stop and call us if you notice any of the signs in “When to stop and call us”.",
    ]
    if weeks:
        how.insert(
            1,
            f"Each week, do what “Your {weeks} weeks at a glance” shows, and tick that week's "
            "log sheet. Bring your sheets to each visit.",
        )
    out += _section(Para("How to use this handout", st.h3), _bullets(tuple(how), st))
    return out


def finding_the_muscles(snap: HandoutSnapshot, st: HandoutStyles) -> list[Flowable]:
    """How to find the pelvic floor muscles, in the patient's cue set."""
    body = [_p(text, st.body) for text in snap.finding_the_muscles if clean(text)]
    return _section(Para("Finding the right muscles", st.h2), body)


def exercise_sections(snap: HandoutSnapshot, st: HandoutStyles) -> list[Flowable]:
    """One section per exercise: summary, steps, breathing, feel, common mistakes."""
    out: list[Flowable] = []
    for number, guide in enumerate(snap.exercises, 1):
        lead: list[Flowable] = [Para(f"{number}. {markup(one_line(guide.name))}", st.h2)]
        if clean(guide.summary):
            lead.append(_p(guide.summary, st.body))
        blocks = [
            ("How to do it", _steps(guide.steps, st)),
            ("Breathing", _run_in("Breathing", guide.breathing, st)),
            ("What you should feel", _run_in("What you should feel", guide.feel, st)),
            ("Common mistakes", _bullets(guide.mistakes, st)),
        ]
        # Breathing and feel are one paragraph each: a bold run-in label, not a heading.
        blocks = [
            (Para(h, st.h3) if h in ("How to do it", "Common mistakes") else None, body)
            for h, body in blocks
            if body
        ]
        if not blocks:
            out.append(KeepTogether(lead))
            continue
        # The exercise's name stays with its summary and the start of its first block; nested
        # KeepTogethers would force a page break, so the first block is kept flat here.
        first_heading, first_body = blocks[0]
        head = [first_heading] if first_heading else []
        out += [KeepTogether([*lead, *head, *first_body[:2]]), *first_body[2:]]
        for heading, body in blocks[1:]:
            out += _section(heading, body) if heading else body
    return out


def _row_order(snap: HandoutSnapshot) -> list[tuple[str, str]]:
    """Exercise codes and names in handout order, then any dosed exercise without a guide."""
    rows = {g.code: one_line(g.name) for g in snap.exercises}
    for week in snap.weeks:
        for dose in week.doses:
            rows.setdefault(dose.exercise_code, one_line(dose.exercise_name))
    dosed = {d.exercise_code for w in snap.weeks for d in w.doses}
    return [(code, name) for code, name in rows.items() if code in dosed]


def dose_grid(snap: HandoutSnapshot, st: HandoutStyles, width: float) -> list[Flowable]:
    """The weeks side by side, one column per week, one row per exercise, and the chart."""
    n = len(snap.weeks)
    if not n:
        return []
    first_w = width * (0.24 if n <= 4 else 0.18)
    week_w = (width - first_w) / n
    head = [Para("", st.cell_head)] + [
        Para(f"Week {w.number}<br/>{short_range(w.starts, w.ends)}", st.cell_head)
        for w in snap.weeks
    ]
    rows: list[list[Flowable]] = [
        head,
        [Para("How often", st.cell_head)]
        + [Para(markup(times_a_day(w.sessions_per_day)), st.cell_head) for w in snap.weeks],
    ]
    for code, name in _row_order(snap):
        row: list[Flowable] = [Para(markup(name), st.cell_head)]
        # A note is read once: later weeks carrying the same note leave it out of the grid.
        noted: set[str] = set()
        for week in snap.weeks:
            doses = [d for d in week.doses if d.exercise_code == code]
            if doses:
                cells = []
                for d in doses:
                    note = one_line(d.note)
                    lines = dose_lines(d, week.sessions_per_day, with_note=note not in noted)
                    noted.add(note)
                    cells.append("<br/>".join(markup(line) for line in lines))
                text = "<br/><br/>".join(cells)
                row.append(Para(text, st.cell))
            else:
                row.append(Para(f'<font color="{MUTED.hexval()}">Not this week</font>', st.cell))
        rows.append(row)
    pad = st.body_size * 0.45
    table = Table(
        rows,
        colWidths=[first_w] + [week_w] * n,
        repeatRows=1,
        style=TableStyle(
            [
                # Tables set a cell font even around Paragraphs; the default would be Helvetica.
                ("FONTNAME", (0, 0), (-1, -1), st.fonts.regular),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), TINT),
                ("BACKGROUND", (0, 1), (0, -1), TINT),
                ("GRID", (0, 0), (-1, -1), 0.6, GRID),
                ("LEFTPADDING", (0, 0), (-1, -1), pad),
                ("RIGHTPADDING", (0, 0), (-1, -1), pad),
                ("TOPPADDING", (0, 0), (-1, -1), pad),
                ("BOTTOMPADDING", (0, 0), (-1, -1), pad * 1.3),
            ]
        ),
    )
    intro = (
        "Do what the column for this week says. Move on to the next week only if the last one "
        "went well: no holding your breath, no pain and no tiredness afterwards."
    )
    out: list[Flowable] = [
        CondPageBreak(st.leading * 8),
        KeepTogether([Para(f"Your {n} weeks at a glance", st.h2), _p(intro, st.body), table]),
    ]
    if progression_series(snap.weeks):
        out.append(
            KeepTogether(
                [
                    Para("How your plan builds up", st.h3),
                    Spacer(1, st.body_size * 0.5),
                    ProgressionChart(snap.weeks, st),
                ]
            )
        )
    return out


def when_to_stop(snap: HandoutSnapshot, st: HandoutStyles) -> list[Flowable]:
    """Warning signs that mean stop and call, the clinic's number, and what to do in a flare."""
    clinic = one_line(snap.clinic.name) or "the clinic"
    phone = one_line(snap.clinic.phone)
    call = f"Call {clinic} on {phone}" if phone else f"Contact {clinic}"
    signs = _bullets(snap.when_to_stop, st)
    # The warning signs and the number to call are read as one block: never split them.
    out: list[Flowable] = [
        KeepTogether(
            [
                Para("When to stop and call us", st.h2),
                _p("Stop the exercises and contact us if you notice any of these:", st.body),
                *signs,
                _p(call, st.callout),
            ]
        )
    ]
    out += _section(Para("If your symptoms flare up", st.h3), _bullets(snap.flare_advice, st))
    return out


def no_log_sheets(st: HandoutStyles) -> list[Flowable]:
    """What a log-sheets-only print says when the plan has no weeks, so it is never blank."""
    return [_p("This plan has no weeks yet, so there are no log sheets to print.", st.body)]
