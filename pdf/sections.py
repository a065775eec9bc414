"""One function per handout part, each returning the flowables that part prints."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, HRFlowable, Image, Spacer, Table, TableStyle

from pdf.chart import ProgressionChart, progression_series
from pdf.companion import CompanionBox
from pdf.drawings import POSITION_CAPTIONS, Picture
from pdf.flow import Bookmark, Grid, Heading, Para, Run
from pdf.safety import graded
from pdf.snapshot import Dose, ExerciseGuide, HandoutSnapshot, WeekPlan
from pdf.styles import GRID, TINT, TINT_SAFE, TINT_WARM, HandoutStyles
from pdf.text import (
    clean,
    date_range,
    dose_words,
    long_date,
    markup,
    one_line,
    position_code,
    short_range,
)

LOGO_MAX_H = 22 * mm
LOGO_MAX_W = 50 * mm
SQUEEZE_KINDS = ("contract", "functional", "")
LET_GO_KINDS = ("relax", "breath")


@dataclass(frozen=True, slots=True)
class Part:
    """Where a part starts: its bookmark key within the handout and its outline title."""

    key: str
    title: str
    level: int = 0

    def mark(self) -> Bookmark:
        """The bookmark that opens this part."""
        return Bookmark(self.key, self.title, self.level)


def _p(text: str, style: object) -> Para:
    """A paragraph of snapshot text, escaped."""
    return Para(markup(text), style)


def _bullets(items: Iterable[str], st: HandoutStyles) -> list[Flowable]:
    return [Para(markup(item), st.bullet, bulletText="•") for item in items if clean(item)]


def _run_in(label: str, text: str, st: HandoutStyles) -> list[Flowable]:
    """A paragraph that opens with a bold label: 'Breathing: breathe out as you squeeze'."""
    if not clean(text):
        return []
    return [Para(f"<b>{escape(label)}:</b> {markup(text)}", st.body)]


def _table_style(st: HandoutStyles, pad: float, *extra: tuple) -> TableStyle:
    return TableStyle(
        [
            # Tables set a cell font even around Paragraphs; the default would be Helvetica.
            ("FONTNAME", (0, 0), (-1, -1), st.fonts.regular),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), pad),
            ("RIGHTPADDING", (0, 0), (-1, -1), pad),
            ("TOPPADDING", (0, 0), (-1, -1), pad),
            ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
            *extra,
        ]
    )


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
    table = Grid(
        [[logo, text]],
        colWidths=[logo.drawWidth + gap, width - logo.drawWidth - gap],
        style=_table_style(st, 0, ("VALIGN", (0, 0), (-1, -1), "MIDDLE")),
    )
    table.hAlign = "LEFT"
    return [table]


def _kinds(snap: HandoutSnapshot) -> dict[str, str]:
    """Each exercise code's kind, from its guide or else from its doses."""
    kinds = {d.exercise_code: d.kind for w in snap.weeks for d in w.doses if d.kind}
    kinds.update({g.code: g.kind for g in snap.exercises if g.kind})
    return kinds


def approach_of(snap: HandoutSnapshot) -> str:
    """The plan's approach; anything unknown reads as strengthening."""
    return snap.approach if snap.approach in ("down_training", "balanced") else "strengthening"


