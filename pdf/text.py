"""Turning snapshot text into safe markup and plain labels: cleaning, escaping, dates, doses."""

from __future__ import annotations

import re
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth

from pdf.snapshot import Dose

ELLIPSIS = "…"
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SPACES = re.compile(r" +")
# Control characters (Unicode category Cc, bar the line feed) and lone surrogates cannot be set
# or encoded; unassigned or private-use code points print as the font's empty box, which is fine.
_UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean(text: str) -> str:
    """Normalise line breaks and drop characters that cannot be printed at all."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _UNPRINTABLE.sub("", text)
    if "  " in text or " \n" in text or "\n " in text:
        text = _SPACES.sub(" ", text)
        text = "\n".join(line.strip() for line in text.split("\n"))
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def one_line(text: str) -> str:
    """Clean text and fold it onto a single line, for headers, labels and metadata."""
    return " ".join(clean(text).split())


def markup(text: str) -> str:
    """Escape text for Paragraph markup, keeping the writer's line breaks."""
    return escape(clean(text)).replace("\n", "<br/>")


def fit(text: str, font: str, size: float, width: float) -> str:
    """Return text, cut with an ellipsis if needed, so that it fits in width points."""
    if stringWidth(text, font, size) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits together with the ellipsis
        mid = (lo + hi + 1) // 2
        if stringWidth(text[:mid].rstrip() + ELLIPSIS, font, size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS if lo else ""


def long_date(day: date) -> str:
    """'Monday 3 March 2025'."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def short_date(day: date) -> str:
    """'3 Mar'."""
    return f"{day.day} {_MONTHS[day.month - 1][:3]}"


def day_name(day: date) -> str:
    """'Mon'."""
    return _DAYS[day.weekday()][:3]


def date_range(start: date, end: date) -> str:
    """'3 March to 30 March 2025', with the year shown once when both dates share it."""
    head = f"{start.day} {_MONTHS[start.month - 1]}"
    if start.year != end.year:
        head += f" {start.year}"
    return f"{head} to {end.day} {_MONTHS[end.month - 1]} {end.year}"


def times_a_day(n: int) -> str:
    """'once a day', '3 times a day'."""
    return "once a day" if n == 1 else f"{n} times a day"


def _unit(n: int, unit: str) -> str:
    # A no-break space keeps a number with its unit when a narrow cell wraps.
    return f"{n}\u00a0{unit}"


def dose_amount(dose: Dose) -> str:
    """The hold and rest part of a dose: 'hold 5 s, rest 10 s', or '' for quick exercises."""
    parts = []
    if dose.hold_s:
        parts.append(f"hold {_unit(dose.hold_s, 's')}")
    if dose.rest_s:
        parts.append(f"rest {_unit(dose.rest_s, 's')}")
    return ", ".join(parts)


def dose_count(dose: Dose) -> str:
    """How many: '8 times' or '2 sets of 8'."""
    times = "1\u00a0time" if dose.reps == 1 else _unit(dose.reps, "times")
    return times if dose.sets <= 1 else f"{dose.sets} sets of {dose.reps}"


def dose_lines(dose: Dose, week_sessions: int | None = None, with_note: bool = True) -> list[str]:
    """A dose as short lines for the week grid; sessions shown only if unlike the week's."""
    lines = []
    if dose.hold_s:
        lines.append(f"Hold {_unit(dose.hold_s, 's')}")
    if dose.rest_s:
        lines.append(f"Rest {_unit(dose.rest_s, 's')}")
    count = dose_count(dose)
    if dose.sessions_per_day != week_sessions:
        count += f", {times_a_day(dose.sessions_per_day)}"
    lines.append(count)
    detail = [one_line(dose.position)] if one_line(dose.position) else []
    if dose.effort_pct is not None:
        detail.append(f"{dose.effort_pct}% effort")
    if detail:
        lines.append(", ".join(detail))
    if with_note and one_line(dose.note):
        lines.append(one_line(dose.note))
    return lines


def dose_sentence(dose: Dose, with_note: bool = True) -> str:
    """A dose on one line for the log sheet: 'Slow holds: hold 5 s, rest 10 s, 8 times, lying'."""
    parts = [dose_amount(dose), dose_count(dose), one_line(dose.position).lower()]
    if dose.effort_pct is not None:
        parts.append(f"{dose.effort_pct}% effort")
    if with_note:
        parts.append(one_line(dose.note))
    return f"{one_line(dose.exercise_name)}: " + ", ".join(p for p in parts if p)


def short_range(start: date, end: date) -> str:
    """'3–9 Mar', or '28 Mar–3 Apr' across a month end."""
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{short_date(end)}"
    return f"{short_date(start)}–{short_date(end)}"


def wrap(text: str, font: str, size: float, width: float, max_lines: int = 0) -> list[str]:
    """Break text into lines no wider than width; over-long words and the last line are cut."""
    lines = [fit(line, font, size, width) for line in simpleSplit(text, font, size, width)]
    if max_lines and len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [fit(" ".join(lines[max_lines - 1 :]), font, size, width)]
    return lines
