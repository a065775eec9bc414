"""Writes of assessments: verb_noun functions that take the actor, flush and audit."""

from __future__ import annotations

from typing import Any

from ..audit import Actor, acting_user, record_event
from ..database import allowed_fields
from ..extensions import db
from ..models import Assessment, Patient

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
