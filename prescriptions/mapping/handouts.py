"""From a stored plan to the frozen snapshot the PDF renderer prints (no rendering here)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import fields
from datetime import timedelta

import pdf

from ..domain.catalogue import (
    BLOCK_NOTE,
    FINDING_THE_MUSCLES,
    FLARE_ADVICE,
    Exercise,
)
from ..domain.progression import WEEKS, Item, dose_of
from ..domain.vocab import CueSet, Paper, PlanStatus, label
from ..models import Clinic, Plan
from .plans import plan_items
from .sheets import server_key, sheet_codes

HANDOUT_TITLE = "Your pelvic floor exercise plan"


def cue_set_of(plan: Plan) -> CueSet:
    """The wording the handout uses: the plan's choice, else the patient's."""
    value = plan.cue_set or plan.patient.cue_set
    return CueSet(value) if value in CueSet._value2member_map_ else CueSet.NEUTRAL


def handout_snapshot(
    plan: Plan,
    clinic: Clinic,
    exercises: dict[str, Exercise],
    companion: tuple[str, str] = ("", ""),
) -> pdf.HandoutSnapshot:
    """Everything the handout prints, frozen, so rendering never touches the database.

    `companion` is the patient's phone link and short code, printed as a QR code when given.
    """
    cue = cue_set_of(plan)
    items = plan_items(plan.items)
    patient = plan.patient
    return pdf.HandoutSnapshot(
        # every header field is the clinic's column of the same name
        clinic=pdf.ClinicHeader(
            **{f.name: getattr(clinic, f.name) for f in fields(pdf.ClinicHeader)}
        ),
        patient_name=patient.called,
        patient_full_name=patient.display_name,
        chart_number=patient.chart_number,
        therapist=plan.author.name,
        # The template's name ("Balanced") speaks to clinicians; the patient reads this.
        title=HANDOUT_TITLE,
        purpose=plan.purpose,
        start=plan.start_date,
        end=plan.end_date,
        revision=plan.revision,
        is_draft=plan.status == PlanStatus.DRAFT,
        notes_to_patient=plan.notes_to_patient,
        finding_the_muscles=FINDING_THE_MUSCLES[cue],
        exercises=tuple(_guide(exercises[code], cue) for code in _codes(items, exercises)),
        weeks=tuple(_week(plan, week, items, exercises) for week in WEEKS),
        # The renderer words the graded safety box per cue set (pdf/safety.py).
        when_to_stop=(),
        flare_advice=FLARE_ADVICE,
        block_note=BLOCK_NOTE,
        approach=plan.approach,
        cue_set=cue.value,
        issued_at=plan.issued_at,
        sheet_codes=sheet_codes(server_key(), plan.clinic_id, plan.id, plan.revision),
        block_number=plan.block_number if plan.programme is not None else None,
        block_count=plan.programme.block_count if plan.programme is not None else None,
        block_changes=_block_changes(plan, exercises),
        companion_url=companion[0],
        companion_code=companion[1],
    )


def _block_changes(plan: Plan, exercises: dict[str, Exercise]) -> tuple[tuple[str, str], ...]:
    """What changed since the last block, per exercise, as the proposal said it for the patient."""
    if plan.block_number <= 1:
        return ()
    said: dict[str, str] = {}
    for row in plan.items:
        if row.patient_reason and row.exercise_code not in said:
            said[row.exercise_code] = row.patient_reason
    return tuple(
        (exercises[code].patient_name if code in exercises else code, text)
        for code, text in said.items()
    )


def handout_options(
    plan: Plan,
    clinic: Clinic,
    *,
    paper: str | None = None,
    large_print: bool | None = None,
    log_sheets_only: bool = False,
) -> pdf.HandoutOptions:
    """Print options: what was asked for, else the plan's, else the clinic's paper."""
    chosen = paper or plan.paper or clinic.paper
    if chosen not in Paper._value2member_map_:
        chosen = Paper.A4.value
    return pdf.HandoutOptions(
        paper=chosen,
        large_print=plan.large_print if large_print is None else large_print,
        log_sheets_only=log_sheets_only,
    )


_SPELLED = str.maketrans(
    {"ß": "ss", "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Đ": "D",
     "đ": "d", "Þ": "Th", "þ": "th", "Œ": "OE", "œ": "oe", "ı": "i"}
)  # fmt: skip


def ascii_name(text: str) -> str:
    """Letters without their accents ('Ü' becomes 'U', 'ł' becomes 'l'), for file names."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPELLED))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def download_name(plan: Plan) -> str:
    """A file name like handout-HP-0042-2026-11-30-v2-DRAFT.pdf (safe characters only)."""
    chart = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name(plan.patient.chart_number))
    chart = chart.strip("-.") or "plan"
    draft = "-DRAFT" if plan.status == PlanStatus.DRAFT else ""
    return f"handout-{chart}-{plan.start_date.isoformat()}-v{plan.revision}{draft}.pdf"


def _codes(items: tuple[Item, ...], exercises: dict[str, Exercise]) -> list[str]:
    """Exercise codes in order of first appearance (unknown codes are skipped)."""
    seen: dict[str, None] = {}
    for item in sorted(items, key=lambda i: (i.week, i.order)):
        if item.exercise in exercises:
            seen.setdefault(item.exercise, None)
    return list(seen)


def _guide(exercise: Exercise, cue: CueSet) -> pdf.ExerciseGuide:
    words = exercise.instructions_for(cue)
    return pdf.ExerciseGuide(
        code=exercise.code,
        name=exercise.patient_name,
        summary=exercise.summary,
        steps=words.steps,
        breathing=words.breathing,
        feel=words.feel,
        mistakes=words.mistakes,
        kind=exercise.kind.value,
    )


def _week(
    plan: Plan, week: int, items: tuple[Item, ...], exercises: dict[str, Exercise]
) -> pdf.WeekPlan:
    in_week = sorted((i for i in items if i.week == week and i.exercise in exercises),
                     key=lambda i: i.order)  # fmt: skip
    starts = plan.start_date + timedelta(days=7 * (week - 1))
    return pdf.WeekPlan(
        number=week,
        starts=starts,
        ends=starts + timedelta(days=6),
        sessions_per_day=max((i.sessions_per_day for i in in_week), default=0),
        doses=tuple(
            pdf.Dose(
                exercise_code=i.exercise,
                exercise_name=exercises[i.exercise].patient_name,
                **{**dose_of(i), "position": label(i.position)},
                kind=exercises[i.exercise].kind.value,
                position_code=i.position.value,
            )
            for i in in_week
        ),
    )


def render_plan_handout(
    plan: Plan,
    clinic: Clinic,
    exercises: dict[str, Exercise],
    options: pdf.HandoutOptions,
    companion: tuple[str, str] = ("", ""),
) -> bytes:
    """One plan's handout as PDF bytes (with the patient's phone link when given)."""
    return pdf.render_handout(handout_snapshot(plan, clinic, exercises, companion), options)


def render_batch(
    plans: list[Plan],
    clinic: Clinic,
    exercises: dict[str, Exercise],
    companions: dict[int, tuple[str, str]] | None = None,
) -> bytes:
    """Several plans' handouts in one PDF, each with its own options and page numbers."""
    links = companions or {}
    return pdf.render_handouts(
        [
            (
                handout_snapshot(p, clinic, exercises, links.get(p.id, ("", ""))),
                handout_options(p, clinic),
            )
            for p in plans
        ]
    )
