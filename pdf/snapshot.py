"""Frozen values a handout is rendered from: the plan side builds them, the renderer reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

PAPERS = ("a4", "letter")
#: what an exercise does: squeeze, let go, breathe with a drop, or squeeze during daily life
KINDS = ("contract", "relax", "breath", "functional")
#: the plan's approach, which tailors the words, the order and the chart
APPROACHES = ("strengthening", "down_training", "balanced")
POSITIONS = ("lying", "side_lying", "sitting", "standing", "functional")
CUE_SETS = ("female", "male", "neutral")


@dataclass(frozen=True, slots=True)
class ClinicHeader:
    """Who issued the handout and how the patient reaches them."""

    name: str
    phone: str
    address: str = ""
    email: str = ""
    footer_text: str = ""
    logo: bytes | None = None  #: PNG or JPEG bytes, already size-checked by the clinic settings
    #: the number for an emergency now (999, 112, 911), as the clinic confirmed it
    emergency_number: str = ""
    #: the out-of-hours advice line for a same-day worry when the clinic is closed (e.g. 111)
    out_of_hours_number: str = ""


@dataclass(frozen=True, slots=True)
class ExerciseGuide:
    """Patient-facing instructions for one exercise, already in the patient's cue set."""

    code: str
    name: str
    summary: str
    steps: tuple[str, ...]
    breathing: str
    feel: str
    mistakes: tuple[str, ...]
    kind: str = ""  #: one of KINDS, or "" when unknown (then it is worded as a squeeze)


@dataclass(frozen=True, slots=True)
class Dose:
    """How much of one exercise to do in one week."""

    exercise_code: str
    exercise_name: str
    position: str  #: a human label, e.g. "Sitting"
    hold_s: int | None
    rest_s: int | None
    reps: int
    sets: int
    sessions_per_day: int
    effort_pct: int | None = None
    note: str = ""
    kind: str = ""  #: one of KINDS: how the dose is worded ("let go for 5 s", never "hold")
    position_code: str = ""  #: one of POSITIONS, for the picture and the plain-words position


@dataclass(frozen=True, slots=True)
class WeekPlan:
    """One week of the plan: its dates, how many sessions a day, and each exercise's dose."""

    number: int
    starts: date
    ends: date
    sessions_per_day: int  #: the number of tick boxes per day on that week's log sheet
    doses: tuple[Dose, ...]


@dataclass(frozen=True, slots=True)
class HandoutSnapshot:
    """Everything one handout prints, frozen at the moment of printing."""

    clinic: ClinicHeader
    patient_name: str  #: preferred name, used when speaking to the patient
    patient_full_name: str  #: used in page headers and on the returned log sheets
    chart_number: str
    therapist: str
    title: str
    purpose: str
    start: date
    end: date
    revision: int
    is_draft: bool
    notes_to_patient: str
    finding_the_muscles: tuple[str, ...]
    exercises: tuple[ExerciseGuide, ...]
    weeks: tuple[WeekPlan, ...]
    #: extra "stop and call us the same day" signs the clinic adds to the graded safety box,
    #: which the renderer words itself per cue set (pdf/safety.py)
    when_to_stop: tuple[str, ...]
    flare_advice: tuple[str, ...]
    block_note: str
    approach: str = ""  #: one of APPROACHES; "" reads as strengthening
    cue_set: str = "neutral"  #: one of CUE_SETS: which safety lines and muscle picture print
    issued_at: datetime | None = None  #: the PDF's creation date (else the plan's start)
    block_number: int | None = None  #: which block of a programme these weeks are, from 1
    block_count: int | None = None  #: how many blocks the programme has
    next_review: date | None = None  #: the booked review, when there is one
    #: on a later block's cover: (exercise name, what changed since the last block and why)
    block_changes: tuple[tuple[str, str], ...] = ()
    #: Signed codes for the log sheets, made by the app: (week, page, code); week 0 is the spare
    #: sheet. The renderer prints them as they are; a sheet without one carries "-".
    sheet_codes: tuple[tuple[int, int, str], ...] = ()
    #: the patient's companion link (the cover's and every log sheet's second QR code), and the
    #: short code to type instead; "" when the clinic has no public address or no live link
    companion_url: str = ""
    companion_code: str = ""


@dataclass(frozen=True, slots=True)
class HandoutOptions:
    """How to print: paper size, large print, or the log sheets alone."""

    paper: str = "a4"  #: "a4" or "letter"
    large_print: bool = False
    log_sheets_only: bool = False

    def __post_init__(self) -> None:
        if self.paper not in PAPERS:
            raise ValueError(f"paper must be one of {', '.join(PAPERS)}, not {self.paper!r}")
