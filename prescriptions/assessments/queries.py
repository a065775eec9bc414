"""Reads of assessments, always scoped to a clinic."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..extensions import db
from ..models import Assessment


def fetch_assessments(
    clinic_id: int, patient_id: int, *, include_voided: bool = False
) -> list[Assessment]:
    """A patient's assessments, newest first (amended ones only when asked for)."""
    stmt = sa.select(Assessment).where(
        Assessment.clinic_id == clinic_id, Assessment.patient_id == patient_id
    )
    if not include_voided:
        stmt = stmt.where(Assessment.voided_at.is_(None))
    return list(
        db.session.scalars(stmt.order_by(Assessment.assessed_on.desc(), Assessment.id.desc()))
    )


def fetch_assessment(clinic_id: int, patient_id: int, assessment_id: int) -> Assessment | None:
    """One assessment of one of the clinic's patients (voided ones included)."""
    return db.session.scalar(
        sa.select(Assessment).where(
            Assessment.clinic_id == clinic_id,
            Assessment.patient_id == patient_id,
            Assessment.id == assessment_id,
        )
    )


def fetch_latest_assessment(clinic_id: int, patient_id: int) -> Assessment | None:
    """A patient's most recent assessment."""
    return db.session.scalar(
        sa.select(Assessment)
        .where(
            Assessment.clinic_id == clinic_id,
            Assessment.patient_id == patient_id,
            Assessment.voided_at.is_(None),
        )
        .order_by(Assessment.assessed_on.desc(), Assessment.id.desc())
        .limit(1)
    )


def fetch_assessment_patients(
    clinic_id: int, assessment_ids: set[int]
) -> dict[int, tuple[int, date]]:
    """The patient and date of the clinic's assessments with these ids."""
    if not assessment_ids:
        return {}
    rows = db.session.execute(
        sa.select(Assessment.id, Assessment.patient_id, Assessment.assessed_on).where(
            Assessment.clinic_id == clinic_id, Assessment.id.in_(assessment_ids)
        )
    )
    return {r.id: (r.patient_id, r.assessed_on) for r in rows}
