"""Adherence and symptom summaries from returned logs: pure functions over plain values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .progression import WEEKS, Item

#: what one day of a returned logging sheet records (CLINICAL.md): the one list the log form, the
#: log write, the exports and the record pages share, so a new field is one change here
LOG_FIELDS = (
    "sessions_done", "longest_hold_s", "leaks", "leak_trigger", "urgency", "pain", "note",
)  # fmt: skip


@dataclass(frozen=True)
class DayLog:
    """One logged day, as the summaries need it."""

    day: date
    sessions_done: int
    sessions_prescribed: int
    leaks: int | None = None
    pain: int | None = None
    longest_hold_s: int | None = None


@dataclass(frozen=True)
class WeekSummary:
    """One plan week: sessions done against prescribed, over the days logged so far."""

    week: int
    days_logged: int
    done: int
    prescribed: int
    leaks: int | None  #: total over the logged days, None when none recorded
    worst_pain: int | None
    leak_days: int = 0  #: days whose leaks were recorded

    @property
    def leaks_per_week(self) -> float | None:
        """Leaks a week: the mean per day with leaks recorded, times 7 (never a part-week sum)."""
        if self.leaks is None or not self.leak_days:
            return None
        return round(self.leaks / self.leak_days * 7, 1)

    @property
    def adherence(self) -> float | None:
        """Share of prescribed sessions done (0-1), or None when nothing was prescribed."""
        return self.done / self.prescribed if self.prescribed else None


def prescribed_per_day(items: Sequence[Item], week: int) -> int:
    """Sessions a day a week prescribes: its busiest exercise's sessions a day."""
    return max((i.sessions_per_day for i in items if i.week == week), default=0)


def week_days(start: date, week: int) -> list[date]:
    """The seven dates of a plan week."""
    first = start + timedelta(days=7 * (week - 1))
    return [first + timedelta(days=n) for n in range(7)]


def week_of(start: date, day: date) -> int | None:
    """Which plan week a date falls in, or None outside the four weeks."""
    offset = (day - start).days
    week = offset // 7 + 1
    return week if offset >= 0 and week in WEEKS else None


def summarise(start: date, logs: Iterable[DayLog]) -> list[WeekSummary]:
    """A summary for each of the four weeks (weeks with no logs have zero days)."""
    by_week: dict[int, list[DayLog]] = {w: [] for w in WEEKS}
    for log in logs:
        week = week_of(start, log.day)
        if week is not None:
            by_week[week].append(log)
    summaries = []
    for week, days in by_week.items():
        leaks = [d.leaks for d in days if d.leaks is not None]
        pains = [d.pain for d in days if d.pain is not None]
        summaries.append(
            WeekSummary(
                week=week,
                days_logged=len(days),
                done=sum(d.sessions_done for d in days),
                prescribed=sum(d.sessions_prescribed for d in days),
                leaks=sum(leaks) if leaks else None,
                worst_pain=max(pains) if pains else None,
                leak_days=len(leaks),
            )
        )
    return summaries


def overall(summaries: Iterable[WeekSummary]) -> float | None:
    """Adherence over every logged day of the plan."""
    weeks = list(summaries)
    prescribed = sum(w.prescribed for w in weeks)
    return sum(w.done for w in weeks) / prescribed if prescribed else None


#: a longest hold beyond this is implausible whatever was prescribed (CLINICAL.md: holds build
#: to 6-10 s; assessments record endurance up to 60 s)
IMPLAUSIBLE_HOLD_S = 60
#: a hold this many times the longest prescribed one (and over 15 s) is worth a question
IMPLAUSIBLE_HOLD_FACTOR = 3
#: leaks in one day beyond this are worth checking against the sheet
IMPLAUSIBLE_LEAKS = 20


def implausible(log: DayLog, prescribed_hold_s: int | None) -> tuple[str, ...]:
    """Why a logged day's values look unlikely (kept as logged; for the therapist to check)."""
    found = []
    hold = log.longest_hold_s
    if hold is not None:
        if hold > IMPLAUSIBLE_HOLD_S:
            found.append(f"a {hold} s longest hold is more than {IMPLAUSIBLE_HOLD_S} s")
        elif prescribed_hold_s and hold > max(15, IMPLAUSIBLE_HOLD_FACTOR * prescribed_hold_s):
            found.append(
                f"a {hold} s longest hold is far above the {prescribed_hold_s} s prescribed"
            )
    if log.leaks is not None and log.leaks > IMPLAUSIBLE_LEAKS:
        found.append(f"{log.leaks} leaks in one day")
    return tuple(found)
