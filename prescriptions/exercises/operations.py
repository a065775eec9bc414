"""Writes of a clinic's own exercises."""

from __future__ import annotations

from typing import Any

from ..audit import Actor, record_event
from ..database import allowed_fields
from ..extensions import db
from ..models import ClinicExercise

EXERCISE_FIELDS = ("code", "name", "kind", "params", "summary", "steps", "breathing", "feel")


def add_clinic_exercise(clinic_id: int, by: Actor, **fields: Any) -> ClinicExercise:
    """Add a clinic's own exercise to its catalogue."""
    exercise = ClinicExercise(
        clinic_id=clinic_id, **allowed_fields(fields, (*EXERCISE_FIELDS, "mistakes"))
    )
    db.session.add(exercise)
    db.session.flush()
    record_event(by, "exercise.create", exercise, exercise.code)
    return exercise
