"""Print options for one handout, and the batch-print picker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from ..domain.vocab import Paper
from ..web.forms import choices_of


def _yes_no_default(value: Any) -> bool | None:
    """Empty is the default, "1" yes, "0" no; anything else is refused (not taken as no)."""
    if value in ("", None):
        return None
    if value in ("1", True):
        return True
    if value in ("0", False):
        return False
    raise ValueError("Not a valid choice.")


class HandoutOptionsForm(Form):
    """Query-string options for one handout (read-only request: no CSRF)."""

    paper = SelectField(choices=choices_of(Paper, blank="Default"), default="")
    large_print = SelectField(
        choices=[SelectChoice("", "Default"), SelectChoice("1", "Yes"), SelectChoice("0", "No")],
        default="",
        coerce=_yes_no_default,
    )
    sheets = BooleanField()


class BatchPrintForm(FlaskForm):
    plans = SelectMultipleField("Plans to print", coerce=int)

    def __init__(self, *args: Any, plans: Sequence[tuple[int, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plans.choices = [SelectChoice(plan_id, str(plan_id)) for plan_id, _ in plans]

    def validate_plans(self, field: Any) -> None:
        if not field.data:
            raise ValidationError("Tick at least one plan to print.")
        if len(field.data) > 50:
            raise ValidationError("Print at most 50 handouts at once.")
