"""Plan forms: new plan, the four-week editor, issuing, cancelling, copying, templates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from ..domain.catalogue import FIELD_BOUNDS, PARAMS, Exercise
from ..domain.progression import DOSE_FIELDS, WEEKS, Item
from ..domain.rules import Finding
from ..domain.vocab import CueSet, Kind, Paper, Position
from ..web.forms import (
    CleanString,
    CleanText,
    OnceForm,
    VersionedForm,
    WholeNumber,
    choices_of,
    whole_number,
)

MAX_ITEMS_PER_WEEK = 12


def _bounded(label: str, param: str, required: bool = False) -> WholeNumber:
    low, high = FIELD_BOUNDS[param]
    return WholeNumber(
        label,
        validators=[
            InputRequired(message="Required.") if required else Optional(),
            NumberRange(low, high, message=f"{low} to {high}."),
        ],
    )


def _plan_start_in_range(form: Any, field: Any) -> None:
    if field.data and not date(2000, 1, 1) <= field.data <= date(2100, 12, 31):
        raise ValidationError("Choose a start date between 2000 and 2100.")


class NewPlanForm(OnceForm):
    template = RadioField("Start from", validators=[InputRequired()])
    start_date = DateField(
        "Start date", validators=[InputRequired(), _plan_start_in_range], default=date.today
    )

    #: when the patient's programme is still running: end it to start a separate one
    end_running = RadioField(
        "Their running programme",
        choices=[SelectChoice("stop", "Stop it early"), SelectChoice("finish", "Mark it finished")],
        validate_choice=False,  # checked below: empty is allowed when nothing is running
    )
    end_reason = CleanString(
        "Why it ends", validators=[Length(max=300, message="Keep the reason under 300 characters.")]
    )

    def __init__(
        self, *args: Any, templates: Iterable[tuple[str, str]], running: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.template.choices = [SelectChoice(code, name) for code, name in templates]
        self.running = running  #: the patient has a running programme

    def validate_end_running(self, field: RadioField) -> None:
        if field.data and field.data not in ("stop", "finish"):
            raise ValidationError("Choose to stop or to finish the running programme.")
        if self.running and not field.data:
            raise ValidationError(
                "Their programme is still running. Plan its next block instead, or choose to "
                "stop or finish it to start a separate one."
            )

    def validate_end_reason(self, field: CleanString) -> None:
        if self.running and not (field.data or "").strip():
            raise ValidationError("Say why the running programme ends.")


class ItemForm(Form):
    """One row of the editor: one exercise in one week."""

    week = HiddenField()
    exercise = SelectField("Exercise")
    position = SelectField("Position", choices=choices_of(Position))
    hold_s = _bounded("Hold (s)", "hold_s")
    rest_s = _bounded("Rest (s)", "rest_s")
    reps = _bounded("Reps", "reps", required=True)
    sets = _bounded("Sets", "sets", required=True)
    sessions_per_day = _bounded("A day", "sessions_per_day", required=True)
    effort_pct = _bounded("Effort %", "effort_pct")
    note = CleanString("Note for the patient", validators=[Length(max=200)])

    def validate_week(self, field: Any) -> None:
        if str(field.data) not in {str(w) for w in WEEKS}:
            raise ValidationError("Unknown week.")


class PlanEditForm(VersionedForm):
    title = CleanString("Plan title", validators=[InputRequired(), Length(max=120)])
    start_date = DateField("Start date", validators=[InputRequired(), _plan_start_in_range])
    notes_to_patient = CleanText(
        "Notes to the patient",
        validators=[Length(max=1500)],
        description="Printed on the handout's first page, in your words.",
    )
    paper = SelectField("Paper", choices=choices_of(Paper, blank="Clinic default"))
    large_print = BooleanField("Large print")
    cue_set = SelectField("Wording", choices=choices_of(CueSet, blank="Patient's setting"))
    items = FieldList(FormField(ItemForm), max_entries=len(WEEKS) * MAX_ITEMS_PER_WEEK)

    def __init__(self, *args: Any, exercises: Mapping[str, Exercise], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exercise_choices = [SelectChoice(code, e.name) for code, e in exercises.items()]
        for entry in self.items:
            entry.form.exercise.choices = self.exercise_choices
        self.row_errors: dict[int, list[str]] = {}
        #: per row, the dose fields its exercise does not use: not offered, and never an error
        self.unused: dict[int, frozenset[str]] = {}
        for index, entry in enumerate(self.items):
            exercise = exercises.get(entry.form.exercise.data or "")
            if exercise is None:
                continue
            unused = frozenset(PARAMS) - exercise.params
            self.unused[index] = unused
            for name in unused:
                field = getattr(entry.form, name)
                field.data, field.raw_data, field.process_errors = None, None, []
        #: which dose fields each exercise uses, for the page's script
        self.params_by_exercise = {code: sorted(e.params) for code, e in exercises.items()}

    def rows(self) -> list[dict[str, str]]:
        """The rows as typed (strings), so a structural edit never loses a typo."""
        return [
            {name: _typed(getattr(entry.form, name)) for name in ROW_FIELDS} for entry in self.items
        ]

    def rows_by_week(self) -> dict[int, list[tuple[int, Any]]]:
        """(row index, entry) per week, in the order they appear."""
        weeks: dict[int, list[tuple[int, Any]]] = {w: [] for w in WEEKS}
        for index, entry in enumerate(self.items):
            week = whole_number(entry.form.week.data)
            if week in weeks:
                weeks[week].append((index, entry))
        return weeks

    def domain_items(self) -> list[Item]:
        """The validated rows as domain items, numbered within each week."""
        items = []
        for week, entries in self.rows_by_week().items():
            for order, (_, entry) in enumerate(entries, start=1):
                row = entry.form
                items.append(
                    Item(
                        week=week,
                        order=order,
                        exercise=row.exercise.data,
                        **{name: getattr(row, name).data for name in DOSE_FIELDS}
                        | {"note": row.note.data or ""},
                    )
                )
        return items

    def attach(self, findings: Sequence[Finding]) -> None:
        """Put each blocking finding beside its cell, its row, or the form."""
        where = {
            (week, order): (index, entry)
            for week, entries in self.rows_by_week().items()
            for order, (index, entry) in enumerate(entries, start=1)
        }
        for finding in findings:
            located = where.get((finding.week or 0, finding.order or 0))
            if located is None:
                self.form_errors.append(finding.message)
                continue
            index, entry = located
            field = getattr(entry.form, finding.field or "", None)
            if finding.field in PARAMS and field is not None:
                field.errors = [*field.errors, finding.message]
            else:
                self.row_errors.setdefault(index, []).append(finding.message)


ROW_FIELDS = ("week", "exercise", *DOSE_FIELDS)


def _typed(field: Any) -> str:
    value = field._value() if hasattr(field, "_value") else field.data
    return "" if value is None else str(value)


def editor_formdata(
    base: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
) -> MultiDict[str, Any]:
    """Form data for the editor: plan details plus rows, ordered by week."""
    data: MultiDict[str, Any] = MultiDict()
    for key, value in base.items():
        if key == "large_print":
            if value:
                data.add(key, "y")
        elif value is not None:
            data.add(key, str(value))
    ordered = sorted(rows, key=lambda r: whole_number(r.get("week")) or 0)
    for index, row in enumerate(ordered):
        for name in ROW_FIELDS:
            value = row.get(name)
            data.add(f"items-{index}-{name}", "" if value is None else str(value))
    return data


def item_row(item: Item) -> dict[str, Any]:
    """A domain item as an editor row."""
    row = item.as_dict()
    row.pop("order")
    return row


def new_row(week: int, like: Mapping[str, Any] | None, exercise: Exercise) -> dict[str, Any]:
    """A row to add to a week: a copy of the week's last row, or a sensible first row."""
    if like is not None:
        return {**like, "week": week, "note": ""}
    held = exercise.kind in (Kind.CONTRACT, Kind.RELAX, Kind.BREATH)
    return {
        "week": week,
        "exercise": exercise.code,
        "position": Position.LYING.value,
        "hold_s": 3 if held and "hold_s" in exercise.params else "",
        "rest_s": 6 if held and "rest_s" in exercise.params else "",
        "reps": 8,
        "sets": 1,
        "sessions_per_day": 3,
        "effort_pct": "",
        "note": "",
    }


class IssueForm(VersionedForm):
    """Issue a draft: the version the clinician reviewed, and every warning acknowledged."""

    acknowledge = SelectMultipleField("I have considered this warning")

    def __init__(self, *args: Any, warnings: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acknowledge.choices = [SelectChoice(key, message) for key, message in warnings]

    def validate_acknowledge(self, field: Any) -> None:
        missing = {c.value for c in field.choices} - set(field.data or [])
        if missing:
            raise ValidationError("Tick every warning to confirm you have considered it.")


class CancelForm(FlaskForm):
    reason = CleanString(
        "Reason for cancelling",
        validators=[InputRequired(message="Say why the plan is cancelled."), Length(max=300)],
    )
    stop_programme = BooleanField("Also stop the programme it is a block of, for the same reason")


class CopyForm(OnceForm):
    chart_number = CleanString(
        "Copy to the patient (name or chart number)",
        validators=[InputRequired(), Length(max=100)],
        description="For example Okafor, or RPH-1001.",
    )

    start_date = DateField(
        "Start date", validators=[InputRequired(), _plan_start_in_range], default=date.today
    )


class TemplateForm(OnceForm):
    name = CleanString("Template name", validators=[InputRequired(), Length(max=120)])
