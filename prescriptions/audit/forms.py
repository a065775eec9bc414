"""Filters of the audit log page."""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms import DateField, Form, SelectField
from wtforms.validators import Length, Optional, ValidationError

from ..web.forms import CleanString


def _audit_date_in_range(form: Any, field: Any) -> None:
    # Also keeps "last + 1 day" inside what a datetime can hold (9999-12-31 was a 500).
    if field.data and not date(2000, 1, 1) <= field.data <= date(2100, 12, 31):
        raise ValidationError("Choose a date between 2000 and 2100.")


class AuditFilterForm(Form):
    """Filters of the audit page (a GET form: no CSRF)."""

    action = SelectField("What", default="", validate_choice=True)
    actor = CleanString("Who (email contains)", validators=[Length(max=254)])
    first = DateField("From", validators=[Optional(), _audit_date_in_range])
    last = DateField("To", validators=[Optional(), _audit_date_in_range])
