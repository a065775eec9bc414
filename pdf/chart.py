"""A small two-panel bar chart of how the plan builds up week by week, drawn on the canvas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from pdf.snapshot import Dose, WeekPlan
from pdf.styles import ACCENT, ACCENT_SOFT, INK, MUTED, RULE, HandoutStyles
from pdf.text import fit, wrap


@dataclass(frozen=True, slots=True)
class Series:
    """One panel: a title and one value per week."""

    title: str
    unit: str
    values: tuple[int, ...]


NEAR_MAX_EFFORT_PCT = (
    70  #: CLINICAL.md: at this effort or more (or unset) a squeeze is near-maximal
)


def _kind(dose: Dose, kinds: Mapping[str, str]) -> str:
    return dose.kind or kinds.get(dose.exercise_code, "")


def _per_day(dose: Dose) -> int:
    return dose.reps * max(dose.sets, 1) * dose.sessions_per_day


def _near_max(dose: Dose, kind: str) -> bool:
    held = kind in ("contract", "") and bool(dose.hold_s)
    return held and (dose.effort_pct is None or dose.effort_pct >= NEAR_MAX_EFFORT_PCT)


def _gentle(dose: Dose, kind: str) -> bool:
    return (
        kind == "contract" and dose.effort_pct is not None and dose.effort_pct < NEAR_MAX_EFFORT_PCT
    )


def _let_go_minutes(week: WeekPlan, kinds: Mapping[str, str]) -> int:
    seconds = sum(
        _per_day(d) * ((d.hold_s or 0) + (d.rest_s or 0))
        for d in week.doses
        if _kind(d, kinds) in ("relax", "breath")
    )
    return max(1, round(seconds / 60)) if seconds else 0


def progression_series(
    weeks: Sequence[WeekPlan], approach: str = "", kinds: Mapping[str, str] | None = None
) -> list[Series]:
    """What matters for the template, per week; empty panels are left out.

    Strengthening counts near-maximal holds a day (never coughs, flicks, drops or breaths);
    down-training counts minutes of letting go and, once they start, gentle squeezes; a balanced
    plan shows its strong holds and its letting go.
    """
    kinds = kinds or {}
    holds = tuple(sum(_per_day(d) for d in w.doses if _near_max(d, _kind(d, kinds))) for w in weeks)
    minutes = tuple(_let_go_minutes(w, kinds) for w in weeks)
    gentle = tuple(sum(_per_day(d) for d in w.doses if _gentle(d, _kind(d, kinds))) for w in weeks)
    strong = Series("Strong slow squeezes a day", "", holds)
    letting_go = Series("Minutes of letting go a day", "min", minutes)
    if approach == "down_training":
        series = [letting_go, Series("Gentle squeezes a day", "", gentle)]
    elif approach == "balanced":
        series = [strong, letting_go]
    else:
        series = [strong]
    return [s for s in series if any(v > 0 for v in s.values)]


class ProgressionChart(Flowable):
    """Side-by-side bar charts, one bar per week, each labelled with its value."""

    def __init__(
        self,
        weeks: Sequence[WeekPlan],
        styles: HandoutStyles,
        approach: str = "",
        kinds: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.series = progression_series(weeks, approach, kinds)
        self.week_numbers = [w.number for w in weeks]
        self.styles = styles
        self.width = 0.0
        self.height = styles.chart_size * 13
        self.spaceBefore = styles.body_size * 0.5

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """Take the full frame width and a fixed height."""
        self.width = availWidth
        return self.width, self.height

    def draw(self) -> None:
        """Draw each panel in its share of the width."""
        if not self.series:
            return
        gap = 10 * mm
        panel_w = (self.width - gap * (len(self.series) - 1)) / len(self.series)
        size, bold = self.styles.chart_size, self.styles.fonts.bold
        titles = [wrap(s.title, bold, size, panel_w, max_lines=2) for s in self.series]
        title_h = max(len(t) for t in titles) * size * 1.25
        for i, (series, title) in enumerate(zip(self.series, titles, strict=True)):
            self._panel(series, title, title_h, i * (panel_w + gap), panel_w)

    def _panel(
        self, series: Series, title: list[str], title_h: float, x0: float, width: float
    ) -> None:
        canv, st = self.canv, self.styles
        size, fonts = st.chart_size, st.fonts
        top = self.height
        canv.setFillColor(ACCENT)
        canv.setFont(fonts.bold, size)
        for i, line in enumerate(title):
            canv.drawString(x0, top - size - i * size * 1.25, fit(line, fonts.bold, size, width))
        base = size * 1.8  # room for the week labels under the baseline
        bars_top = top - title_h - size * 2.0  # room for the title and the value labels
        peak = max(series.values) or 1
        slot = width / len(series.values)
        bar_w = min(slot * 0.55, 18 * mm)
        for i, value in enumerate(series.values):
            cx = x0 + slot * (i + 0.5)
            h = (bars_top - base) * value / peak
            if h > 0:
                canv.setFillColor(ACCENT_SOFT)
                canv.rect(cx - bar_w / 2, base, bar_w, h, stroke=0, fill=1)
            canv.setFillColor(INK)
            canv.setFont(fonts.bold, size)
            label = f"{value} {series.unit}".strip() if value else "–"
            canv.drawCentredString(cx, base + h + size * 0.4, label)
            canv.setFillColor(MUTED)
            canv.setFont(fonts.regular, size)
            week = f"Week {self.week_numbers[i]}"
            if canv.stringWidth(week, fonts.regular, size) > slot * 0.95:
                week = str(self.week_numbers[i])
            canv.drawCentredString(cx, base - size * 1.3, week)
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.8)
        canv.line(x0, base, x0 + width, base)
