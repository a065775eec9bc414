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

#: The bounds of a logged day's numbers: the week form (typed or from a scan) and the phone.
DAY_LIMITS = {
    "sessions_done": (0, 10),
    "longest_hold_s": (0, 120),
    "leaks": (0, 50),
    "pain": (0, 10),
}
#: The urgency scale, 0 to 3.
URGENCY_WORDS = ("none", "mild", "moderate", "severe")


def day_range(name: str, message: str = "{low} to {high}.") -> list[Any]:
    """A log number's validators: blank, or within the day's bounds (each form words the error)."""
    low, high = DAY_LIMITS[name]
    return [Optional(), NumberRange(low, high, message=message.format(low=low, high=high))]


def _urgency(value: Any) -> int | None:
    return None if value in ("", None) else int(value)


def urgency_field(label: str, *, blank: str, between: str = " ") -> SelectField:
    """The urgency select: a blank choice, then each level as number, `between`, word."""
    levels = [SelectChoice(str(n), f"{n}{between}{word}") for n, word in enumerate(URGENCY_WORDS)]
    choices = [SelectChoice("", blank), *levels]
    return SelectField(label, choices=choices, coerce=_urgency, validators=[Optional()])


class DayForm(Form):
    version = HiddenField()
    sessions_done = WholeNumber("Sessions done", validators=day_range("sessions_done"))
    longest_hold_s = WholeNumber("Longest hold (s)", validators=day_range("longest_hold_s"))
    leaks = WholeNumber("Leaks", validators=day_range("leaks"))
    leak_trigger = CleanString("Leaks caused by", validators=[Length(max=120)])
    urgency = urgency_field("Urgency", blank="–")
    pain = WholeNumber("Pain (0-10)", validators=day_range("pain"))
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
