"""Administrator forms: accounts and clinic settings."""

from __future__ import annotations

from typing import Any

from wtforms import DateField, EmailField, Form, SelectField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from .. import queries
from ..auth.forms import NewPasswordMixin
from ..domain.vocab import Paper, Role
from ..forms import CleanString, CleanText, EmailAddress, OnceForm, VersionedForm, choices_of


class UserForm(NewPasswordMixin, OnceForm):
    name = CleanString("Name", validators=[InputRequired(), Length(max=120)])
    email = EmailField("Email", validators=[InputRequired(), EmailAddress(), Length(max=254)])
    role = SelectField("Role", choices=choices_of(Role), default=Role.CLINICIAN.value)

    def validate_email(self, field: Any) -> None:
        if queries.fetch_user_by_email(field.data or ""):
            raise ValidationError("An account with this email already exists.")


class ClinicForm(VersionedForm):
    name = CleanString("Clinic name", validators=[InputRequired(), Length(max=120)])
    address = CleanText("Address", validators=[Length(max=300)])
    phone = CleanString(
        "Phone", validators=[InputRequired(), Length(max=40)], description="On every handout page."
    )
    email = EmailField("Email", validators=[Optional(), EmailAddress(), Length(max=254)])
    paper = SelectField("Default paper size", choices=choices_of(Paper))
    footer_text = CleanString(
        "Handout footer",
        validators=[Length(max=300)],
        description="A short line printed at the foot of every handout page, e.g. opening hours.",
    )

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clinic_id = clinic_id

    def validate_name(self, field: Any) -> None:
        other = queries.fetch_clinic_by_name(field.data or "")
        if other is not None and other.id != self._clinic_id:
            raise ValidationError("Another clinic already uses this name.")


class AuditFilterForm(Form):
    """Filters of the audit page (a GET form: no CSRF)."""

    action = SelectField("What", default="", validate_choice=True)
    actor = CleanString("Who (email contains)", validators=[Length(max=254)])
    first = DateField("From", validators=[Optional()])
    last = DateField("To", validators=[Optional()])
