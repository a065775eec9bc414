"""Adherence and symptom summaries from returned logs: pure functions over plain values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .progression import WEEKS, Item


@dataclass(frozen=True)
class DayLog:
    """One logged day, as the summaries need it."""

    day: date
    sessions_done: int
    sessions_prescribed: int
    leaks: int | None = None
    pain: int | None = None


@dataclass(frozen=True)
class WeekSummary:
    """One plan week: sessions done against prescribed, over the days logged so far."""

    week: int
    days_logged: int
    done: int
    prescribed: int
    leaks: int | None  #: total over the logged days, None when none recorded
    worst_pain: int | None

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
            )
        )
    return summaries


def overall(summaries: Iterable[WeekSummary]) -> float | None:
    """Adherence over every logged day of the plan."""
    weeks = list(summaries)
    prescribed = sum(w.prescribed for w in weeks)
    return sum(w.done for w in weeks) / prescribed if prescribed else None
