"""What the patient's phone page shows, built from a plan snapshot: today, the week, the block.

Pure over the snapshot and the logged days (no Flask, no database), so the page's allowed fields
are decided in one place: the preferred first name, the doses, the steps and the patient's logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from pdf.safety import Grade, graded
from pdf.snapshot import ClinicHeader, ExerciseGuide, HandoutSnapshot, WeekPlan
from pdf.text import dose_words

#: pace of a breathing pacer when the dose gives none: in 4 s, out 6 s (CLINICAL.md)
BREATH_IN_S, BREATH_OUT_S = 4, 6


def first_name(called: str) -> str:
    """The preferred name's first word: all the phone page ever says about who it is for."""
    words = (called or "").split()
    return words[0] if words else ""


@dataclass(frozen=True)
class Step:
    """One exercise of a session, as the phone shows it and the guided timer runs it."""

    index: int
    name: str
    kind: str
    words: tuple[str, ...]
    steps: tuple[str, ...]
    breathing: str
    hold_s: int
    rest_s: int
    reps: int
    sets: int

    @property
    def pacer(self) -> bool:
        """Drops and belly breathing are paced by breath, not counted as squeezes."""
        return self.kind in ("relax", "breath")

    def timer(self) -> dict[str, Any]:
        """The guided timer's settings (read by companion.js from data- attributes)."""
        if self.kind == "breath":
            work, rest = self.hold_s or BREATH_IN_S, self.rest_s or BREATH_OUT_S
        else:
            work, rest = self.hold_s or 3, self.rest_s or (self.hold_s or 3)
        return {"mode": "pacer" if self.pacer else "squeeze", "work": work, "rest": rest,
                "reps": self.reps * max(self.sets, 1)}  # fmt: skip


_NEGATED_HOLD = re.compile(r"\b(do not|don't|never)\s+hold (your|the) breath", re.I)
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def breath_words(text: str) -> str:
    """The text in the page's own words about breathing: it never says "hold your breath".

    "Do not hold your breath" becomes "keep breathing"; any other sentence that still names
    holding the breath is left out (the pacer and the cues say how to breathe).
    """
    text = _NEGATED_HOLD.sub(
        lambda m: "Keep breathing" if m[0][0].isupper() else "keep breathing", text
    )
    kept = [
        s for s in _SENTENCES.split(text) if not re.search(r"hold\w* (your|the) breath", s, re.I)
    ]
    return " ".join(kept).strip()


def _steps(week: WeekPlan, guides: dict[str, ExerciseGuide], approach: str) -> list[Step]:
    out = []
    for n, dose in enumerate(week.doses):
        guide = guides.get(dose.exercise_code)
        out.append(
            Step(
                index=n,
                name=dose.exercise_name,
                kind=dose.kind,
                words=tuple(dose_words(dose, approach)),
                steps=tuple(breath_words(t) for t in guide.steps) if guide else (),
                breathing=breath_words(guide.breathing) if guide else "",
                hold_s=dose.hold_s or 0,
                rest_s=dose.rest_s or 0,
                reps=dose.reps,
                sets=dose.sets,
            )
        )
    return out


@dataclass(frozen=True)
class Today:
    """Today on the phone: which week, how many sessions, the exercises, what is logged."""

    day: date
    week: WeekPlan | None  #: None before the start or after the end of the plan
    steps: tuple[Step, ...]
    sessions: int
    done: int
    starts: date
    ends: date

    @property
    def before_start(self) -> bool:
        return self.day < self.starts

    @property
    def after_end(self) -> bool:
        return self.day > self.ends


def today_page(snap: HandoutSnapshot, day: date, logged: dict[date, dict[str, Any]]) -> Today:
    """What today holds for the patient."""
    guides = {g.code: g for g in snap.exercises}
    week = next((w for w in snap.weeks if w.starts <= day <= w.ends), None)
    steps = tuple(_steps(week, guides, snap.approach)) if week else ()
    done = int((logged.get(day) or {}).get("sessions_done") or 0)
    return Today(day, week, steps, week.sessions_per_day if week else 0, done, snap.start, snap.end)


@dataclass(frozen=True)
class SheetDay:
    day: date
    sessions: int
    done: int
    values: dict[str, Any]
    future: bool


def week_sheet(
    snap: HandoutSnapshot, day: date, logged: dict[date, dict[str, Any]]
) -> list[SheetDay]:
    """The week so far, one line a day, as the paper sheet would show it."""
    week = next((w for w in snap.weeks if w.starts <= day <= w.ends), None)
    if week is None:
        return []
    out = []
    for n in range((week.ends - week.starts).days + 1):
        d = week.starts + timedelta(days=n)
        values = logged.get(d) or {}
        out.append(
            SheetDay(
                d, week.sessions_per_day, int(values.get("sessions_done") or 0), values, d > day
            )
        )
    return out


def reminder_slots(snap: HandoutSnapshot, times: list[time]) -> list[tuple[datetime, int]]:
    """Every session of every day of the block at the chosen times: (when, session number)."""
    out = []
    for week in snap.weeks:
        for n in range((week.ends - week.starts).days + 1):
            d = week.starts + timedelta(days=n)
            for s in range(min(week.sessions_per_day, len(times))):
                out.append((datetime.combine(d, times[s]), s + 1))
    return out


def safety_grades(snap: HandoutSnapshot) -> list[Grade]:
    """The handout's graded safety signs, without naming the clinic or its phone (discreet).

    The emergency and out-of-hours numbers are the country's (999, 111), not the clinic's.
    """
    header = ClinicHeader(
        name="",
        phone="",
        emergency_number=snap.clinic.emergency_number,
        out_of_hours_number=snap.clinic.out_of_hours_number,
    )
    grades = graded(header, "your clinic", snap.cue_set, snap.when_to_stop)
    return [replace(g, heading=_ours(g.heading), action=_ours(g.action)) for g in grades]


def _ours(text: str) -> str:
    """The handout speaks as the clinic ("call us"); the phone page names no one."""
    return (
        text.replace("Call us", "Call your clinic")
        .replace("Tell us", "Tell your therapist")
        .replace("When we are closed", "When your clinic is closed")
    )