def cover(snap: HandoutSnapshot, st: HandoutStyles, width: float, part: Part) -> list[Flowable]:
    """Clinic header, who the plan is for, its dates, where it sits and the therapist's note."""
    weeks = len(snap.weeks)
    days = (snap.end - snap.start).days + 1
    length = f"{days // 7} weeks" if days % 7 == 0 and days >= 14 else f"{days} days"
    length = f" ({length})" if days > 0 else ""
    facts = [
        ("Your therapist", one_line(snap.therapist)),
        ("Plan dates", f"{date_range(snap.start, snap.end)}{length}"),
        ("Chart number", one_line(snap.chart_number)),
    ]
    if snap.block_number and snap.block_count and snap.block_number <= snap.block_count:
        first = (snap.block_number - 1) * 4 + 1
        facts.append(("Programme", f"Block {snap.block_number} of {snap.block_count}: "
                                   f"weeks {first} to {first + 3}"))  # fmt: skip
    if snap.next_review is not None:
        facts.append(("Next review", long_date(snap.next_review)))
    if snap.revision > 1:
        facts.append(("Plan version", f"{snap.revision}: this replaces any earlier version"))
    label_w = st.body_size * 9
    facts_table = Grid(
        [[_p(k, st.label), _p(v, st.body)] for k, v in facts if v],
        colWidths=[label_w, width - label_w],
        style=_table_style(st, 0, ("RIGHTPADDING", (0, 0), (-1, -1), 4)),
    )
    facts_table.hAlign = "LEFT"
    out: list[Flowable] = [
        part.mark(),
        *_clinic_block(snap, st, width),
        Spacer(1, st.body_size * 0.6),
        HRFlowable(width="100%", thickness=1.2, color=GRID, spaceAfter=st.body_size * 1.2),
        _p(snap.title, st.title),
    ]
    name = one_line(snap.patient_name) or one_line(snap.patient_full_name)
    if name:
        out.append(_p(f"For {name}", st.subtitle))
    out.append(facts_table)
    if snap.companion_url:  # the phone link, where the cover's first page shows it
        box = CompanionBox(snap.companion_url, snap.companion_code, st)
        out += [Spacer(1, st.body_size * 0.6), box]
    if clean(snap.purpose):
        out.append(Run(Heading("What this plan is for", st.h3), [_p(snap.purpose, st.body)]))
    out.append(Run(Heading("Where these weeks fit", st.h3), _programme(snap, st)))
    if snap.block_changes:
        changed = [
            Para(f"<b>{escape(one_line(name))}:</b> {markup(why)}", st.bullet, bulletText="•")
            for name, why in snap.block_changes
            if clean(why)
        ]
        out.append(Run(Heading("What changed since your last block", st.h3), changed))
    if clean(snap.notes_to_patient):
        who = markup(one_line(snap.therapist)) or "your therapist"
        out.append(Run(Heading(f"A note from {who}", st.h3), [_p(snap.notes_to_patient, st.note)]))
    how = [
        "Read “Finding the right muscles” and each exercise before you start.",
        "Read “Staying safe” now, so you know when to get help.",
    ]
    if weeks:
        how.insert(
            1,
            "Each week, do what that week's table in “Week by week” shows, and tick that "
            "week's log sheet. Bring your sheets to each visit.",
        )
    out.append(Run(Heading("How to use this handout", st.h3), _bullets(how, st)))
    return out


def _programme(snap: HandoutSnapshot, st: HandoutStyles) -> list[Flowable]:
    """Item 9: which block this is, the next review, and the programme's note."""
    lines: list[str] = []
    if snap.block_number and snap.block_count and snap.block_number <= snap.block_count:
        lines.append(
            f"These weeks are block {snap.block_number} of {snap.block_count} in your "
            f"programme of {snap.block_count * 4} weeks."
        )
    if clean(snap.block_note):
        lines.append(snap.block_note)
    if snap.next_review is not None:
        lines.append(
            f"Your next review is on {long_date(snap.next_review)}. We will plan the next "
            "weeks together then."
        )
    else:
        lines.append(
            "Before these weeks end, book a review with your therapist to plan the next weeks."
        )
    return [_p(line, st.body) for line in lines]


def letting_go_first(st: HandoutStyles, width: float) -> list[Flowable]:
    """Down-training opens with letting go: why, how the breath helps, and the picture."""
    text = (
        "Your pelvic floor muscles may be working too hard, even at rest. Tight muscles can "
        "cause pain, and they cannot squeeze well either. So your plan starts with letting go, "
        "not with squeezing.",
        "For the first weeks you only practise letting go, with slow breaths. Gentle squeezes "
        "come later, and only if your pain stays the same or gets less.",
        "Letting go is gentle, like a sigh. It is never pushing or straining.",
    )
    return [
        Run(
            Heading("First, learn to let go", st.h2),
            [_p(t, st.body) for t in text] + _breath_picture(st, width),
        )
    ]


def _breath_picture(st: HandoutStyles, width: float) -> list[Flowable]:
    caption = (
        "Breathing in (left): your breathing muscle under the ribs (top line) and your pelvic "
        "floor (bottom line) both move down and soften. Breathing out (right): both come back "
        "up on their own."
    )
    return [_figure("breath", caption, st, width, share=0.5)]


