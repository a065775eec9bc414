"""Writes of a clinic's own exercises."""

from __future__ import annotations

from typing import Any

from ..audit import Actor, record_event
from ..database import allowed_fields
from ..extensions import db
from ..mapping.plans import as_exercise
from ..models import ClinicExercise

EXERCISE_FIELDS = ("code", "name", "kind", "params", "summary", "steps", "breathing", "feel")


def add_clinic_exercise(clinic_id: int, by: Actor, **fields: Any) -> ClinicExercise:
    """Add a clinic's own exercise to its catalogue (ValueError when the domain refuses it)."""
    exercise = ClinicExercise(
        clinic_id=clinic_id, **allowed_fields(fields, (*EXERCISE_FIELDS, "mistakes"))
    )
    as_exercise(exercise)  # refuse now a row that every page showing it would fail on later
    db.session.add(exercise)
    db.session.flush()
    record_event(by, "exercise.create", exercise, exercise.code)
    return exercise
