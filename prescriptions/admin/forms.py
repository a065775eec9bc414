"""Administrator forms: accounts and clinic settings."""

from __future__ import annotations

from typing import Any

from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..accounts.queries import fetch_clinic_by_name, fetch_user_by_email
from ..auth.forms import NewPasswordMixin
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
    logo_upload = FileField(
        "Logo", description="PNG or JPEG, up to 512 KB. Printed at the top of the handout."
    )
    remove_logo = BooleanField("Remove the current logo")

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