def _figure(key: str, caption: str, st: HandoutStyles, width: float, share: float) -> Table:
    """A picture with its caption beside it."""
    pic_w = width * share
    table = Grid(
        [[Picture(key, pic_w - 4 * mm), _p(caption, st.body)]],
        colWidths=[pic_w, width - pic_w],
        style=_table_style(
            st, 2 * mm, ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, 0), 0)
        ),
    )
    table.hAlign = "LEFT"
    return table


_DIAGRAM_CAPTIONS = {
    "female": (
        "A side view. Your pelvic floor (the thick curved line) is a sling of muscle under your "
        "bladder (front), womb (middle) and bowel (back). The tubes from them pass through it."
    ),
    "male": (
        "A side view. Your pelvic floor (the thick curved line) is a sling of muscle under your "
        "bladder (front) and bowel (back). The prostate sits just under the bladder."
    ),
    "neutral": (
        "A side view. Your pelvic floor (the thick curved line) is a sling of muscle under your "
        "bladder (front) and bowel (back). The tubes from them pass through it."
    ),
}


def finding_the_muscles(
    snap: HandoutSnapshot, st: HandoutStyles, width: float, part: Part
) -> list[Flowable]:
    """How to find the pelvic floor muscles, in the patient's cue set, with its diagram."""
    body: list[Flowable] = []
    if approach_of(snap) == "down_training":
        body.append(
            _p(
                "Read this so you know where the muscles are. Only squeeze when your week's "
                "table shows gentle squeezes; until then, practise letting go.",
                st.note,
            )
        )
    body += [_p(text, st.body) for text in snap.finding_the_muscles if clean(text)]
    if not body:
        return []
    body.append(
        _p(
            "Letting go matters as much as squeezing. After every squeeze, let the muscles go "
            "fully, until they feel soft again.",
            st.body,
        )
    )
    cue = snap.cue_set if snap.cue_set in _DIAGRAM_CAPTIONS else "neutral"
    body.append(_figure(f"pelvic_floor_{cue}", _DIAGRAM_CAPTIONS[cue], st, width, share=0.45))
    return [Run(Heading("Finding the right muscles", st.h2), body, lead=[part.mark()])]


def _positions_used(snap: HandoutSnapshot) -> list[str]:
    order = ("lying", "side_lying", "sitting", "standing", "childs_pose", "functional")
    used = {position_code(d) for w in snap.weeks for d in w.doses}
    notes = " ".join(d.note.lower() for w in snap.weeks for d in w.doses)
    if "child's pose" in notes or "child’s pose" in notes:
        used.add("childs_pose")
    return [p for p in order if p in used]


def positions(snap: HandoutSnapshot, st: HandoutStyles, width: float) -> list[Flowable]:
    """A picture of each position the plan uses, captioned in plain words."""
    used = _positions_used(snap)
    if not used:
        return []
    per_row = 2 if st.large else 3
    cell_w = width / per_row
    cells = [
        [Picture(key, min(cell_w - 6 * mm, 52 * mm)), _p(POSITION_CAPTIONS[key], st.body)]
        for key in used
    ]
    rows = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
    rows[-1] += [""] * (per_row - len(rows[-1]))
    table = Grid(
        rows,
        colWidths=[cell_w] * per_row,
        style=_table_style(st, 2 * mm, ("LEFTPADDING", (0, 0), (0, -1), 0)),
    )
    table.hAlign = "LEFT"
    intro = "Your week's table says which position to use. These pictures show them."
    return [Run(Heading("The positions in your plan", st.h2), [_p(intro, st.body), table])]


def _ordered_guides(snap: HandoutSnapshot) -> list[ExerciseGuide]:
    """Down-training teaches letting go first; otherwise the plan's order."""
    guides = list(snap.exercises)
    if approach_of(snap) == "down_training":
        kinds = _kinds(snap)
        guides.sort(key=lambda g: kinds.get(g.code, "") not in LET_GO_KINDS)
    return guides


def _tailored_summary(guide: ExerciseGuide, kind: str, approach: str) -> str:
    if approach == "down_training" and kind in SQUEEZE_KINDS:
        return (
            "Gentle squeezes come later in your plan, once letting go feels easier. Each one is "
            "gentle, about half your strongest squeeze, and is always followed by a full drop."
        )
    if approach == "balanced" and kind in LET_GO_KINDS:
        return clean(guide.summary) + " Do your drops after every set of squeezes."
    return guide.summary


