"""Sign-in, first-run setup and password forms."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from ..domain.vocab import Paper
from ..web.forms import CleanString, EmailAddress, choices_of
from .passwords import MAX_LENGTH, password_problem


def _no_control_characters(form: Any, field: Any) -> None:
    # The email is looked up and audited as typed: PostgreSQL refuses NUL in text (was a 500).
    if field.data and any(ord(ch) < 32 or ord(ch) == 127 for ch in field.data):
        raise ValidationError("Remove the control characters from this field.")


class LoginForm(FlaskForm):
    email = EmailField(
        "Email", validators=[InputRequired(), Length(max=254), _no_control_characters]
    )
    password = PasswordField("Password", validators=[InputRequired(), Length(max=MAX_LENGTH)])


class NewPasswordMixin:
    """A new password and its confirmation, checked against the policy."""

    password = PasswordField(
        "Password",
        validators=[InputRequired()],
        description="At least 12 characters. A short phrase is easy to remember and hard to guess.",
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[InputRequired(), EqualTo("password", message="The two passwords differ.")],
    )

    #: the account's own email and name when the form has no such fields (a reset link)
    known_email = ""
    known_name = ""

    def validate_password(self, field: Any) -> None:
        email = getattr(getattr(self, "email", None), "data", "") or self.known_email
        name = getattr(getattr(self, "name", None), "data", "") or self.known_name
        problem = password_problem(field.data or "", email=email, name=name)
        if problem:
            raise ValidationError(problem)


class SetupForm(NewPasswordMixin, FlaskForm):
    clinic_name = CleanString("Clinic name", validators=[InputRequired(), Length(max=120)])
    clinic_phone = CleanString(
        "Clinic phone",
        validators=[InputRequired(), Length(max=40)],
        description="Printed on every handout page.",
    )
    paper = SelectField("Paper size", choices=choices_of(Paper), default=Paper.A4.value)
    name = CleanString("Your name", validators=[InputRequired(), Length(max=120)])
    email = EmailField("Your email", validators=[InputRequired(), EmailAddress(), Length(max=254)])


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current = PasswordField("Current password", validators=[InputRequired(), Length(max=256)])


class CodeForm(FlaskForm):
    """The second step of signing in: a code from the app, or a recovery code."""

    code = StringField(
        "Code",
        validators=[InputRequired(), Length(max=32), _no_control_characters],
        description="The six-digit code your authenticator app shows now, or one of your "
        "recovery codes.",
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"},
    )


class EnrolForm(FlaskForm):
    """Confirm a new authenticator with the code it shows."""

    code = StringField(
        "Code from the app",
        validators=[InputRequired(), Length(max=32), _no_control_characters],
        description="Six digits. Type them as the app shows them now.",
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ForgotForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[InputRequired(), Length(max=254), _no_control_characters],
        description="The address you sign in with.",
    )


class ResetForm(NewPasswordMixin, FlaskForm):
    """A new password chosen through a reset link."""
