"""Reads of a clinic's own exercises."""

from __future__ import annotations

import sqlalchemy as sa

from ..domain.catalogue import Exercise
from ..extensions import db
from ..mapping.plans import catalogue_of
from ..models import ClinicExercise


def fetch_clinic_exercises(clinic_id: int) -> list[ClinicExercise]:
    """A clinic's own exercises, by name."""
    return list(
        db.session.scalars(
            sa.select(ClinicExercise)
            .where(ClinicExercise.clinic_id == clinic_id)
            .order_by(ClinicExercise.name)
        )
    )


def fetch_catalogue(clinic_id: int) -> dict[str, Exercise]:
    """Every exercise a plan of this clinic may use: built-in first, then the clinic's own."""
    return catalogue_of(fetch_clinic_exercises(clinic_id))
