"""Programme forms: goal and number of blocks, stopping, planning the next block."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from ..domain.blocks import MAX_BLOCKS, MIN_BLOCKS
from ..web.forms import CleanString, CleanText, OnceForm, VersionedForm, WholeNumber


class ProgrammeForm(VersionedForm):
    goal = CleanText(
        "The goal, in the patient's words",
        validators=[Length(max=500, message="Keep the goal under 500 characters.")],
    )
    block_count = WholeNumber(
        "Number of four-week blocks",
        validators=[
            InputRequired(message="Give the number of blocks, 1 to 6."),
            NumberRange(MIN_BLOCKS, MAX_BLOCKS, message="A programme has 1 to 6 blocks."),
        ],
    )

    def __init__(self, *args: Any, planned: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.planned = planned  #: blocks already planned: the count can't go below it

    def validate_block_count(self, field: WholeNumber) -> None:
        if field.data is not None and field.data < self.planned:
            raise ValidationError(
                f"{self.planned} blocks are already planned: the programme needs at least "
                f"{self.planned}."
            )

    def values(self) -> dict[str, Any]:
        return {"goal": self.goal.data or "", "block_count": self.block_count.data}


class StopForm(FlaskForm):
    reason = CleanString(
        "Reason for stopping",
        validators=[InputRequired(message="Say why the programme stops."), Length(max=300)],
    )


class NextBlockForm(OnceForm):
    #: the block the page offered to plan: another tab may have planned it since
    block = HiddenField()
    start_date = DateField(
        "Next block starts", validators=[InputRequired(message="Give the start date.")]
    )


class OutcomesForm(FlaskForm):
    """The outcomes page's filters (a GET form: no token)."""

    first = DateField("Programmes started from", validators=[Optional()])
    last = DateField("to", validators=[Optional()])
    template = SelectField("Template", validators=[Optional()], validate_choice=True)

    def __init__(self, *args: Any, templates: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.template.choices = [("", "Any template"), *templates]

    def validate_last(self, field: DateField) -> None:
        if field.data and self.first.data and field.data < self.first.data:
            raise ValidationError("The end of the period is before its start.")

    def period(self, today: date) -> tuple[date, date, str]:
        """(first, last, template code) with defaults: the twelve months up to today."""
        last = self.last.data or today
        first = self.first.data or last - timedelta(days=365)
        return first, last, self.template.data or ""

    def fill_defaults(self, today: date) -> None:
        """Show the period actually used in the date fields, not only in the heading."""
        first, last, _ = self.period(today)
        self.first.data, self.last.data = first, last
        for field in (self.first, self.last):
            field.raw_data = None  # render the date, not an empty submitted value
