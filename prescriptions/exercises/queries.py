"""Reads of a clinic's own exercises."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    ClinicExercise,
)


def fetch_clinic_exercises(clinic_id: int) -> list[ClinicExercise]:
    """A clinic's own exercises, by name."""
    return list(
        db.session.scalars(
            sa.select(ClinicExercise)
            .where(ClinicExercise.clinic_id == clinic_id)
            .order_by(ClinicExercise.name)
        )
    )
