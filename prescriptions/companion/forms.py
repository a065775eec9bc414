"""Forms of the companion: the patient's (checked by a per-link form key) and the therapist's."""

from __future__ import annotations

import hmac
import re
from datetime import time
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ..logs.forms import day_range, urgency_field
from ..web.forms import CleanString, WholeNumber

_IDEMPOTENCY = re.compile(r"[A-Za-z0-9_-]{8,64}")


def _within(name: str) -> list[Any]:
    return day_range(name, "A number from {low} to {high}.")


class PatientForm(Form):
    """A patient POST: the link's form key (CSRF without a session) and an idempotency key."""

    form_key = HiddenField()
    key = HiddenField()

    def __init__(self, *args: Any, expected_key: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected_key = expected_key

    def validate_form_key(self, field: Any) -> None:
        if not hmac.compare_digest(str(field.data or ""), self.expected_key):
            raise ValidationError("This page is out of date. Please open your link again.")

    def validate_key(self, field: Any) -> None:
        if not _IDEMPOTENCY.fullmatch(str(field.data or "")):
            raise ValidationError("This page is out of date. Please open your link again.")


class TapForm(PatientForm):
    """One session done."""


class DaySheetForm(PatientForm):
    """The rest of the day's sheet, as on paper, and a question for the next visit."""

    leaks = WholeNumber("How many leaks?", validators=_within("leaks"))
    leak_trigger = CleanString("What caused them?", validators=[Length(max=120)])
    urgency = urgency_field(
        "Urgency (how strong the need to rush was)", blank="Not filled in", between=": "
    )
    pain = WholeNumber("Pain, 0 (none) to 10 (worst)", validators=_within("pain"))
    longest_hold_s = WholeNumber(
        "Longest squeeze you held (seconds)", validators=_within("longest_hold_s")
    )
    note = CleanString("A note about the day", validators=[Length(max=300)])
    question = TextAreaField(
        "A question for your next visit",
        filters=[lambda v: (v or "").strip()],
        validators=[Length(max=500)],
    )

    def validate_question(self, field: Any) -> None:
        if any(ord(c) < 32 and c not in "\n\r\t" for c in field.data or ""):
            raise ValidationError("Please use plain text.")

    def values(self) -> dict[str, Any]:
        """The log values (the question goes elsewhere)."""
        return {
            "leaks": self.leaks.data,
            "leak_trigger": self.leak_trigger.data or "",
            "urgency": self.urgency.data,
            "pain": self.pain.data,
            "longest_hold_s": self.longest_hold_s.data,
            "note": self.note.data or "",
        }


_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


class ReminderForm(Form):
    """Reminder times for the calendar file: one a session (read from the query string)."""

    first = StringField("First session", validators=[DataRequired()], default="08:00")
    second = StringField("Second session", default="13:00")
    third = StringField("Third session", default="19:00")
    fourth = StringField("Fourth session", default="21:00")

    def times(self) -> list[time]:
        """The chosen times, in order, skipping blanks."""
        out = []
        for field in (self.first, self.second, self.third, self.fourth):
            match = _TIME.fullmatch((field.data or "").strip())
            if match:
                out.append(time(int(match[1]), int(match[2])))
        return out

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        for field in (self.first, self.second, self.third, self.fourth):
            text = (field.data or "").strip()
            if text and not _TIME.fullmatch(text):
                field.errors = [*field.errors, "A time like 08:30 (24-hour clock)."]
                ok = False
        return ok


class LinkForm(FlaskForm):
    """The therapist's issue, reissue and revoke buttons (CSRF as every staff form)."""


class SendForm(FlaskForm):
    """Send the link to the patient's e-mail address."""

    email = StringField("E-mail address", validators=[DataRequired(), Length(max=254)])
