"""The form for adding a clinic's own exercise."""

from __future__ import annotations

from typing import Any

from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from ..domain.catalogue import ALWAYS_PARAMS
from ..domain.vocab import Kind
from ..web.forms import CheckboxesField, CleanString, CleanText, OnceForm, choices_of


class ExerciseForm(OnceForm):
    name = CleanString("Name", validators=[InputRequired(), Length(max=80)])
    kind = SelectField("Kind", choices=choices_of(Kind))
    params = CheckboxesField(
        "Doses it uses",
        choices=[SelectChoice("hold_s", "Hold"), SelectChoice("rest_s", "Rest"),
                 SelectChoice("effort_pct", "Effort %")],
        description="Repetitions, sets and sessions a day are always set.",
    )  # fmt: skip
    summary = CleanString(
        "What it is for (patient words)", validators=[InputRequired(), Length(max=300)]
    )
    steps = CleanText("Steps, one a line", validators=[InputRequired(), Length(max=3000)])
    # Every exercise on a handout says how to breathe, what to feel and what to avoid.
    breathing = CleanText(
        "Breathing",
        validators=[InputRequired(message="Say how to breathe during it."), Length(max=1000)],
    )
    feel = CleanText(
        "What you should feel",
        validators=[InputRequired(message="Say what the patient should feel."), Length(max=1000)],
    )
    mistakes = CleanText(
        "Common mistakes, one a line",
        validators=[InputRequired(message="Name at least one common mistake."), Length(max=2000)],
    )

    def values(self, code: str) -> dict[str, Any]:
        """The stored fields of the new exercise (repetitions, sets and sessions always set)."""
        return {
            "code": code,
            "name": self.name.data,
            "kind": self.kind.data,
            "params": sorted({*self.params.data, *ALWAYS_PARAMS}),
            "summary": self.summary.data,
            "steps": self.steps.data,
            "breathing": self.breathing.data or "",
            "feel": self.feel.data or "",
            "mistakes": self.mistakes.data or "",
        }
