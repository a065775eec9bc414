"""Writes: verb_noun functions that take the actor explicitly, flush, audit and return.

The caller (a view or a command) owns the transaction: every write and its audit row commit
together or not at all.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from .audit import append_event
from .domain.progression import Item, Template
from .domain.vocab import PlanStatus, Role
from .extensions import db
from .models import (
    Assessment,
    Clinic,
    ClinicExercise,
    ClinicTemplate,
    LogEntry,
    Patient,
    Plan,
    Submission,
    User,
    WarningAck,
    utcnow,
)
from .passwords import hash_password
from .planning import item_rows, plan_items


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where, for the audit trail."""

    user: User | None
    ip: str = ""

    @property
    def clinic_id(self) -> int | None:
        return self.user.clinic_id if self.user else None

    @property
    def label(self) -> str:
        return self.user.email if self.user else "system"


SYSTEM = Actor(None, "cli")


def _acting_user(by: Actor) -> User:
    """The signed-in user behind an action that must be attributed to a person."""
    if by.user is None:
        raise PermissionError("This change must be made by a signed-in user.")
    return by.user


def audit_key() -> bytes:
    """The HMAC key of the audit chain (FLOORPLAN_AUDIT_KEY, else derived from the secret key)."""
    configured = current_app.config.get("AUDIT_KEY")
    if configured:
        return str(configured).encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"floorplan-audit-chain", hashlib.sha256).digest()


def record_event(
    by: Actor,
    action: str,
    record: Any = None,
    detail: str = "",
    *,
    clinic_id: int | None = None,
    actor: str | None = None,
) -> None:
    """Append an audit row for an action on a record (a model instance or None)."""
    append_event(
        audit_key(),
        action=action,
        clinic_id=clinic_id if clinic_id is not None else by.clinic_id,
        user_id=by.user.id if by.user else None,
        actor=actor if actor is not None else by.label,
        record_type=getattr(record, "__tablename__", ""),
        record_id=getattr(record, "id", None),
        ip=by.ip,
        detail=detail,
    )


def claim_submission(token: str, clinic_id: int) -> str | None:
    """Claim a one-time form token. Returns None when fresh, else where the first use led."""
    existing = db.session.get(Submission, token)
    if existing is not None:
        return existing.target or "/"
    try:
        with db.session.begin_nested():
            db.session.add(Submission(token=token, clinic_id=clinic_id))
    except IntegrityError:
        # A concurrent twin claimed it between our read and our insert; it has committed now.
        twin = db.session.get(Submission, token, populate_existing=True)
        return (twin.target if twin else "") or "/"
    return None


def complete_submission(token: str, target: str) -> None:
    """Remember where a claimed submission led, so a repeat lands there too."""
    submission = db.session.get(Submission, token)
    if submission is not None:
        submission.target = target


# --- clinics and users -------------------------------------------------------------------


def create_clinic(name: str, by: Actor = SYSTEM, **fields: Any) -> Clinic:
    """Create a clinic."""
    clinic = Clinic(name=name, **fields)
    db.session.add(clinic)
    db.session.flush()
    record_event(by, "clinic.create", clinic, name, clinic_id=clinic.id)
    return clinic


def update_clinic(clinic: Clinic, by: Actor, **fields: Any) -> Clinic:
    """Change clinic settings."""
    changed = sorted(k for k, v in fields.items() if getattr(clinic, k) != v)
    for key, value in fields.items():
        setattr(clinic, key, value)
    db.session.flush()
    record_event(by, "clinic.update", clinic, ", ".join(changed))
    return clinic


