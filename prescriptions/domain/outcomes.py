"""Outcomes across a programme: the figures CLINICAL.md names ("Outcomes") and which changes
count as clinically important. Pure functions over plain values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

RESPONDER_FALL = 0.5  #: 50% or more fewer leaks: the usual responder definition in trials
ICIQ_MID = 2.5  #: ICIQ-UI SF minimal important difference (Nystrom 2015)
PAIN_MID_POINTS = 2  #: pain: a fall of 2 points ...
PAIN_MID_SHARE = 0.3  #: ... or 30% is clinically important (Farrar 2001)
OXFORD_MID = 1  #: one Oxford grade is meaningful


@dataclass(frozen=True)
class Measure:
    code: str
    name: str
    unit: str
    lower_is_better: bool
    ceiling: float  #: top of its chart
    rule: str  #: what counts as an important change, in words ("" when CLINICAL.md sets none)


MEASURES = {
    m.code: m
    for m in (
        Measure("leaks_week", "Leaks a week", "", True, 0,
                "50% or more fewer leaks (the usual responder definition)"),
        Measure("iciq", "ICIQ-UI SF total (0-21)", "", True, 21,
                "a change of 2.5 points or more"),
        Measure("pain", "Pain (0-10)", "", True, 10, "a fall of 2 points or 30%"),
        Measure("oxford", "Modified Oxford grade (0-5)", "", False, 5, "one grade"),
        Measure("endurance", "PERFECT endurance", " s", False, 0, ""),
        Measure("repetitions", "PERFECT repetitions", "", False, 0, ""),
        Measure("pads", "Pads a day", "", True, 0, ""),
    )
}  # fmt: skip


def leaks_a_week(leaks: Iterable[int | None]) -> float | None:
    """Leaks a week from logged days: the mean per day with leaks recorded, times 7.

    Never a raw sum over a part week: three logged days of 2 leaks are 14 a week, not 6.
    """
    known = [n for n in leaks if n is not None]
    if not known:
        return None
    return round(sum(known) / len(known) * 7, 1)


def week_start(day: date) -> date:
    """The Monday of a day's calendar week."""
    return day - timedelta(days=day.weekday())


def weekly_leaks(days: Iterable[tuple[date, int | None]]) -> list[tuple[date, float]]:
    """Leaks a week for each calendar week with leaks logged, oldest first."""
    weeks: dict[date, list[int | None]] = {}
    for day, leaks in days:
        weeks.setdefault(week_start(day), []).append(leaks)
    out = []
    for start in sorted(weeks):
        value = leaks_a_week(weeks[start])
        if value is not None:
            out.append((start, value))
    return out


@dataclass(frozen=True)
class Change:
    """A measure's first and latest value, and whether the change is clinically important."""

    measure: Measure
    first: float
    last: float
    important: bool
    better: bool | None  #: None when it did not change

    @property
    def delta(self) -> float:
        return round(self.last - self.first, 1)

    @property
    def text(self) -> str:
        """The change in words: "9 to 4 (-5): clinically important improvement"."""
        words = f"{self.first:g}{self.measure.unit} to {self.last:g}{self.measure.unit}"
        if self.better is None:
            return f"{words} (no change)"
        words += f" ({self.delta:+g})"
        if self.important:
            return f"{words}: clinically important {'improvement' if self.better else 'worsening'}"
        return words


def is_important(code: str, first: float, last: float) -> bool:
    """Whether a change from first to last is clinically important for the measure (CLINICAL.md)."""
    change = last - first
    if code == "leaks_week":
        return first > 0 and last <= first * (1 - RESPONDER_FALL)
    if code == "iciq":
        return abs(change) >= ICIQ_MID
    if code == "pain":
        fall = first - last
        return fall >= PAIN_MID_POINTS or (first > 0 and fall / first >= PAIN_MID_SHARE)
    if code == "oxford":
        return abs(change) >= OXFORD_MID
    return False


def change_of(code: str, values: Sequence[float | None]) -> Change | None:
    """The change between a measure's first and latest known values (None with fewer than 2)."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return None
    measure = MEASURES[code]
    first, last = float(known[0]), float(known[-1])
    better = None if last == first else (last < first) == measure.lower_is_better
    return Change(measure, first, last, is_important(code, first, last), better)


def share_fewer_leaks(pairs: Iterable[tuple[float, float]]) -> tuple[int, int]:
    """(responders, patients with a baseline above zero) for first and last leaks a week."""
    counted = [(a, b) for a, b in pairs if a > 0]
    return sum(is_important("leaks_week", a, b) for a, b in counted), len(counted)


def median_change(pairs: Iterable[tuple[float, float]]) -> float | None:
    """The median of last minus first over the pairs, or None with none."""
    changes = [b - a for a, b in pairs]
    return round(median(changes), 1) if changes else None
