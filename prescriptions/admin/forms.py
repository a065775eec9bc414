"""Administrator forms: accounts and clinic settings."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..accounts.queries import fetch_clinic_by_name, fetch_user_by_email
from ..auth.forms import NewPasswordMixin
from ..domain.emergency import COUNTRIES, default_numbers
from ..domain.vocab import Paper, Role
from ..web.forms import (
    CleanString,
    CleanText,
    EmailAddress,
    OnceForm,
    VersionedForm,
    choices_of,
)
from .logos import LogoError, clean_logo


class UserForm(NewPasswordMixin, OnceForm):
    name = CleanString("Name", validators=[InputRequired(), Length(max=120)])
    email = EmailField("Email", validators=[InputRequired(), EmailAddress(), Length(max=254)])
    role = SelectField("Role", choices=choices_of(Role), default=Role.CLINICIAN.value)

    def validate_email(self, field: Any) -> None:
        if fetch_user_by_email(field.data or ""):
            raise ValidationError("An account with this email already exists.")


def _phone_like(form: Any, field: Any) -> None:
    """A number to dial: digits, spaces and + ( ) - only, with at least one digit."""
    value = field.data or ""
    if value and (not re.fullmatch(r"[0-9 +()\-]+|[0-9 +()\-]+( or [0-9 +()\-]+)*", value)
                  or not re.search(r"[0-9]", value)):  # fmt: skip
        raise ValidationError("Use digits, spaces and + ( ) - only, e.g. 999 or 112.")


class ClinicForm(VersionedForm):
    name = CleanString("Clinic name", validators=[InputRequired(), Length(max=120)])
    address = CleanText("Address", validators=[Length(max=300)])
    phone = CleanString(
        "Phone", validators=[InputRequired(), Length(max=40)], description="On every handout page."
    )
    email = EmailField("Email", validators=[Optional(), EmailAddress(), Length(max=254)])
    paper = SelectField("Default paper size", choices=choices_of(Paper))
    country = SelectField(
        "Country",
        choices=[("", "Choose a country"), *((code, c.label) for code, c in COUNTRIES.items()),
                 ("XX", "Somewhere else")],
        description="Fills in the emergency numbers below if you leave them empty; check them.",
    )  # fmt: skip
    emergency_number = CleanString(
        "Emergency number",
        validators=[Length(max=20), _phone_like],
        description="Printed in the handout's “Get help now” box and on every page, e.g. 999.",
    )
    out_of_hours_number = CleanString(
        "Out-of-hours advice line",
        validators=[Length(max=40)],
        description="For worries that cannot wait when you are closed, e.g. NHS 111.",
    )
    footer_text = CleanString(
        "Handout footer",
        validators=[Length(max=300)],
        description="A short line printed at the foot of every handout page, e.g. opening hours.",
    )
    logo_upload = FileField(
        "Logo", description="PNG or JPEG, up to 512 KB. Printed at the top of the handout."
    )
    remove_logo = BooleanField("Remove the current logo")
    keep_scans = BooleanField(
        "Keep scanned sheets on record",
        description="Off: a scanned sheet is deleted once its week is saved. On: the page image is "
        "kept with the clinic's records.",
    )

    def __init__(self, *args: Any, clinic_id: int, max_logo_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clinic_id = clinic_id
        self._max_logo_bytes = max_logo_bytes
        self.logo_png: bytes | None = None

    def values(self) -> dict[str, Any]:
        """The clinic's stored fields; the logo only when it is replaced or removed."""
        fields: dict[str, Any] = {
            name: getattr(self, name).data or ""
            for name in ("name", "address", "phone", "email", "paper", "footer_text")
        }
        numbers = default_numbers(self.country.data or "")
        fields["country"] = self.country.data or ""
        fields["keep_scans"] = bool(self.keep_scans.data)
        fields["emergency_number"] = self.emergency_number.data or (
            numbers.emergency if numbers else ""
        )
        fields["out_of_hours_number"] = self.out_of_hours_number.data or (
            numbers.out_of_hours if numbers else ""
        )
        if self.logo_png is not None:
            fields["logo"] = self.logo_png
        elif self.remove_logo.data:
            fields["logo"] = None
        return fields

    def validate_logo_upload(self, field: Any) -> None:
        upload = field.data
        if upload is None or not getattr(upload, "filename", ""):
            return
        try:
            self.logo_png = clean_logo(upload.read(self._max_logo_bytes + 1), self._max_logo_bytes)
        except LogoError as error:
            raise ValidationError(str(error)) from error

    def validate_name(self, field: Any) -> None:
        other = fetch_clinic_by_name(field.data or "")
        if other is not None and other.id != self._clinic_id:
            raise ValidationError("Another clinic already uses this name.")