def create_user(
    clinic: Clinic, *, email: str, name: str, role: Role | str, password: str, by: Actor = SYSTEM
) -> User:
    """Create an account in a clinic (the password is already checked against the policy)."""
    user = User(
        clinic_id=clinic.id,
        email=email.strip().lower(),
        name=name.strip(),
        role=Role(role).value,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    record_event(by, "user.create", user, f"{user.email} as {user.role}", clinic_id=clinic.id)
    return user


def set_user_active(user: User, active: bool, by: Actor) -> User:
    """Activate or deactivate an account; deactivation ends its sessions at once."""
    user.active = active
    user.session_version += 1
    db.session.flush()
    record_event(by, "user.activate" if active else "user.deactivate", user, user.email)
    return user


def change_password(user: User, password: str, by: Actor) -> User:
    """Set a new password and end every other session of the user."""
    user.password_hash = hash_password(password)
    user.session_version += 1
    db.session.flush()
    record_event(by, "user.password", user, user.email)
    return user


def end_sessions(user: User, by: Actor) -> None:
    """End every session of the user (logout)."""
    user.session_version += 1
    db.session.flush()
    record_event(by, "auth.logout", user)


def record_login(user: User | None, email: str, ok: bool, by: Actor) -> None:
    """Audit a login attempt, successful or not."""
    if ok and user is not None:
        user.last_login_at = utcnow()
    record_event(
        Actor(user, by.ip),
        "auth.login" if ok else "auth.login_failed",
        user,
        clinic_id=user.clinic_id if user else None,
        actor=email.strip().lower()[:254],
    )


# --- patients and assessments -------------------------------------------------------------

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
    patient = Patient(clinic_id=clinic_id, **_only(fields, PATIENT_FIELDS))
    db.session.add(patient)
    db.session.flush()
    record_event(by, "patient.create", patient, patient.chart_number)
    return patient


def update_patient(patient: Patient, by: Actor, **fields: Any) -> Patient:
    """Change a patient's details (guarded by the row version)."""
    values = _only(fields, PATIENT_FIELDS)
    changed = sorted(k for k, v in values.items() if getattr(patient, k) != v)
    for key, value in values.items():
        setattr(patient, key, value)
    db.session.flush()
    record_event(by, "patient.update", patient, ", ".join(changed))
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
    user = _acting_user(by)
    assessment = Assessment(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        clinician_id=user.id,
        **_only(fields, ASSESSMENT_FIELDS),
    )
    db.session.add(assessment)
    db.session.flush()
    record_event(by, "assessment.create", assessment, f"patient {patient.id}")
    return assessment


def _only(fields: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    return dict(fields)


# --- plans -----------------------------------------------------------------------------------


class PlanStateError(Exception):
    """The plan's status does not allow this change (e.g. editing an issued plan)."""


PLAN_LENGTH_DAYS = 27  #: end = start + 27 days: four whole weeks


def create_plan(
    patient: Patient,
    template: Template,
    items: Sequence[Item],
    by: Actor,
    *,
    start: date,
    notes_to_patient: str = "",
) -> Plan:
    """Start a draft plan for a patient from a template's (already progressed) items."""
    user = _acting_user(by)
    plan = Plan(
        clinic_id=patient.clinic_id,
        patient=patient,
        author_id=user.id,
        template_code=template.code,
        title=template.name,
        approach=template.approach,
        purpose=template.purpose,
        start_date=start,
        end_date=start + timedelta(days=PLAN_LENGTH_DAYS),
        notes_to_patient=notes_to_patient,
        items=item_rows(items),
    )
    db.session.add(plan)
    db.session.flush()
    record_event(by, "plan.create", plan, f"{template.code} for patient {patient.id}")
    return plan


PLAN_DETAILS = ("start_date", "notes_to_patient", "paper", "large_print", "cue_set", "title")


def update_plan(plan: Plan, items: Sequence[Item], by: Actor, **details: Any) -> Plan:
    """Replace a draft's items and details; issued plans never change."""
    if not plan.is_editable:
        raise PlanStateError("Only a draft can be edited; revise an issued plan instead.")
    for key, value in _only(details, PLAN_DETAILS).items():
        setattr(plan, key, value)
    plan.end_date = plan.start_date + timedelta(days=PLAN_LENGTH_DAYS)
    plan.items = item_rows(items)
    plan.updated_at = utcnow()  # bumps the version even when only items changed
    db.session.flush()
    record_event(by, "plan.update", plan, f"{len(items)} items")
    return plan


def issue_plan(plan: Plan, by: Actor, acknowledged: Sequence[tuple[str, str]]) -> Plan:
    """Issue a draft: acknowledged warnings are kept, and the revision it replaces is superseded."""
    user = _acting_user(by)
    if plan.status != PlanStatus.DRAFT:
        raise PlanStateError("Only a draft can be issued.")
    now = utcnow()
    for key, message in acknowledged:
        plan.acknowledgements.append(
            WarningAck(code=key[:60], message=message[:400], acknowledged_by_id=user.id)
        )
    plan.status = PlanStatus.ISSUED.value
    plan.issued_at = now
    plan.issued_by_id = user.id
    if plan.revises_id is not None:
        previous = db.session.get(Plan, plan.revises_id)
        if previous is not None and previous.status == PlanStatus.ISSUED:
            previous.status = PlanStatus.SUPERSEDED.value
            previous.status_reason = f"Replaced by revision {plan.revision}"
            previous.closed_at = now
            record_event(by, "plan.supersede", previous, f"by plan {plan.id}")
    db.session.flush()
    record_event(by, "plan.issue", plan, f"{len(acknowledged)} warnings acknowledged")
    return plan


def _draft_from(plan: Plan, author: User, **overrides: Any) -> Plan:
    """A new draft carrying another plan's weeks, texts and handout options."""
    fields: dict[str, Any] = {
        "clinic_id": plan.clinic_id,
        "patient_id": plan.patient_id,
        "author_id": author.id,
        "template_code": plan.template_code,
        "title": plan.title,
        "approach": plan.approach,
        "purpose": plan.purpose,
        "start_date": plan.start_date,
        "end_date": plan.end_date,
        "notes_to_patient": plan.notes_to_patient,
        "paper": plan.paper,
        "large_print": plan.large_print,
        "cue_set": plan.cue_set,
        "items": item_rows(plan_items(plan.items)),
    }
    draft = Plan(**(fields | overrides))
    db.session.add(draft)
    db.session.flush()
    return draft


def revise_plan(plan: Plan, by: Actor) -> Plan:
    """A new draft revision of an issued plan, with the same items and options."""
    user = _acting_user(by)
    if plan.status != PlanStatus.ISSUED:
        raise PlanStateError("Only an issued plan can be revised.")
    revision = _draft_from(plan, user, revision=plan.revision + 1, revises_id=plan.id)
    record_event(by, "plan.revise", revision, f"revision {revision.revision} of plan {plan.id}")
    return revision


def complete_plan(plan: Plan, by: Actor) -> Plan:
    """Mark an issued plan as completed."""
    if plan.status != PlanStatus.ISSUED:
        raise PlanStateError("Only an issued plan can be completed.")
    plan.status = PlanStatus.COMPLETED.value
    plan.closed_at = utcnow()
    db.session.flush()
    record_event(by, "plan.complete", plan)
    return plan


def cancel_plan(plan: Plan, reason: str, by: Actor) -> Plan:
    """Cancel a draft or issued plan, with a reason; it stays on record."""
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.ISSUED):
        raise PlanStateError("Only a draft or an issued plan can be cancelled.")
    plan.status = PlanStatus.CANCELLED.value
    plan.status_reason = reason
    plan.closed_at = utcnow()
    db.session.flush()
    record_event(by, "plan.cancel", plan, reason)
    return plan


def copy_plan(plan: Plan, patient: Patient, by: Actor, *, start: date) -> Plan:
    """A new draft for another patient with the same items and notes."""
    copy = _draft_from(
        plan,
        _acting_user(by),
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        start_date=start,
        end_date=start + timedelta(days=PLAN_LENGTH_DAYS),
        cue_set=None,  # the new patient's own wording
    )
    record_event(by, "plan.copy", copy, f"from plan {plan.id}")
    return copy


def save_clinic_template(plan: Plan, name: str, by: Actor) -> ClinicTemplate:
    """Keep a plan's items as a clinic template."""
    user = _acting_user(by)
    template = ClinicTemplate(
        clinic_id=plan.clinic_id,
        name=name,
        approach=plan.approach,
        purpose=plan.purpose,
        items=[item.as_dict() for item in plan_items(plan.items)],
        created_by_id=user.id,
    )
    db.session.add(template)
    db.session.flush()
    record_event(by, "template.create", template, f"from plan {plan.id}")
    return template


EXERCISE_FIELDS = ("code", "name", "kind", "params", "summary", "steps", "breathing", "feel")


def add_clinic_exercise(clinic_id: int, by: Actor, **fields: Any) -> ClinicExercise:
    """Add a clinic's own exercise to its catalogue."""
    exercise = ClinicExercise(clinic_id=clinic_id, **_only(fields, (*EXERCISE_FIELDS, "mistakes")))
    db.session.add(exercise)
    db.session.flush()
    record_event(by, "exercise.create", exercise, exercise.code)
    return exercise


# --- returned logs -----------------------------------------------------------------------------


class LogConflict(Exception):
    """Someone else saved this week's log after the form was opened."""


@dataclass(frozen=True)
class DayEntry:
    """One filled line of a weekly log form."""

    day: date
    version: int | None  #: the version the form was opened at; None for a new day
    values: dict[str, Any]


LOG_FIELDS = (
    "sessions_done",
    "longest_hold_s",
    "leaks",
    "leak_trigger",
    "urgency",
    "pain",
    "note",
)


def save_week_log(
    plan: Plan,
    entries: Sequence[DayEntry],
    existing: dict[date, LogEntry],
    prescribed: int,
    by: Actor,
) -> int:
    """Create or update the logged days of one plan week; returns how many days changed."""
    user = _acting_user(by)
    if plan.status == PlanStatus.DRAFT:
        raise PlanStateError("A draft has no log: issue the plan first.")
    changed = 0
    for entry in entries:
        values = _only(entry.values, LOG_FIELDS)
        row = existing.get(entry.day)
        if row is None:
            if entry.version is not None:
                raise LogConflict(entry.day)
            row = LogEntry(
                clinic_id=plan.clinic_id,
                plan_id=plan.id,
                day=entry.day,
                sessions_prescribed=prescribed,
                entered_by_id=user.id,
                **values,
            )
            db.session.add(row)
            changed += 1
        else:
            if entry.version != row.version:
                raise LogConflict(entry.day)
            if any(getattr(row, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                row.entered_by_id = user.id
                changed += 1
    try:
        db.session.flush()
    except IntegrityError as error:  # a twin request created the same day first
        raise LogConflict(None) from error
    record_event(by, "log.save", plan, f"{changed} days")
    return changed
