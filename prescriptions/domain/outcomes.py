"""Outcomes across a programme: the figures CLINICAL.md names ("Outcomes") and which changes
count as clinically important. Pure functions over plain values."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from .blocks import WEEKS_PER_BLOCK

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
class BlockSpan:
    """A planned block of a programme, for placing logged days in programme weeks."""

    programme: int  #: the programme's place on the record, from 1 (oldest)
    number: int
    start: date
    end: date


def programme_week_leaks(
    days: Iterable[tuple[date, int | None]], blocks: Sequence[BlockSpan], *, several: bool
) -> list[tuple[str, str, float]]:
    """Leaks a week for each programme week (1 to 12 over three blocks) with leaks logged.

    A day counts in the block whose dates hold it: week (block - 1) * 4 + its week in the block.
    Each row is (label, short axis label, leaks a week), in programme order; with `several`
    programmes the labels name the programme. Days outside every block are left out.
    """
    weeks: dict[tuple[int, int], list[int | None]] = {}
    for day, leaks in days:
        span = next((b for b in blocks if b.start <= day <= b.end), None)
        if span is None:
            continue
        week = (span.number - 1) * WEEKS_PER_BLOCK + (day - span.start).days // 7 + 1
        weeks.setdefault((span.programme, week), []).append(leaks)
    out = []
    for programme, week in sorted(weeks):
        value = leaks_a_week(weeks[(programme, week)])
        if value is None:
            continue
        if several:
            out.append((f"Programme {programme}, week {week}", f"P{programme} W{week}", value))
        else:
            out.append((f"Week {week}", f"W{week}", value))
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


# --- The clinic's figures ----------------------------------------------------------------------

SMALL_CELL = 5  #: counts under this are suppressed, so no patient is identifiable
SUPPRESSED = "fewer than 5"


def shown_count(n: int) -> str:
    """A count as the page and CSV show it: 1 to 4 suppressed."""
    return SUPPRESSED if 0 < n < SMALL_CELL else str(n)


@dataclass(frozen=True)
class BlockSums:
    """One programme's block: sums over its logged days."""

    programme: int
    block: int
    done: int
    prescribed: int
    leaks: int  #: total over the days with leaks recorded
    leak_days: int

    @property
    def leaks_week(self) -> float | None:
        return per_week(self.leaks, self.leak_days)


def per_week(leaks: int, leak_days: int) -> float | None:
    """Leaks a week from a total over the days with leaks recorded (None with no such day)."""
    return round(leaks / leak_days * 7, 1) if leak_days else None


@dataclass(frozen=True)
class BlockAdherence:
    """One block number across the programmes: sessions over those with sessions prescribed."""

    block: int
    programmes: int  #: programmes whose block had sessions prescribed
    done: int
    prescribed: int


#: (first, last) value -> how many programmes have it
PairCounts = Mapping[tuple[float, float], int]


@dataclass(frozen=True)
class Figure:
    """One line of the clinic's outcomes: its name, the value shown, and over how many."""

    name: str
    value: str
    over: str = ""  #: "of 48 programmes", already suppressed


def _median_figure(name: str, pairs: list[tuple[float, float]], unit: str) -> Figure:
    if len(pairs) < SMALL_CELL:
        return Figure(name, f"not shown ({shown_count(len(pairs))} programmes with figures)")
    value = median_change(pairs)
    return Figure(name, f"{value:+g}{unit}", f"over {len(pairs)} programmes")


def iciq_pair(
    start: date, end: date | None, scores: Sequence[tuple[date, int, int]]
) -> tuple[float, float] | None:
    """A programme's ICIQ-UI SF (baseline, latest) from the patient's (date, id, total), oldest
    first: the baseline is the last score on or before the start, else the first after; the
    latest, the last after the start up to the end, when it is another assessment."""
    before = [(i, total) for day, i, total in scores if day <= start]
    during = [(i, total) for day, i, total in scores if day > start and (end is None or day <= end)]
    return baseline_and_latest(before, during)


