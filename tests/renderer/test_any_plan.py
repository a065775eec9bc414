"""Any plan the editor accepts lays out, at every paper and print size: no LayoutError, ever.

The limits are the editor's (prescriptions/plans/forms.py, the clinic exercise form, and the
dose bounds in prescriptions/domain/catalogue.py FIELD_BOUNDS); pdf/ must not import them, so
they are restated here and checked against the app's own values by the last test.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from pdf import ClinicHeader, Dose, ExerciseGuide, HandoutOptions, WeekPlan, render_handout
from pdf.sample import sample_snapshot
from pdf.snapshot import APPROACHES, CUE_SETS, KINDS, POSITIONS

EDITIONS = [
    HandoutOptions(paper=paper, large_print=large)
    for paper in ("a4", "letter")
    for large in (False, True)
]
ITEMS_PER_WEEK = 12
NOTE_MAX = 200
NAME_MAX = 80  # clinic exercise name, printed as the patient's name of the exercise
SUMMARY_MAX = 300
STEPS_MAX = 3000
BREATHING_MAX = FEEL_MAX = 1000
MISTAKES_MAX = 2000
NOTES_TO_PATIENT_MAX = 1500
TITLE_MAX = 120
BOUNDS = {
    "hold_s": (0, 60),
    "rest_s": (0, 120),
    "reps": (1, 50),
    "sets": (1, 10),
    "sessions_per_day": (1, 10),
    "effort_pct": (10, 100),
}

# Words of any length, in any script: long unbroken runs are the hard case for a cell.
words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
)


def text_up_to(limit: int) -> st.SearchStrategy[str]:
    """Text of words up to `limit` characters."""
    return st.lists(words, max_size=limit // 4).map(lambda ws: " ".join(ws)[:limit])


def lines_up_to(limit: int, most: int = 12) -> st.SearchStrategy[tuple[str, ...]]:
    """Lines whose total stays inside `limit` characters."""
    return st.lists(text_up_to(limit // 3), max_size=most).map(lambda ls: tuple(_trim(ls, limit)))


def _trim(lines: list[str], limit: int) -> list[str]:
    out, used = [], 0
    for line in lines:
        if used + len(line) > limit:
            break
        out.append(line)
        used += len(line) + 1
    return out


def bounded(name: str) -> st.SearchStrategy[int]:
    low, high = BOUNDS[name]
    return st.integers(low, high)


@st.composite
def guides(draw: st.DrawFn, code: str) -> ExerciseGuide:
    return ExerciseGuide(
        code=code,
        name=draw(text_up_to(NAME_MAX)),
        summary=draw(text_up_to(SUMMARY_MAX)),
        steps=draw(lines_up_to(STEPS_MAX, most=20)),
        breathing=draw(text_up_to(BREATHING_MAX)),
        feel=draw(text_up_to(FEEL_MAX)),
        mistakes=draw(lines_up_to(MISTAKES_MAX)),
        kind=draw(st.sampled_from(KINDS)),
    )


@st.composite
def doses(draw: st.DrawFn, guide: ExerciseGuide) -> Dose:
    hold = draw(st.none() | bounded("hold_s"))
    return Dose(
        exercise_code=guide.code,
        exercise_name=guide.name,
        position=draw(
            st.sampled_from(("Lying", "Side-lying", "Sitting", "Standing", "Functional"))
        ),
        hold_s=hold or None,
        rest_s=draw(st.none() | bounded("rest_s")) or None,
        reps=draw(bounded("reps")),
        sets=draw(bounded("sets")),
        sessions_per_day=draw(bounded("sessions_per_day")),
        effort_pct=draw(st.none() | bounded("effort_pct")),
        note=draw(st.sampled_from(("", "x" * NOTE_MAX)) | text_up_to(NOTE_MAX)),
        kind=guide.kind,
        position_code=draw(st.sampled_from(("", *POSITIONS))),
    )


@st.composite
def plans(draw: st.DrawFn):  # noqa: ANN201
    snap = sample_snapshot()
    exercises = [draw(guides(f"c{i}")) for i in range(draw(st.integers(1, 5)))]
    start = date(2025, 3, 3)
    weeks = []
    for number in range(1, draw(st.integers(0, 4)) + 1):
        count = draw(st.integers(0, ITEMS_PER_WEEK))
        # the same exercise may fill a whole week: one exercise's row once could not split
        picks = draw(st.lists(st.sampled_from(exercises), min_size=count, max_size=count))
        week_doses = tuple(draw(doses(g)) for g in picks)
        starts = start + timedelta(days=7 * (number - 1))
        sessions = max((d.sessions_per_day for d in week_doses), default=0)
        weeks.append(WeekPlan(number, starts, starts + timedelta(days=6), sessions, week_doses))
    return replace(
        snap,
        clinic=ClinicHeader(
            name=draw(text_up_to(120)),
            phone=draw(text_up_to(40)),
            address=draw(text_up_to(300)),
            footer_text=draw(text_up_to(300)),
            emergency_number=draw(text_up_to(20)),
            out_of_hours_number=draw(text_up_to(40)),
        ),
        patient_name=draw(text_up_to(100)),
        patient_full_name=draw(text_up_to(201)),
        chart_number=draw(text_up_to(40)),
        therapist=draw(text_up_to(120)),
        title=draw(text_up_to(TITLE_MAX)),
        notes_to_patient=draw(text_up_to(NOTES_TO_PATIENT_MAX)),
        exercises=tuple(exercises),
        weeks=tuple(weeks),
        approach=draw(st.sampled_from(APPROACHES)),
        cue_set=draw(st.sampled_from(CUE_SETS)),
        when_to_stop=draw(lines_up_to(600, most=6)),
    )


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(snap=plans())
def test_any_plan_shape_lays_out_in_every_edition(snap) -> None:  # noqa: ANN001
    for options in EDITIONS:
        pdf = render_handout(snap, options)
        assert pages(pdf) >= 1


def full_plan(large_words: bool):  # noqa: ANN201
    """Every field at its maximum: 12 items a week of one exercise, each with a 200-character
    note, and the longest names and instructions the editor allows."""
    word = "W" * 79 if large_words else "Squeezes"
    fill = lambda n: (word + " ") * (n // (len(word) + 1))  # noqa: E731
    guide = ExerciseGuide(
        code="long",
        name=fill(NAME_MAX)[:NAME_MAX],
        summary=fill(SUMMARY_MAX),
        steps=tuple(fill(STEPS_MAX // 10) for _ in range(10)),
        breathing=fill(BREATHING_MAX),
        feel=fill(FEEL_MAX),
        mistakes=tuple(fill(MISTAKES_MAX // 10) for _ in range(10)),
        kind="contract",
    )
    dose = Dose(
        "long", guide.name, "Functional", 60, 120, 50, 10, 10, 100, fill(NOTE_MAX)[:NOTE_MAX],
        "contract", "functional",
    )  # fmt: skip
    snap = sample_snapshot()
    weeks = tuple(
        replace(w, doses=tuple(replace(dose, note=f"{i}{dose.note}"[:NOTE_MAX]) for i in range(12)))
        for w in snap.weeks
    )
    return replace(
        snap,
        exercises=(guide,),
        weeks=weeks,
        notes_to_patient=fill(NOTES_TO_PATIENT_MAX),
        title=fill(TITLE_MAX)[:TITLE_MAX],
        therapist=fill(120)[:120],
    )


@pytest.mark.parametrize("large_words", [False, True])
@pytest.mark.parametrize("options", EDITIONS, ids=lambda o: f"{o.paper}-{o.large_print}")
def test_every_field_at_its_maximum_lays_out(options: HandoutOptions, large_words: bool) -> None:
    pdf = render_handout(full_plan(large_words), options)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "See note 1 below." in text  # long notes moved out of the cells


def test_the_limits_here_are_the_editors() -> None:
    from prescriptions.domain.catalogue import FIELD_BOUNDS
    from prescriptions.plans.forms import MAX_ITEMS_PER_WEEK

    assert FIELD_BOUNDS == BOUNDS
    assert MAX_ITEMS_PER_WEEK == ITEMS_PER_WEEK
