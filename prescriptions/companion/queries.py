"""Reads for the patient's companion: the link, the plan the patient is on now, the alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..domain.vocab import PlanStatus
from ..extensions import db
from ..models import LogEntry, Patient, PatientLink, PatientQuestion, Plan
from .tokens import code_for, holds, key_hash, token_for


def fetch_link_by_key(secret: bytes, key: str) -> PatientLink | None:
    """The link a token or typed code from a URL names (live or not), or None."""
    hashed = key_hash(secret, key)
    if hashed is None:
        return None
    column = PatientLink.token_hash if hashed[0] == "t" else PatientLink.code_hash
    return db.session.scalar(
        sa.select(PatientLink).where(column == hashed[1:]).options(joinedload(PatientLink.patient))
    )


def fetch_patient_link(clinic_id: int, patient_id: int) -> PatientLink | None:
    """A patient's link (live, revoked or expired), scoped to the clinic."""
    return db.session.scalar(
        sa.select(PatientLink).where(
            PatientLink.clinic_id == clinic_id, PatientLink.patient_id == patient_id
        )
    )


def fetch_companion_plan(clinic_id: int, patient_id: int) -> Plan | None:
    """The plan the patient is on now: their latest issued plan (completed still counts).

    The one place the companion decides which plan a link shows. Blocks of a programme are
    issued in order, so this is the current block of the patient's programme, and the link
    follows a revision or the next block as soon as it is issued.
    """
    return db.session.scalar(
        sa.select(Plan)
        .where(
            Plan.clinic_id == clinic_id,
            Plan.patient_id == patient_id,
            Plan.status.in_([PlanStatus.ISSUED.value, PlanStatus.COMPLETED.value]),
        )
        .order_by(Plan.issued_at.desc(), Plan.id.desc())
        .options(joinedload(Plan.programme))  # the link's end is the programme's
        .limit(1)  # its items load when a page needs them: an ended link reads no more
    )


@dataclass(frozen=True)
class PatientAlert:
    """Something a patient said from the phone that the therapist should see."""

    patient: Patient
    plan_id: int
    day: date
    at: datetime
    kind: str  #: "question" or "pain"
    text: str


def fetch_patient_alerts(
    clinic_id: int, since: datetime, pain_above: int, limit: int = 20
) -> list[PatientAlert]:
    """Questions and pain above `pain_above` sent from patients' phones since a moment."""
    questions = db.session.execute(
        sa.select(PatientQuestion, Patient)
        .join(Patient, Patient.id == PatientQuestion.patient_id)
        .where(
            PatientQuestion.clinic_id == clinic_id,
            Patient.clinic_id == clinic_id,
            PatientQuestion.asked_at >= since,
        )
        .order_by(PatientQuestion.asked_at.desc())
        .limit(limit)
    ).all()
    pains = db.session.execute(
        sa.select(LogEntry, Patient)
        .join(Plan, Plan.id == LogEntry.plan_id)
        .join(Patient, Patient.id == Plan.patient_id)
        .where(
            LogEntry.clinic_id == clinic_id,
            Plan.clinic_id == clinic_id,
            LogEntry.entered_by_link_id.is_not(None),
            LogEntry.updated_at >= since,
        )
        .order_by(LogEntry.updated_at.desc())
        .limit(limit * 5)
    ).all()
    alerts = [
        PatientAlert(p, q.plan_id, q.day, q.asked_at, "question", q.text) for q, p in questions
    ]
    for entry, patient in pains:
        pain = (entry.patient_entry or {}).get("pain")
        if isinstance(pain, int) and pain > pain_above:
            alerts.append(
                PatientAlert(
                    patient, entry.plan_id, entry.day, entry.updated_at, "pain", f"{pain}/10"
                )
            )
    alerts.sort(key=lambda a: a.at, reverse=True)
    return alerts[:limit]


def fetch_patient_questions(
    clinic_id: int, patient_id: int, limit: int = 20
) -> list[PatientQuestion]:
    """A patient's latest questions from the phone."""
    return list(
        db.session.scalars(
            sa.select(PatientQuestion)
            .where(PatientQuestion.clinic_id == clinic_id, PatientQuestion.patient_id == patient_id)
            .order_by(PatientQuestion.asked_at.desc())
            .limit(limit)
        )
    )


def fetch_printed_keys(
    clinic_id: int, patient_ids: set[int], key: bytes
) -> dict[int, tuple[str, str]]:
    """Each patient's unrevoked link as the handout prints it: (token, short code), by patient.

    A link made under another secret key (it no longer opens) is left off.
    """
    if not patient_ids:
        return {}
    links = db.session.scalars(
        sa.select(PatientLink).where(
            PatientLink.clinic_id == clinic_id,
            PatientLink.patient_id.in_(patient_ids),
            PatientLink.revoked_at.is_(None),
        )
    )
    return {
        link.patient_id: (token_for(key, link.nonce), code_for(key, link.nonce))
        for link in links
        if holds(key, link.nonce, link.token_hash)
    }
