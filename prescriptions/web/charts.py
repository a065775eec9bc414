"""Small server-rendered charts: geometry only (templates draw the SVG), with a text alternative."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..domain.adherence import WeekSummary

WIDTH = 320
HEIGHT = 160
LEFT = 34  #: room for the value axis labels
BOTTOM = 24  #: room for the category labels
TOP = 14


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str  #: the value as printed above the bar and in the text alternative
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Point:
    label: str  #: in full, for the text alternative
    value: float
    text: str
    x: float
    y: float
    axis: str = ""  #: what the x-axis shows under the point ("" when thinned out)


#: at most this many x-axis labels on a line chart (320 units wide): the rest are thinned out
MAX_AXIS_LABELS = 7


def axis_labels(labels: Sequence[str]) -> list[str]:
    """Every k-th label, always the last, at most MAX_AXIS_LABELS shown; the others empty."""
    count = len(labels)
    if not count:
        return []
    step = -(-count // MAX_AXIS_LABELS)
    shown = list(range(0, count, step))
    if shown[-1] != count - 1:
        if count - 1 - shown[-1] >= step / 2 and len(shown) < MAX_AXIS_LABELS:
            shown.append(count - 1)
        else:
            shown[-1] = count - 1  # the latest week is named rather than the one before it
    return [label if n in shown else "" for n, label in enumerate(labels)]


@dataclass(frozen=True)
class Chart:
    """Everything a template needs to draw one chart and describe it in words."""

    title: str
    summary: str  #: one sentence a screen reader reads instead of the picture
    width: int
    height: int
    ceiling: float
    ticks: tuple[tuple[float, str], ...]  #: (y, label) for horizontal guide lines
    bars: tuple[Bar, ...] = ()
    points: tuple[Point, ...] = ()

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _plot_height() -> float:
    return HEIGHT - TOP - BOTTOM


def _ticks(ceiling: float, unit: str) -> tuple[tuple[float, str], ...]:
    steps = (0, ceiling / 2, ceiling)
    return tuple((TOP + _plot_height() * (1 - s / ceiling), f"{s:g}{unit}") for s in steps)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    ceiling: float | None = None,
    unit: str = "",
    missing: str = "no data",
) -> Chart:
    """Bars for values (None draws nothing and reads as `missing`)."""
    known = [v for v in values if v is not None]
    top = ceiling or max([*known, 1])
    slot = (WIDTH - LEFT) / max(len(labels), 1)
    bars = []
    for n, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = 0.0 if value is None else _plot_height() * min(value, top) / top
        bars.append(
            Bar(
                label=label,
                value=value,
                text=missing if value is None else f"{value:g}{unit}",
                x=LEFT + n * slot + slot * 0.2,
                y=TOP + _plot_height() - height,
                width=slot * 0.6,
                height=height,
            )
        )
    summary = "; ".join(f"{b.label}: {b.text}" for b in bars)
    return Chart(title, f"{title}. {summary}.", WIDTH, HEIGHT, top, _ticks(top, unit), tuple(bars))


def line_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    unit: str = "",
    ceiling: float,
    short: Sequence[str] | None = None,
) -> Chart:
    """A line through the values, left to right; the axis shows `short` labels (else `labels`),
    thinned to at most MAX_AXIS_LABELS."""
    count = len(labels)
    slot = (WIDTH - LEFT) / max(count, 1)
    axis = axis_labels(list(short) if short is not None else list(labels))
    points = tuple(
        Point(
            label=label,
            value=value,
            text=f"{value:g}{unit}",
            x=LEFT + slot * (n + 0.5),
            y=TOP + _plot_height() * (1 - min(value, ceiling) / ceiling),
            axis=axis[n],
        )
        for n, (label, value) in enumerate(zip(labels, values, strict=True))
    )
    summary = "; ".join(f"{p.label}: {p.text}" for p in points) or "no data yet"
    return Chart(
        title, f"{title}. {summary}.", WIDTH, HEIGHT, ceiling, _ticks(ceiling, unit), (), points
    )


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100)


def progress_charts(weeks: Sequence[WeekSummary]) -> dict[str, Chart]:
    """A plan's adherence, leaks and worst pain by week."""
    labels = [f"Week {w.week}" for w in weeks]
    return {
        "adherence": bar_chart(
            "Sessions done, by week",
            labels,
            [_percent(w.adherence) for w in weeks],
            ceiling=100,
            unit="%",
            missing="not logged",
        ),
        "leaks": bar_chart(
            "Leaks a week (mean per logged day × 7), by week",
            labels,
            [w.leaks_per_week for w in weeks],
            missing="not logged",
        ),
        "pain": bar_chart(
            "Worst pain, by week (0-10)",
            labels,
            [w.worst_pain for w in weeks],
            ceiling=10,
            missing="not logged",
        ),
    }


def assessment_charts(
    dates: Sequence[str], grades: Sequence[int | None], endurance: Sequence[int | None]
) -> dict[str, Chart]:
    """Oxford grade and endurance across assessments, oldest first (missing values skipped)."""
    graded = [(d, g) for d, g in zip(dates, grades, strict=True) if g is not None]
    held = [(d, e) for d, e in zip(dates, endurance, strict=True) if e is not None]
    return {
        "oxford": line_chart(
            "Modified Oxford grade (0-5)", [d for d, _ in graded], [g for _, g in graded], ceiling=5
        ),
        "endurance": line_chart(
            "Endurance (seconds held)",
            [d for d, _ in held],
            [e for _, e in held],
            unit=" s",
            ceiling=max([10, *(e for _, e in held)]),
        ),
    }


def outcome_charts(
    dates: Sequence[str],
    series: dict[str, Sequence[float | None]],
    weeks: Sequence[tuple[str, str, float]],
    blocks: Sequence[tuple[str, float | None]],
) -> dict[str, Chart]:
    """Outcomes across a patient's programmes: assessment measures by date (missing skipped),
    leaks a week from logs by week, and adherence by block."""
    from ..domain.outcomes import MEASURES

    charts: dict[str, Chart] = {}
    for code, values in series.items():
        known = [(d, v) for d, v in zip(dates, values, strict=True) if v is not None]
        if len(known) < 2:
            continue
        measure = MEASURES[code]
        charts[code] = line_chart(
            measure.name,
            [d for d, _ in known],
            [v for _, v in known],
            unit=measure.unit,
            ceiling=measure.ceiling or max([1, *(v for _, v in known)]),
        )
    if weeks:
        charts["leaks_week"] = line_chart(
            "Leaks a week from the logs (mean per logged day × 7), by programme week",
            [label for label, _, _ in weeks],
            [value for _, _, value in weeks],
            ceiling=max([1, *(v for _, _, v in weeks)]),
            short=[axis for _, axis, _ in weeks],
        )
    if blocks:
        charts["adherence"] = bar_chart(
            "Sessions done, by block",
            [label for label, _ in blocks],
            [_percent(share) for _, share in blocks],
            ceiling=100,
            unit="%",
            missing="not logged",
        )
    return charts
