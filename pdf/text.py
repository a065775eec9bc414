"""Turning snapshot text into safe markup and plain labels: cleaning, escaping, dates, doses."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
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


@lru_cache(maxsize=8192)
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


@lru_cache(maxsize=8192)
def one_line(text: str) -> str:
    """Clean text and fold it onto a single line, for headers, labels and metadata."""
    return " ".join(clean(text).split())


@lru_cache(maxsize=8192)
def markup(text: str) -> str:
    """Escape text for Paragraph markup, keeping the writer's line breaks."""
    return escape(clean(text)).replace("\n", "<br/>")


@lru_cache(maxsize=4096)
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
    """'3 to 30 March 2025', '28 March to 3 April 2025': the month and year each shown once
    when both dates share them."""
    head = f"{start.day}"
    if (start.year, start.month) != (end.year, end.month):
        head += f" {_MONTHS[start.month - 1]}"
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
    # Drops and breaths are never a "hold" (CLINICAL.md "Dose words").
    first, second = {"relax": ("let go", "rest"), "breath": ("in about", "out about")}.get(
        dose.kind, ("hold", "rest")
    )
    if dose.hold_s:
        parts.append(f"{first} {_unit(dose.hold_s, 's')}")
    if dose.rest_s:
        parts.append(f"{second} {_unit(dose.rest_s, 's')}")
    return ", ".join(parts)


def dose_count(dose: Dose) -> str:
    """How many: '8 times' or '2 sets of 8'."""
    if dose.kind in _REP_NOUN:
        one, many = _REP_NOUN[dose.kind]
        times = _unit(dose.reps, one if dose.reps == 1 else many)
        return times if dose.sets <= 1 else f"{dose.sets} sets of {times}"
    times = "1\u00a0time" if dose.reps == 1 else _unit(dose.reps, "times")
    return times if dose.sets <= 1 else f"{dose.sets} sets of {dose.reps}"


def dose_lines(dose: Dose, week_sessions: int | None = None, with_note: bool = True) -> list[str]:
    """A dose as short lines for the week grid; sessions shown only if unlike the week's."""
    lines = [part[0].upper() + part[1:] for part in dose_amount(dose).split(", ") if part]
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
    return list(_wrap(text, font, size, width, max_lines))


@lru_cache(maxsize=4096)
def _wrap(text: str, font: str, size: float, width: float, max_lines: int) -> tuple[str, ...]:
    lines = [fit(line, font, size, width) for line in simpleSplit(text, font, size, width)]
    if max_lines and len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [fit(" ".join(lines[max_lines - 1 :]), font, size, width)]
    return tuple(lines)


# -- dose words (CLINICAL.md "Dose words") --------------------------------------------------

#: positions in plain words; "functional" is jargon a patient never reads
POSITION_WORDS = {
    "lying": "lying on your back with knees bent",
    "side_lying": "lying on your side",
    "sitting": "sitting",
    "standing": "standing",
    "functional": "while you do everyday things (lifting, coughing, standing up)",
}
_POSITION_LABELS = {"side-lying": "side_lying", "side lying": "side_lying"}
#: what one repetition is called, per kind of exercise
_REP_NOUN = {
    "contract": ("squeeze", "squeezes"),
    "relax": ("drop", "drops"),
    "breath": ("breath", "breaths"),
    "functional": ("squeeze", "squeezes"),
}
NEAR_MAX_EFFORT_PCT = 70  #: a squeeze at this effort or more (or unset) is near-maximal


def position_code(dose: Dose) -> str:
    """The dose's position code, from the code or else from its label."""
    if dose.position_code:
        return dose.position_code
    label = one_line(dose.position).lower()
    return _POSITION_LABELS.get(label, label if label in POSITION_WORDS else "")


def position_words(dose: Dose) -> str:
    """'lying on your back with knees bent', or the clinic's own label as written."""
    return POSITION_WORDS.get(position_code(dose), one_line(dose.position))


def effort_words(pct: int) -> str:
    """An effort said in words: 'about half your strongest squeeze'."""
    if pct <= 35:
        return "about a third of your strongest squeeze"
    if pct <= 55:
        return "about half your strongest squeeze"
    if pct <= 80:
        return "about three quarters of your strongest squeeze"
    return "as strong a squeeze as you can"


def _seconds(n: int) -> str:
    return "1\u00a0second" if n == 1 else f"{n}\u00a0seconds"


def _count_words(dose: Dose) -> str:
    """'8 squeezes, 3 times a day' or '2 sets of 8 drops, twice a day': never a bare '8 times'."""
    one, many = _REP_NOUN.get(dose.kind, ("time", "times"))
    if dose.kind:
        reps = f"{dose.reps}\u00a0{one if dose.reps == 1 else many}"
    else:
        reps = f"{dose.reps}\u00a0{'time' if dose.reps == 1 else 'times'} in a row"
    if dose.sets > 1:
        reps = f"{dose.sets} sets of {reps}"
    return f"{reps}, {times_a_day(dose.sessions_per_day)}"


def dose_words(dose: Dose, approach: str = "") -> list[str]:
    """A dose as plain sentences for the week table, in the words its kind of exercise needs."""
    hold, rest = dose.hold_s, dose.rest_s
    then_rest = f", then rest {_seconds(rest)}" if rest else ""
    out: list[str] = []
    if dose.kind == "breath":
        breath_in = _seconds(hold) if hold else "a few seconds"
        breath_out = f"about {_seconds(rest)}" if rest else "a little longer"
        out.append(
            f"Breathe in slowly for about {breath_in}, letting your pelvic floor soften; "
            f"breathe out for {breath_out}."
        )
    elif dose.kind == "relax":
        if hold:
            out.append(f"Let go gently for {_seconds(hold)}{then_rest}.")
        else:
            out.append("Let go gently, then rest." if rest else "Let go gently.")
    elif hold:
        out.append(f"Squeeze and hold for {_seconds(hold)}{then_rest}.")
    elif rest:
        out.append(f"Rest {_seconds(rest)} between squeezes.")
    out.append(_count_words(dose)[0].upper() + _count_words(dose)[1:] + ".")
    gentle = dose.effort_pct is not None and dose.effort_pct < NEAR_MAX_EFFORT_PCT
    if dose.effort_pct is not None and dose.kind in ("contract", "functional", ""):
        lead = "Gently: " if gentle else "Effort: "
        out.append(lead + effort_words(dose.effort_pct) + ".")
    elif approach == "down_training" and dose.kind in ("contract", "functional"):
        out.append("Gently: " + effort_words(50) + ".")
    where = position_words(dose)
    if where:
        out.append(where[0].upper() + where[1:] + ".")
    return out
