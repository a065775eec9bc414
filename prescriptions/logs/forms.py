"""The weekly log form: mirrors the paper logging sheet, one row a day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from ..domain.adherence import LOG_FIELDS
from ..web.forms import CleanString, WholeNumber

URGENCY = [
    SelectChoice("", "–"),
    SelectChoice("0", "0 none"),
    SelectChoice("1", "1 mild"),
    SelectChoice("2", "2 moderate"),
    SelectChoice("3", "3 severe"),
]


def _range(low: int, high: int) -> list[Any]:
    return [Optional(), NumberRange(low, high, message=f"{low} to {high}.")]


class DayForm(Form):
    version = HiddenField()
    sessions_done = WholeNumber("Sessions done", validators=_range(0, 10))
    longest_hold_s = WholeNumber("Longest hold (s)", validators=_range(0, 120))
    leaks = WholeNumber("Leaks", validators=_range(0, 50))
    leak_trigger = CleanString("Leaks caused by", validators=[Length(max=120)])
    urgency = SelectField(
        "Urgency",
        choices=URGENCY,
        coerce=lambda v: None if v in ("", None) else int(v),
        validators=[Optional()],
    )
    pain = WholeNumber("Pain (0-10)", validators=_range(0, 10))
    note = CleanString("Notes", validators=[Length(max=300)])

    def is_filled(self) -> bool:
        """Whether anything was written on this day's line."""
        return any(getattr(self, name).data not in (None, "") for name in LOG_FIELDS)

    def values(self) -> dict[str, Any]:
        """The day's values, ready for operations.save_week_log."""
        return {name: getattr(self, name).data for name in LOG_FIELDS} | {
            "leak_trigger": self.leak_trigger.data or "",
            "note": self.note.data or "",
        }


class LogWeekForm(FlaskForm):
    days = FieldList(FormField(DayForm), min_entries=7, max_entries=7)

    def __init__(
        self,
        *args: Any,
        prescribed: int,
        per_day: Sequence[int] | None = None,
        days: Sequence[date] = (),
        today: date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.prescribed = prescribed
        #: the week's dates and today: a day still to come cannot be logged
        self.dates, self.today = list(days), today
        #: sessions prescribed on each of the seven days (a day logged earlier keeps its own)
        self.per_day = list(per_day) if per_day is not None else [prescribed] * 7

    def validate_days(self, field: Any) -> None:
        problems = False
        for n, (entry, allowed) in enumerate(zip(field, self.per_day, strict=False)):
            row = entry.form
            if not row.is_filled():
                continue
            day = self.dates[n] if n < len(self.dates) else None
            if day is not None and self.today is not None and day > self.today:
                row.sessions_done.errors.append(
                    f"This day is still to come (today is {self.today.strftime('%a %d %b')})."
                )
                problems = True
            elif row.sessions_done.data is None and not row.sessions_done.errors:
                row.sessions_done.errors.append("How many sessions? 0 if none.")
                problems = True
            elif (row.sessions_done.data or 0) > allowed:
                when = "this week" if allowed == self.prescribed else "that day"
                row.sessions_done.errors.append(f"At most {allowed} a day were prescribed {when}.")
                problems = True
        if problems:
            raise ValidationError("Check the days marked below.")
