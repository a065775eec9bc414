"""Patient and assessment forms."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, RadioField, SelectField
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..domain.vocab import CueSet, Diagnosis, Precaution, Relaxation
from ..web.forms import (
    CheckboxesField,
    CleanString,
    CleanText,
    EmailAddress,
    OnceForm,
    VersionedForm,
    WholeNumber,
    choices_of,
)
from .queries import chart_number_taken

EARLIEST_BIRTH = date(1900, 1, 1)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _not_future(form: Any, field: Any) -> None:
    if field.data and field.data > date.today():
        raise ValidationError("This date is in the future.")


class PatientFields(FlaskForm):
    given_name = CleanString("Given name", validators=[InputRequired(), Length(max=100)])
    family_name = CleanString("Family name", validators=[InputRequired(), Length(max=100)])
    preferred_name = CleanString(
        "Preferred name",
        validators=[Length(max=100)],
        description="What the handout calls the patient. Leave empty to use the given name.",
    )
    date_of_birth = DateField("Date of birth", validators=[Optional(), _not_future])
    chart_number = CleanString(
        "Chart number",
        validators=[
            InputRequired(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9/._-]*$", message="Use letters, digits, / . _ or -."),
        ],
    )
    cue_set = RadioField(
        "Instructions written for",
        choices=choices_of(CueSet),
        default=CueSet.NEUTRAL.value,
        description="Which body words the handout uses to find the muscles.",
    )
    diagnoses = CheckboxesField("Diagnosis", choices=choices_of(Diagnosis))
    precautions = CheckboxesField("Precautions", choices=choices_of(Precaution))
    phone = CleanString("Phone", validators=[Length(max=40)])
    email = EmailField(
        "Email",
        filters=[_text],
        validators=[Optional(), EmailAddress(), Length(max=254)],
    )
    address = CleanText("Address", validators=[Length(max=300)])
    notes = CleanText("Notes", validators=[Length(max=5000)])

    def __init__(self, *args: Any, clinic_id: int, patient_id: int | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._clinic_id = clinic_id
        self._patient_id = patient_id

    def validate_date_of_birth(self, field: Any) -> None:
        if field.data and field.data < EARLIEST_BIRTH:
            raise ValidationError("Check the year of birth.")

    def validate_chart_number(self, field: Any) -> None:
        if field.data and chart_number_taken(
            self._clinic_id, field.data, except_id=self._patient_id
        ):
            raise ValidationError("Another patient already has this chart number.")

    def values(self) -> dict[str, Any]:
        """The validated values, ready for operations.create_patient/update_patient."""
        return {
            "given_name": self.given_name.data,
            "family_name": self.family_name.data,
            "preferred_name": self.preferred_name.data or "",
            "date_of_birth": self.date_of_birth.data,
            "chart_number": self.chart_number.data,
            "cue_set": self.cue_set.data,
            "diagnoses": sorted(self.diagnoses.data or []),
            "precautions": sorted(self.precautions.data or []),
            "phone": self.phone.data or "",
            "email": self.email.data or "",
            "address": self.address.data or "",
            "notes": self.notes.data or "",
        }


class NewPatientForm(PatientFields, OnceForm):
    pass


class EditPatientForm(PatientFields, VersionedForm):
    pass


def _score(label: str, low: int, high: int, **kwargs: Any) -> WholeNumber:
    return WholeNumber(
        label,
        validators=[
            Optional(),
            NumberRange(low, high, message=f"Enter a number from {low} to {high}."),
        ],
        **kwargs,
    )


class AssessmentFields(FlaskForm):
    assessed_on = DateField("Date", validators=[InputRequired(), _not_future], default=date.today)
    oxford_grade = _score(
        "Modified Oxford grade",
        0,
        5,
        description="0 none, 1 flicker, 2 weak, 3 moderate, 4 good, 5 strong",
    )
    endurance_s = _score("Endurance (s)", 0, 60, description="PERFECT E: seconds held, up to 60")
    repetitions = _score("Repetitions", 0, 30, description="PERFECT R: holds repeated, up to 30")
    fast_contractions = _score(
        "Fast contractions", 0, 30, description="PERFECT F: quick squeezes, up to 30"
    )
    relaxation = SelectField(
        "Relaxation after a contraction",
        choices=choices_of(Relaxation, blank="Not assessed"),
        default="",
    )
    pain = _score("Pain (0-10)", 0, 10)
    leaks_per_week = _score("Leaks a week", 0, 500)
    pads_per_day = _score("Pads a day", 0, 30)
    technique_confirmed = BooleanField("Technique confirmed (lifts, does not bear down)")
    iciq_total = _score("ICIQ-UI SF total", 0, 21, description="Total score only (0-21)")
    notes = CleanText("Notes", validators=[Length(max=5000)])

    def validate_relaxation(self, field: Any) -> None:
        if field.data not in {"", *Relaxation}:
            raise ValidationError("Choose one of the listed options.")

    def values(self) -> dict[str, Any]:
        """The validated values, ready for operations.add_assessment."""
        return {
            "assessed_on": self.assessed_on.data,
            "oxford_grade": self.oxford_grade.data,
            "endurance_s": self.endurance_s.data,
            "repetitions": self.repetitions.data,
            "fast_contractions": self.fast_contractions.data,
            "relaxation": self.relaxation.data or None,
            "pain": self.pain.data,
            "leaks_per_week": self.leaks_per_week.data,
            "pads_per_day": self.pads_per_day.data,
            "technique_confirmed": bool(self.technique_confirmed.data),
            "iciq_total": self.iciq_total.data,
            "notes": self.notes.data or "",
        }


class AssessmentForm(AssessmentFields, OnceForm):
    pass


class AmendAssessmentForm(AssessmentFields):
    reason = CleanString(
        "Why it is amended",
        validators=[InputRequired(), Length(max=300)],
        description="For example: typed 7 for 1 pad a day. The old values stay on record.",
    )