def exercise_sections(
    snap: HandoutSnapshot, st: HandoutStyles, width: float, part: Part
) -> list[Flowable]:
    """One section per exercise: summary, steps, breathing, feel, common mistakes."""
    out: list[Flowable] = []
    kinds = _kinds(snap)
    approach = approach_of(snap)
    pictured_breath = approach == "down_training"  # already drawn in "learn to let go"
    for number, guide in enumerate(_ordered_guides(snap), 1):
        kind = kinds.get(guide.code, "")
        name = markup(one_line(guide.name))
        items: list[Flowable] = []
        summary = _tailored_summary(guide, kind, approach)
        if clean(summary):
            items.append(_p(summary, st.body))
        continued: dict[int, Callable[[], Flowable]] = {}
        again = f"{number}. {name}: how to do it (continued)"
        steps = [s for s in guide.steps if clean(s)]
        if steps:
            items.append(Heading("How to do it", st.h3))
            for i, step in enumerate(steps, 1):
                continued[len(items)] = partial(Heading, again, st.h3)
                items.append(Para(markup(step), st.step, bulletText=f"{i}."))
        items += _run_in("Breathing", guide.breathing, st)
        items += _run_in("What you should feel", guide.feel, st)
        if kind in LET_GO_KINDS and not pictured_breath:
            items += _breath_picture(st, width)
            pictured_breath = True
        mistakes = _bullets(guide.mistakes, st)
        if mistakes:
            items += [Heading("Common mistakes", st.h3), *mistakes]
        lead = [part.mark()] if number == 1 else []
        out.append(Run(Heading(f"{number}. {name}", st.h2), items, lead=lead, continued=continued))
    return out


def _row_order(week: WeekPlan, approach: str, kinds: dict[str, str]) -> list[Dose | None]:
    """The week's doses in order; in a balanced plan every squeeze set is followed by drops
    (None marks "drops again, as above")."""
    doses = list(week.doses)
    if approach != "balanced":
        return list(doses)
    kind = {d.exercise_code: d.kind or kinds.get(d.exercise_code, "") for d in doses}
    squeezes = [d for d in doses if kind[d.exercise_code] == "contract"]
    drops = [d for d in doses if kind[d.exercise_code] == "relax"]
    if not squeezes or not drops:
        return list(doses)
    others = [d for d in doses if d not in squeezes and d not in drops]
    out: list[Dose | None] = []
    for n, squeeze in enumerate(squeezes):
        out.append(squeeze)
        out.extend(drops if n == 0 else [None])
    return out + others


