"""Form pieces shared by every feature."""

from __future__ import annotations

import re
import secrets
import unicodedata
from enum import StrEnum
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError

from ..domain.vocab import label

#: what a one-time token may look like (secrets.token_urlsafe; it fits submission.token)
ONCE_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class OnceForm(FlaskForm):
    """A create form carrying a one-time token, so a double click makes one record."""

    once = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A missing or tampered token (too long for the column, NUL, any other character) is
        # replaced by a fresh one: the submission is then simply not protected from repeats.
        if not ONCE_TOKEN.fullmatch(str(self.once.data or "")):
            self.once.data = secrets.token_urlsafe(24)


class VersionedForm(FlaskForm):
    """An edit form carrying the row version it was opened at (no lost updates)."""

    version = HiddenField()

    def version_number(self) -> int:
        """The version the user saw, or -1 when the field was tampered with."""
        number = whole_number(self.version.data)
        return -1 if number is None else number


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (accessible without JavaScript)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


#: Characters that show nothing although str.strip() keeps them: blank letters and symbols.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _invisible(ch: str) -> bool:
    """White space, or a character that prints nothing (zero-width space, joiners, BOM...)."""
    return ch.isspace() or ch in _BLANK_GLYPHS or unicodedata.category(ch) in ("Cf", "Zs")


def strip(value: Any) -> Any:
    """Trim surrounding white space and invisible characters from text input."""
    if not isinstance(value, str):
        return value
    start, end = 0, len(value)
    while start < end and _invisible(value[start]):
        start += 1
    while end > start and _invisible(value[end - 1]):
        end -= 1
    return value[start:end]


def _clean_text_checks(field: Any, *, multiline: bool) -> None:
    """Shared by the text fields: required means something visible; no control codes."""
    if field.flags.required and not (field.data and not all(map(_invisible, field.data))):
        # InputRequired looks at the raw input, where "   " or a zero-width space counts.
        raise StopValidation("This field is required.")
    _refuse_control_characters(field.data, multiline=multiline)


def _refuse_control_characters(text: str | None, *, multiline: bool) -> None:
    allowed = "\t\r\n" if multiline else "\t"
    if text and any((ord(ch) < 32 and ch not in allowed) or ord(ch) == 127 for ch in text):
        raise ValidationError("Remove the control characters from this field.")


class _Clean:
    """Trims white space and refuses control characters (line breaks only when `multiline`)."""

    multiline = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("filters", [strip])
        super().__init__(*args, **kwargs)

    def pre_validate(self, form: Any) -> None:
        _clean_text_checks(self, multiline=self.multiline)


class CleanString(_Clean, StringField):
    """A one-line text field that trims white space and refuses control characters."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        self.data = self.data or ""


class CleanText(_Clean, TextAreaField):
    """A multi-line text field that trims white space and refuses control characters."""

    multiline = True


#: beyond any bound a form checks; longer numbers are refused before the range check
WHOLE_NUMBER_MAX = 10**9


class WholeNumber(IntegerField):
    """A whole-number field typed as text, so the server sees what was typed.

    A browser's number input drops what it cannot parse ("1e", "two") before the form is sent,
    and reads "2,5" as 25 in some locales; a text input with inputmode="numeric" keeps the phone's
    digit keyboard and sends the typing as it is. A refused value is shown back as typed, with
    one message saying why.
    """

    widget = widgets.TextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        render_kw = {"inputmode": "numeric", "autocomplete": "off", **kwargs.pop("render_kw", {})}
        super().__init__(*args, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        if text == "":
            self.data = None
            return
        number = whole_number(text.removeprefix("+"))
        if number is None and text.startswith("-") and whole_number(text[1:]) is not None:
            number = -int(text[1:])
        if number is None:
            self.data = None
            if re.fullmatch(r"[+-]?\d+[.,]\d*", text):
                raise ValueError("Enter a whole number. Leave out the decimal part.")
            raise ValueError("Enter a whole number. Use digits, like 5.")
        if abs(number) > WHOLE_NUMBER_MAX:
            # the range check compares as a float, which a number this long overflows
            self.data = None
            raise ValueError("That number is far too large.")
        self.data = number

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:  # one message for one mistake: no range check on no number
            raise StopValidation()


class EmailAddress:
    """A syntactically valid email address; no DNS look-up, and `.test` domains allowed."""

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return
        try:
            validate_email(field.data, check_deliverability=False, test_environment=True)
        except EmailNotValidError as error:
            raise ValidationError("Enter a valid email address, like name@example.org.") from error


def choices_of(enum: type[StrEnum], *, blank: str | None = None) -> list[SelectChoice]:
    """Select/radio/checkbox choices for a vocabulary, optionally led by a blank choice."""
    options = [SelectChoice(member.value, label(member)) for member in enum]
    return [SelectChoice("", blank), *options] if blank is not None else options


def whole_number(value: Any) -> int | None:
    """A non-negative integer typed as ASCII digits, else None ("²" is a digit int() refuses)."""
    text = str(value if value is not None else "")
    return int(text) if text.isascii() and text.isdigit() else None
