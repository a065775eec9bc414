"""Writes of assessments: verb_noun functions that take the actor, flush and audit."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..audit import Actor, acting_user, record_event
from ..database import allowed_fields
from ..extensions import db
from ..models import Assessment, Patient, utcnow

ASSESSMENT_FIELDS = (
    "assessed_on",
    "oxford_grade",
    "endurance_s",
    "repetitions",
    "fast_contractions",
    "relaxation",
    "pain",
    "leaks_per_week",
    "pads_per_day",
    "technique_confirmed",
    "iciq_total",
    "notes",
)


def add_assessment(patient: Patient, by: Actor, **fields: Any) -> Assessment:
    """Record an assessment of a patient by the acting clinician."""
    user = acting_user(by)
    assessment = Assessment(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        clinician_id=user.id,
        **allowed_fields(fields, ASSESSMENT_FIELDS),
    )
    db.session.add(assessment)
    db.session.flush()
    record_event(by, "assessment.create", assessment, f"patient {patient.id}")
    return assessment


class AlreadyAmended(Exception):
    """The assessment was amended (voided) by someone else first."""


def amend_assessment(old: Assessment, reason: str, by: Actor, **fields: Any) -> Assessment:
    """Correct an assessment: the old one is voided with the reason, a new one replaces it."""
    user = acting_user(by)
    # One statement claims the old row, so two amendments at once cannot both win.
    claimed = db.session.execute(
        sa.update(Assessment)
        .where(Assessment.id == old.id, Assessment.voided_at.is_(None))
        .values(voided_at=utcnow(), voided_by_id=user.id, void_reason=reason[:300])
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise AlreadyAmended(old.id)
    db.session.refresh(old)
    amended = Assessment(
        clinic_id=old.clinic_id,
        patient_id=old.patient_id,
        clinician_id=old.clinician_id,  # who assessed; who amended is on the voided row
        amends_id=old.id,
        **allowed_fields(fields, ASSESSMENT_FIELDS),
    )
    db.session.add(amended)
    db.session.flush()
    record_event(by, "assessment.void", old, f"amended by assessment {amended.id}: {reason}")
    record_event(by, "assessment.amend", amended, f"amends assessment {old.id}: {reason}")
    return amended
