"""Typed SQLAlchemy models. Every clinical row carries its clinic, so every read can be scoped."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .domain.vocab import CueSet, Paper, PlanStatus, Role
from .extensions import db


def utcnow() -> datetime:
    """Timezone-naive UTC now (stored naive; every timestamp in the database is UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Clinic(db.Model):
    __tablename__ = "clinic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    paper: Mapped[str] = mapped_column(sa.String(10), default=Paper.A4.value)
    footer_text: Mapped[str] = mapped_column(sa.String(300), default="")
    #: re-encoded PNG; kept in the database so app servers hold no state of their own
    logo: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[str] = mapped_column(sa.String(20), default=Role.CLINICIAN.value)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    #: bumped on logout, password change and deactivation; sessions carrying an older value end
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    clinic: Mapped[Clinic] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class Patient(db.Model):
    __tablename__ = "patient"
    __table_args__ = (
        sa.UniqueConstraint("clinic_id", "chart_number", name="uq_patient_chart"),
        sa.Index("ix_patient_clinic_name", "clinic_id", "family_name", "given_name"),
        sa.Index("ix_patient_clinic_created", "clinic_id", "created_at", "id"),  # "newest first"
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"))
    given_name: Mapped[str] = mapped_column(sa.String(100))
    family_name: Mapped[str] = mapped_column(sa.String(100))
    preferred_name: Mapped[str] = mapped_column(sa.String(100), default="")
    date_of_birth: Mapped[date | None]
    chart_number: Mapped[str] = mapped_column(sa.String(40))
    cue_set: Mapped[str] = mapped_column(sa.String(10), default=CueSet.NEUTRAL.value)
    #: Diagnosis values, e.g. ["stress_ui", "prolapse"]
    diagnoses: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Precaution values, e.g. ["catheter"]
    precautions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def called(self) -> str:
        """The name the patient likes to be called."""
        return self.preferred_name or self.given_name


class Assessment(db.Model):
    __tablename__ = "assessment"
    __table_args__ = (sa.Index("ix_assessment_patient_date", "patient_id", "assessed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"), index=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"))
    clinician_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    assessed_on: Mapped[date]
    #: Modified Oxford Scale 0-5
    oxford_grade: Mapped[int | None]
    #: PERFECT: endurance in seconds, repetitions and fast contractions (each up to 10)
    endurance_s: Mapped[int | None]
    repetitions: Mapped[int | None]
    fast_contractions: Mapped[int | None]
    relaxation: Mapped[str | None] = mapped_column(sa.String(10))
    pain: Mapped[int | None]
    leaks_per_week: Mapped[int | None]
    pads_per_day: Mapped[int | None]
    technique_confirmed: Mapped[bool] = mapped_column(default=False)
    #: ICIQ-UI SF total only (0-21); the questionnaire itself is licensed and never stored
    iciq_total: Mapped[int | None]
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    clinician: Mapped[User] = relationship(lazy="joined")


class ClinicExercise(db.Model):
    """An exercise a clinic added to the built-in catalogue, with its own instructions."""

    __tablename__ = "clinic_exercise"
    __table_args__ = (sa.UniqueConstraint("clinic_id", "code", name="uq_clinic_exercise_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(80))
    kind: Mapped[str] = mapped_column(sa.String(12))
    params: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    #: one step a line
    steps: Mapped[str] = mapped_column(sa.Text, default="")
    breathing: Mapped[str] = mapped_column(sa.Text, default="")
    feel: Mapped[str] = mapped_column(sa.Text, default="")
    #: one mistake a line
    mistakes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClinicTemplate(db.Model):
    """A plan saved by a clinic for reuse, used like a built-in template."""

    __tablename__ = "clinic_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    approach: Mapped[str] = mapped_column(sa.String(20))
    purpose: Mapped[str] = mapped_column(sa.Text, default="")
    #: list of item dicts (the fields of domain.progression.Item)
    items: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Plan(db.Model):
    __tablename__ = "plan"
    __table_args__ = (
        sa.Index("ix_plan_patient", "patient_id", "created_at"),
        sa.Index("ix_plan_clinic_status_end", "clinic_id", "status", "end_date"),
        # a clinician's drafts, oldest first (start page); also serves the author foreign key
        sa.Index("ix_plan_author_status_created", "author_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"))
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    #: built-in template code, or "clinic:<id>" for a clinic template
    template_code: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(120))
    approach: Mapped[str] = mapped_column(sa.String(20))
    purpose: Mapped[str] = mapped_column(sa.Text, default="")
    start_date: Mapped[date]
    end_date: Mapped[date]  #: start + 27 days, stored so "ending soon" is one indexed range
    status: Mapped[str] = mapped_column(sa.String(12), default=PlanStatus.DRAFT.value)
    status_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    revision: Mapped[int] = mapped_column(default=1)
    revises_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan.id"), index=True)
    notes_to_patient: Mapped[str] = mapped_column(sa.Text, default="")
    #: handout options; None means the clinic's paper / the patient's cue set
    paper: Mapped[str | None] = mapped_column(sa.String(10))
    large_print: Mapped[bool] = mapped_column(default=False)
    cue_set: Mapped[str | None] = mapped_column(sa.String(10))
    issued_at: Mapped[datetime | None]
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    patient: Mapped[Patient] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    items: Mapped[list[PlanItem]] = relationship(
        back_populates="plan",
        order_by="(PlanItem.week, PlanItem.seq)",
        cascade="all, delete-orphan",
    )
    acknowledgements: Mapped[list[WarningAck]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="WarningAck.id"
    )

    @property
    def is_editable(self) -> bool:
        return self.status == PlanStatus.DRAFT


class PlanItem(db.Model):
    __tablename__ = "plan_item"
    __table_args__ = (sa.Index("ix_plan_item_plan", "plan_id", "week", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id"))
    week: Mapped[int]
    seq: Mapped[int]  #: order within the week
    exercise_code: Mapped[str] = mapped_column(sa.String(40))
    position: Mapped[str] = mapped_column(sa.String(12))
    hold_s: Mapped[int | None]
    rest_s: Mapped[int | None]
    reps: Mapped[int]
    sets: Mapped[int] = mapped_column(default=1)
    sessions_per_day: Mapped[int]
    effort_pct: Mapped[int | None]
    note: Mapped[str] = mapped_column(sa.String(200), default="")

    plan: Mapped[Plan] = relationship(back_populates="items")


class WarningAck(db.Model):
    """A rule warning the issuing clinician acknowledged, kept with the plan."""

    __tablename__ = "warning_ack"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(60))
    message: Mapped[str] = mapped_column(sa.String(400))
    acknowledged_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan: Mapped[Plan] = relationship(back_populates="acknowledgements")
    acknowledged_by: Mapped[User] = relationship()


class LogEntry(db.Model):
    """One day of a returned logging sheet."""

    __tablename__ = "log_entry"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "day", name="uq_log_plan_day"),
        sa.Index("ix_log_clinic_day", "clinic_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"))
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id"))
    day: Mapped[date]
    sessions_done: Mapped[int] = mapped_column(default=0)
    #: what the plan prescribed for that day when it was logged, so adherence is one sum
    sessions_prescribed: Mapped[int] = mapped_column(default=0)
    longest_hold_s: Mapped[int | None]
    leaks: Mapped[int | None]
    leak_trigger: Mapped[str] = mapped_column(sa.String(120), default="")
    urgency: Mapped[int | None]  #: ICS urgency grade 0-3
    pain: Mapped[int | None]
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    entered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Submission(db.Model):
    """A one-time form token, claimed by the first POST that carries it (no double records)."""

    __tablename__ = "submission"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"))
    #: where the first submission led, so a repeat lands on the same record
    target: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(db.Model):
    """Append-only audit trail; each row's HMAC covers the previous row's, so edits show."""

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_clinic_at", "clinic_id", "at"),
        sa.Index("ix_audit_chain", "clinic_id", "id"),  # a clinic's chain, newest row first
        sa.Index("ix_audit_action_actor_at", "action", "actor", "at"),
        sa.Index("ix_audit_action_ip_at", "action", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    clinic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinic.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    #: who, as typed or known (an email); kept even for failed logins of unknown accounts
    actor: Mapped[str] = mapped_column(sa.String(254), default="")
    action: Mapped[str] = mapped_column(sa.String(40))
    record_type: Mapped[str] = mapped_column(sa.String(40), default="")
    record_id: Mapped[int | None]
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    prev_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    hash: Mapped[str] = mapped_column(sa.String(64))
