"""Writes of patients: verb_noun functions that take the actor, flush and audit."""

from __future__ import annotations

from typing import Any

from ..audit import Actor, record_event, record_update
from ..database import allowed_fields
from ..extensions import db
from ..models import Patient, utcnow

PATIENT_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "chart_number",
    "cue_set",
    "diagnoses",
    "precautions",
    "phone",
    "email",
    "address",
    "notes",
)


def create_patient(clinic_id: int, by: Actor, **fields: Any) -> Patient:
    """Add a patient to the clinic."""
    patient = Patient(clinic_id=clinic_id, **allowed_fields(fields, PATIENT_FIELDS))
    db.session.add(patient)
    db.session.flush()
    record_event(by, "patient.create", patient, patient.chart_number)
    return patient


def update_patient(patient: Patient, by: Actor, **fields: Any) -> Patient:
    """Change a patient's details (guarded by the row version)."""
    record_update(by, "patient.update", patient, allowed_fields(fields, PATIENT_FIELDS))
    return patient


def archive_patient(patient: Patient, by: Actor) -> Patient:
    """Archive a patient: hidden from lists, never deleted."""
    patient.archived_at = utcnow()
    db.session.flush()
    record_event(by, "patient.archive", patient)
    return patient


def restore_patient(patient: Patient, by: Actor) -> Patient:
    """Bring an archived patient back to the active list."""
    patient.archived_at = None
    db.session.flush()
    record_event(by, "patient.restore", patient)
    return patient