def week_tables(
    snap: HandoutSnapshot, st: HandoutStyles, width: float, part: Part
) -> list[Flowable]:
    """Each week as its own table, one row per dose; long notes move to numbered notes."""
    if not snap.weeks:
        return []
    approach = approach_of(snap)
    kinds = _kinds(snap)
    intro = [
        _p(
            "Do what the table for this week says. Move on to the next week only if this one "
            "went well: no holding your breath, no pain and no tiredness afterwards.",
            st.body,
        ),
        _p(
            "If a week did not go well, repeat that week before you move on. Many people "
            "repeat a week, and that is fine. Missing a day is fine too: just carry on.",
            st.body,
        ),
    ]
    if approach == "balanced":
        intro.append(_p("After every set of squeezes, do your drops.", st.body))
    pad = st.body_size * 0.4
    icon_w = st.body_size * 3.2
    name_w = (width - icon_w) * (0.36 if st.large else 0.32)
    dose_w = width - icon_w - name_w
    note_limit = 70 if st.large else 110
    noted: set[str] = set()
    tables: list[Flowable] = []
    for week in snap.weeks:
        rows: list[list[object]] = [
            [
                Para(
                    f"Week {week.number}: {markup(short_range(week.starts, week.ends))}",
                    st.cell_head,
                ),
                "",
                "",
            ]
        ]
        notes: list[str] = []
        for dose in _row_order(week, approach, kinds):
            if dose is None:
                rows.append(
                    [
                        "",
                        Para("Drops", st.cell_head),
                        Para("Then your drops again, as above.", st.cell),
                    ]
                )
                continue
            kind = dose.kind or kinds.get(dose.exercise_code, "")
            words = dose_words(_with_kind(dose, kind), approach)
            note = one_line(dose.note)
            if note and note not in noted:
                noted.add(note)
                if len(note) > note_limit:
                    notes.append(note)
                    words.append(f"See note {len(notes)} below.")
                else:
                    words.append(note)
            code = position_code(dose)
            icon: object = Picture(code, icon_w - pad * 2) if code else ""
            rows.append(
                [
                    icon,
                    Para(markup(one_line(dose.exercise_name)), st.cell_head),
                    Para("<br/>".join(markup(w) for w in words), st.cell),
                ]
            )
        if len(rows) == 1:
            rows.append(["", Para("No exercises this week.", st.cell), ""])
        table = Grid(
            rows,
            colWidths=[icon_w, name_w, dose_w],
            repeatRows=1,
            style=_table_style(
                st,
                pad,
                ("SPAN", (0, 0), (-1, 0)),
                ("BACKGROUND", (0, 0), (-1, 0), TINT),
                ("BOX", (0, 0), (-1, -1), 0.8, GRID),
                ("LINEBELOW", (0, 0), (-1, -2), 0.5, GRID),
            ),
            spaceBefore=st.body_size * 0.6,
        )
        table.hAlign = "LEFT"
        table.continued_head = Para(
            f"Week {week.number}: {markup(short_range(week.starts, week.ends))} (continued)",
            st.cell_head,
        )
        tables.append(table)
        for i, note in enumerate(notes, 1):
            tables.append(Para(f"<b>Note {i}, week {week.number}:</b> {markup(note)}", st.body))
    out: list[Flowable] = [
        Run(
            Heading("Week by week", st.h2),
            [*intro, *tables],
            lead=[part.mark()],
        )
    ]
    if progression_series(snap.weeks, approach, kinds):
        out.append(
            Run(
                Heading("How your plan builds up", st.h3),
                [ProgressionChart(snap.weeks, st, approach, kinds)],
            )
        )
    return out


def _with_kind(dose: Dose, kind: str) -> Dose:
    if dose.kind == kind:
        return dose
    from dataclasses import replace

    return replace(dose, kind=kind)


def staying_safe(
    snap: HandoutSnapshot, st: HandoutStyles, width: float, part: Part
) -> list[Flowable]:
    """The graded safety box, most urgent first, then what to do in a flare."""
    clinic = one_line(snap.clinic.name) or "the clinic"
    grades = graded(snap.clinic, clinic, snap.cue_set, snap.when_to_stop)
    tints = (TINT_WARM, TINT_SAFE, TINT)
    rows = []
    for grade in grades:
        cell: list[Flowable] = [
            Para(markup(grade.heading), st.h3_box),
            Para(markup(grade.action), st.callout_plain),
            *_bullets(grade.signs, st),
        ]
        if grade.note:
            cell.append(_p(grade.note, st.body))
        rows.append([cell])
    pad = st.body_size * 0.6
    table = Grid(
        rows,
        colWidths=[width],
        style=_table_style(
            st,
            pad,
            *[("BACKGROUND", (0, i), (0, i), tints[i]) for i in range(len(rows))],
            (
                "BOX",
                (0, 0),
                (0, 0),
                2.2,
                GRID,
            ),  # the most urgent grade stands out in black and white
            ("BOX", (0, 1), (0, -1), 0.8, GRID),
            ("LINEBELOW", (0, 1), (0, -2), 0.8, GRID),
        ),
    )
    out: list[Flowable] = [
        Run(
            Heading("Staying safe: when to get help", st.h2),
            [
                _p(
                    "Most people have no problems. If you notice any of these, act as shown.",
                    st.body,
                ),
                table,
            ],
            lead=[part.mark()],
        )
    ]
    flare = _bullets(snap.flare_advice, st)
    if flare:
        out.append(Run(Heading("If your symptoms flare up", st.h3), flare))
    return out


def no_log_sheets(st: HandoutStyles) -> list[Flowable]:
    """What a log-sheets-only print says when the plan has no weeks, so it is never blank."""
    return [_p("This plan has no weeks yet, so there are no log sheets to print.", st.body)]
