"""Frozen values a handout is rendered from: the plan side builds them, the renderer reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

PAPERS = ("a4", "letter")


@dataclass(frozen=True, slots=True)
class ClinicHeader:
    """Who issued the handout and how the patient reaches them."""

    name: str
    phone: str
    address: str = ""
    email: str = ""
    footer_text: str = ""
    logo: bytes | None = None  #: PNG or JPEG bytes, already size-checked by the clinic settings


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
    when_to_stop: tuple[str, ...]
    flare_advice: tuple[str, ...]
    block_note: str
    #: Signed codes for the log sheets, made by the app: (week, page, code); week 0 is the spare
    #: sheet. The renderer prints them as they are; a sheet without one carries "-".
    sheet_codes: tuple[tuple[int, int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class HandoutOptions:
    """How to print: paper size, large print, or the log sheets alone."""

    paper: str = "a4"  #: "a4" or "letter"
    large_print: bool = False
    log_sheets_only: bool = False

    def __post_init__(self) -> None:
        if self.paper not in PAPERS:
            raise ValueError(f"paper must be one of {', '.join(PAPERS)}, not {self.paper!r}")
