"""The editor's structural actions (add, remove, reorder, copy a week) over rows as typed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.catalogue import SLOW_HOLD, Exercise
from ..domain.progression import WEEKS
from ..web.forms import whole_number
from .forms import MAX_ITEMS_PER_WEEK, new_row

Row = dict[str, Any]


def _week_of(row: Mapping[str, Any]) -> int | None:
    value = str(row.get("week", ""))
    return whole_number(value)


def _indexes(rows: list[Row], week: int) -> list[int]:
    return [i for i, row in enumerate(rows) if _week_of(row) == week]


def apply_action(rows: list[Row], action: str, exercises: Mapping[str, Exercise]) -> list[Row]:
    """The rows after one editor action such as "add:2", "remove:5", "up:3" or "copy:1"."""
    verb, _, argument = action.partition(":")
    number = whole_number(argument)
    if number is None:
        return rows
    rows = [dict(row) for row in rows]
    if verb == "add" and number in WEEKS:
        in_week = _indexes(rows, number)
        if len(in_week) < MAX_ITEMS_PER_WEEK:
            like = rows[in_week[-1]] if in_week else None
            default = exercises.get(SLOW_HOLD) or next(iter(exercises.values()))
            rows.append(new_row(number, like, default))
    elif verb == "remove" and number < len(rows):
        del rows[number]
    elif verb in ("up", "down") and number < len(rows):
        # A row whose week was mistyped sits in no week: there is nothing to swap it with.
        in_week = _indexes(rows, _week_of(rows[number]) or 0)
        if number not in in_week:
            return rows
        at = in_week.index(number)
        other = at - 1 if verb == "up" else at + 1
        if 0 <= other < len(in_week):
            a, b = in_week[at], in_week[other]
            rows[a], rows[b] = rows[b], rows[a]
    elif verb == "copy" and number in WEEKS[:-1]:
        copied = [{**rows[i], "week": number + 1} for i in _indexes(rows, number)]
        rows = [row for row in rows if _week_of(row) != number + 1] + copied
    return rows
