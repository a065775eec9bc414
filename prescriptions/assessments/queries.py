"""Reads of assessments, always scoped to a clinic."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import Assessment


def fetch_assessments(clinic_id: int, patient_id: int) -> list[Assessment]:
    """A patient's assessments, newest first."""
    return list(
        db.session.scalars(
            sa.select(Assessment)
            .where(Assessment.clinic_id == clinic_id, Assessment.patient_id == patient_id)
            .order_by(Assessment.assessed_on.desc(), Assessment.id.desc())
        )
    )


def fetch_latest_assessment(clinic_id: int, patient_id: int) -> Assessment | None:
    """A patient's most recent assessment."""
    return db.session.scalar(
        sa.select(Assessment)
        .where(Assessment.clinic_id == clinic_id, Assessment.patient_id == patient_id)
        .order_by(Assessment.assessed_on.desc(), Assessment.id.desc())
        .limit(1)
    )
