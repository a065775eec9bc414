"""What the reader made of a page, as stored with a scan, and the log form rows it fills.

Pure functions over plain values: the reader's output becomes JSON once, at upload; the log form
is filled from that JSON at confirmation, over the days already saved.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sheets import SheetRead

#: The reader's field names, and the log form fields they fill.
READ_FIELDS = {"sessions": "sessions_done", "pain": "pain", "urgency": "urgency", "leaks": "leaks"}
#: Handwritten cells the reader crops but never reads, and the inputs they are shown beside.
CELL_FIELDS = {"hold": "longest_hold_s", "trigger": "leak_trigger", "notes": "note"}
#: The sheet's last leaks circle means "five or more".
LEAKS_OR_MORE = 5


def reading_of(read: SheetRead) -> dict[str, Any]:
    """The JSON kept with a scan: each dated day's marks and doubts, and its handwritten cells."""
    days = []
    for d in read.days:
        if d.date is None:
            continue
        days.append(
            {
                "date": d.date.isoformat(),
                "sessions": list(d.sessions),
                "pain": d.pain,
                "urgency": d.urgency,
                "leaks": d.leaks,
                "unsure": list(d.unsure),
            }
        )
    crops: dict[str, str] = {}
    for key, png in read.crops().items():
        day, cell = key.split("/")
        when = read.layout.day_date(int(day))
        if when is not None and cell in CELL_FIELDS:
            crops[f"{when.isoformat()}/{cell}"] = base64.b64encode(png).decode()
    return {"page": read.spec.page, "days": days, "crops": crops}


@dataclass(frozen=True)
class FilledDay:
    """One line of the week's log form as the sheet fills it."""

    values: dict[str, Any]  #: form field name to value; only the fields the sheet decides
    read: bool  #: whether the sheet had anything on this day
    unsure: tuple[str, ...]  #: form fields to check against the paper
    notes: dict[str, str]  #: form field to a short word on why it is highlighted
    images: dict[str, str]  #: form field to a data: URL of the handwritten cell


def filled_days(reading: Mapping[str, Any], days: Sequence[date]) -> list[FilledDay]:
    """The week's seven lines as the sheet fills them (days not on this page stay unread)."""
    by_date = {d["date"]: d for d in reading.get("days", [])}
    crops = reading.get("crops", {})
    out = []
    for day in days:
        key = day.isoformat()
        images = {
            field: "data:image/png;base64," + crops[f"{key}/{cell}"]
            for cell, field in CELL_FIELDS.items()
            if f"{key}/{cell}" in crops
        }
        d = by_date.get(key)
        if d is None:
            out.append(FilledDay({}, False, (), {}, images))
            continue
        unsure = [READ_FIELDS[f] for f in d.get("unsure", []) if f in READ_FIELDS]
        marked = any(d["sessions"]) or any(d[f] is not None for f in ("pain", "urgency", "leaks"))
        if not marked and not unsure:
            out.append(FilledDay({}, False, (), {}, images))
            continue
        values: dict[str, Any] = {}
        notes = {f: "Check: the reader was not sure." for f in unsure}
        if "sessions_done" not in unsure:
            values["sessions_done"] = sum(1 for s in d["sessions"] if s)
        for name in ("pain", "urgency", "leaks"):
            # an unsure field keeps the reader's offer when it made one (a re-mark beside a
            # scribble), highlighted; otherwise it stays empty for the therapist to fill
            if READ_FIELDS[name] not in unsure or d[name] is not None:
                values[name] = d[name]
        if values.get("leaks") == LEAKS_OR_MORE:
            unsure.append("leaks")
            notes["leaks"] = "Five or more on the sheet: type the number if it is written."
        out.append(FilledDay(values, True, tuple(unsure), notes, images))
    return out
