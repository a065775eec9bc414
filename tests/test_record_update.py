"""Updates of a patient and of a clinic: the fields are set, and the audit row names exactly the
fields whose value changed (record_update, shared by both)."""

from __future__ import annotations

import sqlalchemy as sa

from prescriptions.accounts.operations import update_clinic
from prescriptions.audit import SYSTEM
from prescriptions.extensions import db
from prescriptions.models import AuditEvent, Clinic, Patient
from prescriptions.patients.operations import update_patient
from tests.factories import committing


def _last_detail(app, action):
    with app.app_context():
        return db.session.scalar(
            sa.select(AuditEvent.detail)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )


def test_a_patient_update_audits_only_the_changed_fields(app, make_clinic, make_patient):
    patient_id = make_patient(make_clinic(), given_name="Maria", notes="")
    with committing(app):
        patient = db.session.get(Patient, patient_id)
        # given_name is sent unchanged
        update_patient(patient, SYSTEM, given_name="Maria", notes="Prefers mornings", phone="0161")
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        assert (patient.id, patient.notes, patient.phone) == (
            patient_id,
            "Prefers mornings",
            "0161",
        )
    assert _last_detail(app, "patient.update") == "notes, phone"


def test_a_clinic_update_audits_only_the_changed_fields(app, make_clinic):
    clinic_id = make_clinic(name="Harbour", phone="1")
    with committing(app):
        clinic = db.session.get(Clinic, clinic_id)
        update_clinic(clinic, SYSTEM, name="Harbour", phone="2", address="3 Quay")
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        assert (clinic.name, clinic.phone, clinic.address) == ("Harbour", "2", "3 Quay")
    assert _last_detail(app, "clinic.update") == "address, phone"