def baseline_and_latest(
    before: Sequence[tuple[int, int]], during: Sequence[tuple[int, int]]
) -> tuple[float, float] | None:
    """(baseline, latest) from a programme's scores as (assessment id, total), oldest first:
    those on or before its start, and those after it up to its end (see iciq_pair)."""
    baseline = before[-1] if before else (during[0] if during else None)
    latest = during[-1] if during else None
    if baseline is None or latest is None or latest[0] == baseline[0]:
        return None
    return float(baseline[1]), float(latest[1])


def clinic_figures(
    statuses: dict[str, int],
    blocks: Sequence[BlockSums],
    iciq: dict[int, tuple[float, float]],
) -> tuple[list[Figure], list[Figure]]:
    """The outcomes page's figures from each programme's block sums (see summary_figures)."""
    adherence, leak_pairs = summarise_blocks(blocks)
    return summary_figures(statuses, adherence, leak_pairs, Counter(iciq.values()))


def summarise_blocks(blocks: Sequence[BlockSums]) -> tuple[list[BlockAdherence], PairCounts]:
    """Adherence by block number, and the (first, last) leaks a week pairs of the programmes.

    Leaks a week compare each programme's first block with leaks logged with its last (per
    logged day, times 7); programmes with leaks logged in one block only have no change.
    """
    by_programme: dict[int, list[BlockSums]] = {}
    for b in blocks:
        if b.leaks_week is not None:
            by_programme.setdefault(b.programme, []).append(b)
    leak_pairs: Counter[tuple[float, float]] = Counter()
    for rows in by_programme.values():
        rows.sort(key=lambda b: b.block)
        if len(rows) > 1:
            leak_pairs[(rows[0].leaks_week or 0.0, rows[-1].leaks_week or 0.0)] += 1
    adherence = []
    for number in sorted({b.block for b in blocks}):
        rows = [b for b in blocks if b.block == number and b.prescribed]
        done, prescribed = sum(b.done for b in rows), sum(b.prescribed for b in rows)
        adherence.append(BlockAdherence(number, len(rows), done, prescribed))
    return adherence, leak_pairs


def _each(pairs: PairCounts) -> list[tuple[float, float]]:
    return [pair for pair, n in pairs.items() for _ in range(n)]


def summary_figures(
    statuses: dict[str, int],
    adherence: Sequence[BlockAdherence],
    leak_pairs: PairCounts,
    iciq_pairs: PairCounts,
) -> tuple[list[Figure], list[Figure]]:
    """The outcomes page's figures, and adherence by block, every small count suppressed.

    From counts only: programmes by status, sessions by block number, and how many programmes
    have each (first, last) leaks a week and (baseline, latest) ICIQ-UI SF total.
    """
    started = sum(statuses.values())
    figures = [
        Figure("Programmes started", shown_count(started)),
        Figure("Finished", shown_count(statuses.get("finished", 0))),
        Figure("Stopped early", shown_count(statuses.get("stopped", 0))),
        Figure("Still running", shown_count(statuses.get("running", 0))),
    ]
    leaks = _each(leak_pairs)
    figures.append(_median_figure("Median change in leaks a week (first block to last)", leaks, ""))
    responders, counted = share_fewer_leaks(leaks)
    name = "Patients with at least 50% fewer leaks"
    if counted < SMALL_CELL or 0 < responders < SMALL_CELL:
        figures.append(
            Figure(name, f"not shown ({shown_count(responders)} of {shown_count(counted)})")
        )
    else:
        figures.append(Figure(name, f"{round(responders / counted * 100)}%",
                              f"{responders} of {counted} programmes"))  # fmt: skip
    figures.append(_median_figure("Median change in ICIQ-UI SF", _each(iciq_pairs), " points"))
    by_block = []
    for block in sorted(adherence, key=lambda a: a.block):
        name = f"Block {block.block}"
        if block.programmes < SMALL_CELL:
            by_block.append(Figure(name, f"not shown ({shown_count(block.programmes)} programmes)"))
            continue
        share = block.done / block.prescribed
        by_block.append(
            Figure(name, f"{round(share * 100)}%", f"over {block.programmes} programmes")
        )
    return figures, by_block
