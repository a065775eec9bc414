"""A realistic four-week strengthening handout, for the benchmark, the tests and eyeballing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pdf.snapshot import ClinicHeader, Dose, ExerciseGuide, HandoutSnapshot, WeekPlan

SLOW = ExerciseGuide(
    code="slow_hold",
    name="Slow holds",
    summary=(
        "Slow holds build strength, so that your pelvic floor can hold on when you cough, "
        "laugh, lift or exercise."
    ),
    steps=(
        "Get comfortable in this week's position, knees a little apart. Let your belly relax.",
        "As you breathe out, squeeze and lift the muscles around your back passage and front "
        "passage, as if stopping wind and then the flow of urine.",
        "Hold the squeeze for the seconds shown in your table, breathing gently.",
        "Let go fully and rest for the seconds shown. Then repeat.",
    ),
    breathing=(
        "Breathe out as you squeeze, and keep breathing while you hold. If you catch yourself "
        "holding your breath, count out loud."
    ),
    feel=(
        "A lift and tightening inside, between your legs, while your stomach, buttocks and "
        "thighs stay soft. Tired muscles towards the end are normal."
    ),
    mistakes=(
        "Holding your breath.",
        "Squeezing your buttocks, thighs or stomach instead.",
        "Pushing down, as if emptying your bowels, instead of lifting up.",
        "Not letting go fully before the next squeeze.",
    ),
    kind="contract",
)

QUICK = ExerciseGuide(
    code="quick_flick",
    name="Quick flicks",
    summary=(
        "Quick, strong squeezes train the muscles to react fast, for example when you sneeze."
    ),
    steps=(
        "Squeeze and lift your pelvic floor quickly and strongly, for about 1 second.",
        "Let go completely straight away.",
        "Pause for a moment, then do the next one, up to 10 in a row.",
    ),
    breathing="Breathe normally. Do not hold your breath between flicks.",
    feel="A quick tighten and lift, then a clear letting go each time.",
    mistakes=(
        "Going so fast that the muscles never fully let go.",
        "Holding your breath.",
        "Tightening your stomach or buttocks.",
    ),
    kind="contract",
)

KNACK = ExerciseGuide(
    code="knack",
    name="The Knack",
    summary=(
        "The Knack is a squeeze you make just before you cough, sneeze or lift, to stop leaks "
        "at the moment they usually happen."
    ),
    steps=(
        "Squeeze and lift your pelvic floor, as in your slow holds.",
        "Keep the squeeze, then cough. Let go once the cough is over.",
        "Practise with pretend coughs first, then use it before real coughs, sneezes and lifts.",
    ),
    breathing="Squeeze first, then cough or sneeze. Breathe normally afterwards.",
    feel="The squeeze stays firm during the cough, with less leaking or none.",
    mistakes=(
        "Squeezing too late, after the cough has started.",
        "Pushing down during the cough.",
        "Forgetting it in daily life: a note on the fridge or a reminder on your phone helps.",
    ),
    kind="functional",
)

DROP = ExerciseGuide(
    code="drop",
    name="Drops (letting go)",
    summary=(
        "Drops teach your pelvic floor to let go fully. A muscle that can relax works better and "
        "tires less. Do a few after your squeezes."
    ),
    steps=(
        "Lie or sit comfortably and rest one hand on your belly.",
        "Breathe in slowly and let your belly rise. As you do, let your pelvic floor gently "
        "soften and drop.",
        "Breathe out slowly and let the muscles come back up on their own.",
    ),
    breathing="Slow belly breaths, about 4 seconds in and 6 seconds out.",
    feel=(
        "A gentle softening and widening between your legs. It is a letting go, never a push "
        "or a strain."
    ),
    mistakes=(
        "Pushing or straining: it should never feel like emptying your bowels.",
        "Breathing only into your chest.",
        "Rushing the breaths.",
    ),
    kind="relax",
)

BREATH = ExerciseGuide(
    code="belly_breathing",
    name="Belly breathing",
    summary="Slow breaths that calm your body and help your pelvic floor let go.",
    steps=(
        "Lie on your back with your knees bent and a pillow under your head and knees.",
        "Put one hand on your chest and one on your belly.",
        "Breathe in slowly through your nose. Let your belly rise and your pelvic floor soften.",
        "Breathe out slowly, a little longer than the breath in. Let your belly fall.",
    ),
    breathing="Slow and easy: in for about 4 seconds, out for about 6 seconds.",
    feel="Your belly rises and falls under your hand; your jaw, shoulders and pelvic floor soften.",
    mistakes=(
        "Holding your breath at the top of the breath.",
        "Pushing down with your belly or pelvic floor. No pushing.",
        "Breathing too fast. If you feel dizzy, breathe normally and rest.",
    ),
    kind="breath",
)

FINDING = (
    "Sit with your knees a little apart. Squeeze as if you were stopping yourself passing wind, "
    "then as if stopping the flow of urine. You should feel a lift inside, up and in. Keep your "
    "stomach, buttocks and thighs relaxed, and keep breathing.",
    "Do not practise by stopping your urine mid-flow; once in a while as a check is fine.",
    "Not sure you are doing it right? Tell your therapist. Many people need help at first.",
)

#: what an older handout's snapshot carried as one ungraded list (now graded in pdf/safety.py)
WHEN_TO_STOP = (
    "Pain that gets worse.",
    "Unusual bleeding from the vagina, or any bleeding after your periods have stopped for good.",
    "Blood in your urine.",
    "A fever, or burning when you pass urine.",
    "Not being able to pass urine.",
    "A new lump or bulge, or a prolapse that feels worse.",
    "New leaking from your bowel.",
    "New numbness around your bottom, genitals or inner thighs.",
)

FLARE = (
    "Relax fully between squeezes, with a drop breath after each one.",
    "Do fewer: halve the number of squeezes for a day or two.",
    "If it does not settle, pause the exercises for a few days.",
    "Tell your therapist, and call us if you are worried.",
)


_POSITION_CODES = {
    "Lying": "lying",
    "Side-lying": "side_lying",
    "Sitting": "sitting",
    "Standing": "standing",
    "Daily life": "functional",
}


def _week(number: int, start: date, rows: list[Dose], sessions: int = 3) -> WeekPlan:
    starts = start + timedelta(days=7 * (number - 1))
    return WeekPlan(number, starts, starts + timedelta(days=6), sessions, tuple(rows))


def _d(
    guide: ExerciseGuide,
    position: str,
    hold: int | None,
    rest: int | None,
    reps: int,
    note: str = "",
    sessions: int = 3,
    effort: int | None = None,
) -> Dose:
    return Dose(
        guide.code,
        guide.name,
        position,
        hold,
        rest,
        reps,
        1,
        sessions,
        effort_pct=effort,
        note=note,
        kind=guide.kind,
        position_code=_POSITION_CODES.get(position, ""),
    )


START = date(2025, 3, 3)


def _strengthening_weeks() -> tuple[WeekPlan, ...]:
    start = START
    return (
        _week(
            1,
            start,
            [
                _d(SLOW, "Lying", 4, 10, 8),
                _d(QUICK, "Lying", None, None, 5),
                _d(DROP, "Lying", 4, 6, 5),
            ],
        ),
        _week(
            2,
            start,
            [
                _d(SLOW, "Sitting", 6, 10, 8),
                _d(QUICK, "Sitting", None, None, 8),
                _d(DROP, "Sitting", 4, 6, 5),
            ],
        ),
        _week(
            3,
            start,
            [
                _d(SLOW, "Sitting or standing", 8, 8, 10),
                _d(QUICK, "Sitting or standing", None, None, 10),
                _d(KNACK, "Standing", None, None, 3, "Before 3 coughs"),
                _d(DROP, "Sitting", 5, 10, 5),
            ],
        ),
        _week(
            4,
            start,
            [
                _d(SLOW, "Standing", 10, 10, 10),
                _d(QUICK, "Standing", None, None, 10),
                _d(KNACK, "Daily life", None, None, 3, "And before every cough, sneeze or lift"),
                _d(DROP, "Standing", 5, 10, 5),
            ],
        ),
    )


def _down_training_weeks() -> tuple[WeekPlan, ...]:
    s = START
    child = "Lying on your side, or kneeling folded forward (child's pose), is fine too."
    gentle = "Gentle: about half effort. Follow each squeeze with a full drop."
    return (
        _week(1, s, [_d(BREATH, "Lying", 4, 6, 10, "Lie well supported.", 2)], 2),
        _week(
            2,
            s,
            [_d(DROP, "Lying", 4, 10, 10, child, 2), _d(DROP, "Side-lying", 4, 10, 5, "", 2)],
            2,
        ),
        _week(
            3,
            s,
            [_d(DROP, "Lying", 5, 10, 10, "", 2), _d(SLOW, "Sitting", 3, 10, 5, gentle, 2, 40)],
            2,
        ),
        _week(
            4,
            s,
            [_d(DROP, "Sitting", 5, 10, 10, "", 2), _d(SLOW, "Standing", 4, 10, 6, gentle, 2, 50)],
            2,
        ),
    )


def _balanced_weeks() -> tuple[WeekPlan, ...]:
    s = START
    return (
        _week(1, s, [_d(SLOW, "Lying", 4, 10, 8), _d(DROP, "Lying", 4, 10, 5)]),
        _week(
            2,
            s,
            [
                _d(SLOW, "Lying", 5, 10, 8),
                _d(DROP, "Lying", 4, 6, 5),
                _d(QUICK, "Sitting", None, None, 5),
            ],
        ),
        _week(
            3,
            s,
            [
                _d(SLOW, "Sitting", 8, 10, 10),
                _d(DROP, "Sitting", 5, 10, 5),
                _d(QUICK, "Standing", None, None, 8),
                _d(KNACK, "Standing", None, None, 3, "Practise with 3 small coughs."),
            ],
        ),
        _week(
            4,
            s,
            [
                _d(SLOW, "Standing", 10, 10, 10),
                _d(DROP, "Standing", 5, 10, 8),
                _d(QUICK, "Standing", None, None, 10),
                _d(
                    KNACK,
                    "Daily life",
                    None,
                    None,
                    3,
                    "Squeeze before every cough, sneeze or lift.",
                ),
            ],
        ),
    )


_PURPOSES = {
    "strengthening": (
        "To strengthen your pelvic floor, so that you leak less, or not at all, when you "
        "cough, sneeze, laugh, lift or exercise."
    ),
    "down_training": (
        "To help your pelvic floor muscles relax and let go, which can ease pain and "
        "tightness. Gentle squeezes come later, once letting go feels easier."
    ),
    "balanced": (
        "To help your pelvic floor muscles both relax and get stronger, for leaks and for a "
        "sudden need to pass urine."
    ),
}


def sample_snapshot(approach: str = "strengthening", cue_set: str = "female") -> HandoutSnapshot:
    """A realistic four-week plan for Łucja Wiśniewska, by default strengthening, female cues."""
    weeks = {
        "strengthening": _strengthening_weeks,
        "down_training": _down_training_weeks,
        "balanced": _balanced_weeks,
    }[approach]()
    codes = list(dict.fromkeys(d.exercise_code for w in weeks for d in w.doses))
    guides = {g.code: g for g in (SLOW, QUICK, KNACK, DROP, BREATH)}
    start = START
    return HandoutSnapshot(
        clinic=ClinicHeader(
            name="Riverside Pelvic Health",
            phone="020 7946 0321",
            address="14 Mill Lane, Riverside RV2 4PQ",
            email="hello@riverside-pelvic.example",
            footer_text="Opening hours Monday to Friday, 8 am to 6 pm. Out of hours, call 111.",
            emergency_number="999",
            out_of_hours_number="NHS 111",
        ),
        patient_name="Łucja",
        patient_full_name="Łucja Wiśniewska",
        chart_number="RPH-20417",
        therapist="Maya Okafor",
        title="Your pelvic floor exercise plan",
        purpose=_PURPOSES[approach],
        start=start,
        end=start + timedelta(days=27),
        revision=1,
        is_draft=False,
        notes_to_patient=(
            "Łucja, you found the right muscles well at your first visit. Fit the sessions "
            "around things you do each day: after brushing your teeth, at lunch and in the "
            "evening. Missing a day is fine; just carry on the next day.\n"
            "Please bring your log sheets to your next visit on Monday 31 March."
        ),
        finding_the_muscles=FINDING,
        exercises=tuple(guides[c] for c in codes),
        weeks=weeks,
        when_to_stop=(),
        flare_advice=FLARE,
        block_note=(
            "Pelvic floor training works best when you keep it up for at least three months, "
            "so we will look at how you are doing and plan the next block together."
        ),
        approach=approach,
        cue_set=cue_set,
        issued_at=datetime(2025, 2, 28, 14, 30),
        block_number=1,
        block_count=3,
        next_review=date(2025, 3, 31),
    )
