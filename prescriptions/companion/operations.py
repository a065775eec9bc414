"""Writes of the patient's companion: the therapist's link actions and the patient's taps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..audit import Actor, acting_user, record_event
from ..extensions import db
from ..logs.operations import log_patient_session, save_patient_day
from ..models import Patient, PatientLink, PatientQuestion, PatientTap, Plan, utcnow
from .tokens import code_for, digest, new_nonce, normalise_code, token_for


def _set_secrets(link: PatientLink, key: bytes) -> None:
    link.nonce = new_nonce()
    link.token_hash = digest(key, token_for(key, link.nonce))
    link.code_hash = digest(key, normalise_code(code_for(key, link.nonce)) or "")


def issue_link(
    patient: Patient,
    key: bytes,
    by: Actor,
    existing: PatientLink | None,
    ends_on: date | None = None,
) -> PatientLink:
    """Give the patient a live link: a new one, or new secrets for theirs (the old stop at once).

    `ends_on` is the last day it opens (None: set from the patient's plan when first opened).
    """
    user = acting_user(by)
    if existing is None:
        link = PatientLink(clinic_id=patient.clinic_id, patient_id=patient.id, issued_by_id=user.id)
        _set_secrets(link, key)
        db.session.add(link)
        action = "companion.issue"
    else:
        link = existing
        _set_secrets(link, key)
        link.reissued_at = utcnow()
        link.revoked_at = None
        link.issued_by_id = user.id
        action = "companion.reissue"
    link.ends_on = ends_on
    db.session.flush()
    record_event(by, action, link, f"patient {patient.id}")
    return link


def revoke_link(link: PatientLink, by: Actor) -> None:
    """Stop the link at once (a reissue gives the patient a new one)."""
    acting_user(by)
    link.revoked_at = utcnow()
    db.session.flush()
    record_event(by, "companion.revoke", link, f"patient {link.patient_id}")


def touch_link(link_id: int, now: datetime | None = None) -> None:
    """Remember when the link was last used (one UPDATE, no read)."""
    db.session.execute(
        sa.update(PatientLink).where(PatientLink.id == link_id).values(last_used_at=now or utcnow())
    )


def link_actor(link: PatientLink, ip: str) -> tuple[Actor, dict[str, Any]]:
    """The audit actor of a patient's write: the link itself, in its clinic's chain."""
    return Actor(None, ip), {"clinic_id": link.clinic_id, "actor": f"patient-link:{link.id}"}


#: how long a used idempotency key is remembered (a phone offline longer may count a tap twice)
TAP_MEMORY = timedelta(days=14)


def claim_tap(link_id: int, key: str) -> bool:
    """Claim an idempotency key for this link; False when it was claimed before (a retry)."""
    db.session.execute(
        sa.delete(PatientTap).where(
            PatientTap.link_id == link_id, PatientTap.created_at < utcnow() - TAP_MEMORY
        )
    )
    try:
        with db.session.begin_nested():
            db.session.add(PatientTap(link_id=link_id, key=key))
            db.session.flush()
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class TapResult:
    counted: bool  #: False for a retried key or a full day
    full: bool = False


def tap_session(
    link: PatientLink, plan: Plan, day: date, prescribed: int, key: str, ip: str
) -> TapResult:
    """One session done from the phone, counted once per idempotency key, audited."""
    from ..logs.operations import DayFull

    if not claim_tap(link.id, key):
        return TapResult(False)
    try:
        with db.session.begin_nested():
            row = log_patient_session(plan, day, prescribed, link.id)
    except DayFull:
        return TapResult(False, full=True)
    by, who = link_actor(link, ip)
    record_event(by, "companion.session", row, f"{day.isoformat()} plan {plan.id}", **who)
    return TapResult(True)


def save_day(
    link: PatientLink,
    plan: Plan,
    day: date,
    values: dict[str, Any],
    question: str,
    prescribed: int,
    key: str,
    ip: str,
) -> bool:
    """The rest of the day's sheet and a question for the next visit; False for a retried key."""
    if not claim_tap(link.id, key):
        return False
    by, who = link_actor(link, ip)
    row = save_patient_day(plan, day, values, prescribed, link.id)
    record_event(by, "companion.day", row, f"{day.isoformat()} plan {plan.id}", **who)
    if question:
        asked = PatientQuestion(
            clinic_id=link.clinic_id,
            patient_id=link.patient_id,
            plan_id=plan.id,
            link_id=link.id,
            day=day,
            text=question,
        )
        db.session.add(asked)
        db.session.flush()
        record_event(by, "companion.question", asked, f"plan {plan.id}", **who)
    return True
