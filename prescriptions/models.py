"""Typed SQLAlchemy models. Every clinical row carries its clinic, so every read can be scoped."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .database import upsert_insert
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
    #: ISO country code the clinic confirmed its numbers for ("" until it does)
    country: Mapped[str] = mapped_column(sa.String(2), default="", server_default="")
    #: printed in the handout's "get help now" grade and footer, e.g. 999
    emergency_number: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    #: the out-of-hours advice line for same-day worries, e.g. NHS 111
    out_of_hours_number: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    #: re-encoded PNG; kept in the database so app servers hold no state of their own
    logo: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    #: every account must sign in with a second factor (enrolling at its next sign-in)
    require_two_factor: Mapped[bool] = mapped_column(default=False)
    #: keep the straightened page of every confirmed returned sheet (else scans are deleted)
    keep_scans: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
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
    #: base32 TOTP secret once two-factor sign-in is confirmed; None without a second factor
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    #: a secret shown for enrolment, not yet confirmed with a code
    totp_pending_secret: Mapped[str | None] = mapped_column(sa.String(64))
    #: the last TOTP time step accepted: a code is good once (no replay within its window)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    clinic: Mapped[Clinic] = relationship(lazy="joined")

    @property
    def has_two_factor(self) -> bool:
        return self.totp_secret is not None

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


def chart_key(chart_number: str) -> str:
    """What makes two chart numbers the same one: case and surrounding space do not count."""
    return (chart_number or "").strip().casefold()


class Patient(db.Model):
    __tablename__ = "patient"
    __table_args__ = (
        sa.UniqueConstraint("clinic_id", "chart_number", name="uq_patient_chart"),
        # "rph-1001" and " RPH-1001 " are one chart number: unique regardless of case and space
        sa.Index("uq_patient_chart_key", "clinic_id", "chart_key", unique=True),
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
    #: chart_key(chart_number), set whenever chart_number is
    chart_key: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
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

    @validates("chart_number")
    def _keep_chart_key(self, _key: str, value: str) -> str:
        self.chart_key = chart_key(value)
        return value

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def called(self) -> str:
        """The name the patient likes to be called."""
        return self.preferred_name or self.given_name


class Assessment(db.Model):
    __tablename__ = "assessment"
    __table_args__ = (
        # a patient's assessments by date; the rest of its columns let the outcomes page read
        # each programme's ICIQ-UI SF totals from the index alone
        sa.Index(
            "ix_assessment_patient_date",
            "patient_id",
            "assessed_on",
            "iciq_total",
            "voided_at",
            "clinic_id",
        ),  # fmt: skip
    )

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
    #: the assessment this one corrects (void and amend: the old one stays, voided)
    amends_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assessment.id"), index=True)
    #: set when an amendment replaced this assessment; its values stay on record
    voided_at: Mapped[datetime | None]
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    void_reason: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")

    clinician: Mapped[User] = relationship(lazy="joined", foreign_keys=[clinician_id])
    voided_by: Mapped[User | None] = relationship(foreign_keys=[voided_by_id])


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


#: The statuses of a revision that is still open (see uq_plan_one_open_revision).
OPEN_REVISION = "status IN ('draft', 'issued')"


class Plan(db.Model):
    __tablename__ = "plan"
    __table_args__ = (
        sa.Index("ix_plan_patient", "patient_id", "created_at"),
        sa.Index("ix_plan_clinic_status_end", "clinic_id", "status", "end_date"),
        # a clinician's drafts, oldest first (start page); also serves the author foreign key
        sa.Index("ix_plan_author_status_created", "author_id", "status", "created_at"),
        # One open revision per plan: a draft being prepared or the issued one, never two. With
        # issue_plan superseding the plan it revises under its row version, a lineage has one
        # current plan however many clicks arrive at once.
        sa.Index(
            "uq_plan_one_open_revision",
            "revises_id",
            unique=True,
            postgresql_where=sa.text(OPEN_REVISION),
            sqlite_where=sa.text(OPEN_REVISION),
        ),
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
    #: the first plan of this revision chain (its lineage); None on that plan itself
    lineage_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan.id"), index=True)
    #: the programme (course of care) this plan is a block of; every revision shares it.
    #: Set on every plan since migration d2f7a9c4e6b1 (nullable only for SQLite's ALTER TABLE).
    programme_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("programme.id"), index=True, active_history=True
    )
    #: which block of its programme this plan is, from 1
    block_number: Mapped[int] = mapped_column(default=1, server_default="1", active_history=True)
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
    programme: Mapped[Programme | None] = relationship()
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

    @property
    def lineage_key(self) -> int:
        """The id every revision of this lineage (revision chain) shares: its first plan's."""
        return self.lineage_id or self.id


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
    #: why "plan the next block" proposed this dose, in plain words ("" when not proposed)
    reason: Mapped[str] = mapped_column(sa.String(400), default="", server_default="")
    #: the same change said for the patient's handout cover ("" when not proposed)
    patient_reason: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")

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


#: The days logged from a patient's phone (see ix_log_clinic_phone_updated).
PHONE_LOGGED = "entered_by_link_id IS NOT NULL"


class LogEntry(db.Model):
    """One day of a returned logging sheet: a day of the plan's lineage, not of a revision.

    Every revision of a plan reads and writes the same days (keyed by the lineage); plan_id
    is the revision the day was first logged against, whose dose `sessions_prescribed` keeps.
    """

    __tablename__ = "log_entry"
    __table_args__ = (
        sa.UniqueConstraint("lineage_id", "day", name="uq_log_lineage_day"),
        # the start page's week of sums per lineage (fetch_low_adherence), read from the index
        sa.Index(
            "ix_log_clinic_day",
            "clinic_id",
            "day",
            "lineage_id",
            "sessions_done",
            "sessions_prescribed",
        ),  # fmt: skip
        sa.Index("ix_log_plan", "plan_id"),
        # the start page's days logged from patients' phones, latest first: only those rows,
        # not every logged day of the clinic (ix_log_clinic_day walked them all, 250 ms at
        # 10,000 patients on SQLite)
        sa.Index(
            "ix_log_clinic_phone_updated",
            "clinic_id",
            "updated_at",
            postgresql_where=sa.text(PHONE_LOGGED),
            sqlite_where=sa.text(PHONE_LOGGED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"))
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id"))
    #: Plan.lineage_key of plan_id. None only for a day that two revisions had both logged
    #: before logs followed revisions: migration a7c3e9d1f2b4 kept the later entry for the
    #: lineage and left the earlier one on record, on its own revision only.
    #: (The columns ProgrammeBlockSums adds up load their old value when set, so a change is
    #: always a known difference: active_history.)
    lineage_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan.id"), active_history=True)
    day: Mapped[date]
    sessions_done: Mapped[int] = mapped_column(default=0, active_history=True)
    #: what the plan prescribed for that day when it was logged, so adherence is one sum
    sessions_prescribed: Mapped[int] = mapped_column(default=0, active_history=True)
    longest_hold_s: Mapped[int | None]
    leaks: Mapped[int | None] = mapped_column(active_history=True)
    leak_trigger: Mapped[str] = mapped_column(sa.String(120), default="")
    urgency: Mapped[int | None]  #: ICS urgency grade 0-3
    pain: Mapped[int | None]
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    #: the staff member who last saved the day; None while only the patient's phone has
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    #: the patient link that logged the day from the phone (the day's values are the patient's
    #: until a staff member saves the day; `patient_entry` keeps the patient's own either way)
    entered_by_link_id: Mapped[int | None] = mapped_column(sa.ForeignKey("patient_link.id"))
    #: what the patient entered on the phone for this day (LOG_FIELDS), kept beside staff values
    patient_entry: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def entered_by_patient(self) -> bool:
        """Whether the day's values are the patient's own, from the phone."""
        return self.entered_by_id is None and self.entered_by_link_id is not None


@sa.event.listens_for(LogEntry, "before_insert")
def _log_lineage(_mapper: Any, connection: sa.Connection, entry: LogEntry) -> None:
    """A day inserted without its lineage joins its plan's."""
    if entry.lineage_id is None:
        row = connection.execute(
            sa.select(Plan.lineage_id, Plan.id).where(Plan.id == entry.plan_id)
        ).one()
        entry.lineage_id = row.lineage_id or row.id


class ProgrammeBlockSums(db.Model):
    """A programme block's logged days added up: what the outcomes page reads instead of every
    day of the clinic (a few rows a programme rather than a row a day).

    Derived data, kept by the LogEntry flush events below in the same transaction as the days:
    each row is the sums over the days whose lineage's first plan is this block of this
    programme (the lineage's first plan carries its days, as the outcomes query always joined).
    Changes are added as differences (`x = x + d`, inserting the row on the first day), so two
    transactions logging days of one block at once both count; a first plan moved to another
    block or programme takes its days' sums along. Migration f1c3a5e7b9d2 and
    `refresh_block_sums` fill it from log_entry for writes that bypass the ORM (seed-demo) and
    on restore (a backup's own sums rows are never trusted).
    """

    __tablename__ = "programme_block_sums"
    __table_args__ = (
        # the outcomes page reads a clinic's rows from this index alone
        sa.Index(
            "ix_block_sums_clinic",
            "clinic_id",
            "programme_id",
            "block_number",
            "days",
            "sessions_done",
            "sessions_prescribed",
            "leaks",
            "leak_days",
        ),  # fmt: skip
    )

    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programme.id"), primary_key=True)
    block_number: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"))
    days: Mapped[int] = mapped_column(default=0)  #: days logged
    sessions_done: Mapped[int] = mapped_column(default=0)
    sessions_prescribed: Mapped[int] = mapped_column(default=0)
    leaks: Mapped[int] = mapped_column(default=0)  #: over the days with leaks recorded
    leak_days: Mapped[int] = mapped_column(default=0)  #: days with leaks recorded


#: The LogEntry columns a day's contribution to its block's sums is made of.
_SUMMED = ("lineage_id", "sessions_done", "sessions_prescribed", "leaks")
BLOCK_SUMS = ("days", "sessions_done", "sessions_prescribed", "leaks", "leak_days")


def day_sums() -> tuple[sa.ColumnElement[int], ...]:
    """The aggregates of some logged days, in BLOCK_SUMS order."""
    return (
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(LogEntry.sessions_done), 0),
        sa.func.coalesce(sa.func.sum(LogEntry.sessions_prescribed), 0),
        sa.func.coalesce(sa.func.sum(LogEntry.leaks), 0),
        sa.func.count(LogEntry.leaks),
    )


def _contribution(values: dict[str, Any], sign: int) -> dict[str, int]:
    """What one day adds to its block's sums (sign -1: what removing it takes away)."""
    leaks = values["leaks"]
    return {
        "days": sign,
        "sessions_done": sign * (values["sessions_done"] or 0),
        "sessions_prescribed": sign * (values["sessions_prescribed"] or 0),
        "leaks": sign * (leaks or 0),
        "leak_days": 0 if leaks is None else sign,
    }


def _add_to_block(connection: sa.Connection, lineage_id: int | None, delta: dict[str, int]) -> None:
    """Add `delta` to the sums of the block whose first plan is `lineage_id` (an upsert)."""
    if lineage_id is None or not any(delta.values()):
        return
    table = ProgrammeBlockSums.__table__
    insert = upsert_insert(table, connection.dialect.name)
    source = sa.select(
        Plan.programme_id, Plan.block_number, Plan.clinic_id,
        *(sa.literal(delta[name], sa.Integer) for name in BLOCK_SUMS),
    ).where(Plan.id == lineage_id, Plan.programme_id.is_not(None))  # fmt: skip
    connection.execute(
        insert.from_select(
            ["programme_id", "block_number", "clinic_id", *BLOCK_SUMS], source
        ).on_conflict_do_update(
            index_elements=["programme_id", "block_number"],
            set_={name: table.c[name] + insert.excluded[name] for name in BLOCK_SUMS},
        )
    )


def _before(entry: LogEntry) -> dict[str, Any]:
    """The summed columns as the database held them before this flush."""
    state = sa.inspect(entry)
    values = {}
    for key in _SUMMED:
        history = state.attrs[key].history
        if history.deleted:
            values[key] = history.deleted[0]
        elif history.unchanged or not history.added:
            values[key] = getattr(entry, key)  # unchanged (loaded now if it had expired)
        else:  # changed from a value never loaded: active_history on the column prevents it
            raise RuntimeError(f"log_entry.{key} changed from an unknown value")
    return values


@sa.event.listens_for(LogEntry, "after_insert")
def _sum_new_day(_mapper: Any, connection: sa.Connection, entry: LogEntry) -> None:
    """A new day adds to its block's sums."""
    values = {key: getattr(entry, key) for key in _SUMMED}
    _add_to_block(connection, entry.lineage_id, _contribution(values, 1))


@sa.event.listens_for(LogEntry, "after_update")
def _sum_changed_day(_mapper: Any, connection: sa.Connection, entry: LogEntry) -> None:
    """A changed day adds the difference (and moves, if its lineage changed)."""
    old = _before(entry)
    new = {key: getattr(entry, key) for key in _SUMMED}
    if old == new:
        return
    removed, added = _contribution(old, -1), _contribution(new, 1)
    if old["lineage_id"] == new["lineage_id"]:
        _add_to_block(connection, new["lineage_id"], {k: removed[k] + added[k] for k in added})
        return
    _add_to_block(connection, old["lineage_id"], removed)
    _add_to_block(connection, new["lineage_id"], added)


@sa.event.listens_for(LogEntry, "before_delete")
def _sum_removed_day(_mapper: Any, connection: sa.Connection, entry: LogEntry) -> None:
    """A removed day takes its values away (before the DELETE, while they can still load)."""
    old = _before(entry)
    _add_to_block(connection, old["lineage_id"], _contribution(old, -1))


@sa.event.listens_for(Plan, "after_update")
def _move_block_sums(_mapper: Any, connection: sa.Connection, plan: Plan) -> None:
    """A lineage's first plan moved to another block or programme takes its days' sums along."""
    if plan.lineage_id is not None:
        return  # a revision: its lineage's days are counted in the first plan's block
    state = sa.inspect(plan)
    old = {}
    for key in ("programme_id", "block_number"):
        history = state.attrs[key].history
        old[key] = history.deleted[0] if history.deleted else getattr(plan, key)
    if old == {"programme_id": plan.programme_id, "block_number": plan.block_number}:
        return
    found = connection.execute(sa.select(*day_sums()).where(LogEntry.lineage_id == plan.id)).one()
    moved = dict(zip(BLOCK_SUMS, (int(n) for n in found), strict=True))
    if not any(moved.values()):
        return
    table = ProgrammeBlockSums.__table__
    connection.execute(
        sa.update(table)
        .where(
            table.c.programme_id == old["programme_id"],
            table.c.block_number == old["block_number"],
        )
        .values({name: table.c[name] - moved[name] for name in BLOCK_SUMS})
    )
    _add_to_block(connection, plan.id, moved)


class Submission(db.Model):
    """A one-time form token, claimed by the first POST that carries it (no double records).

    A token belongs to the person who opened the form: the same token from another user or
    another clinic is a different submission. Rows are purged after `SUBMISSION_TTL`.
    """

    __tablename__ = "submission"

    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: where the first submission led, so a repeat lands on the same record
    target: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class PasswordReset(db.Model):
    """A single-use link to choose a new password: only the token's hash is kept."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: SHA-256 of the token (256 random bits: a fast hash is enough, nothing to guess)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: "admin" (handed over by an administrator), "email" or "cli"
    via: Mapped[str] = mapped_column(sa.String(10))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    #: set when the link is used, or voided by a newer link or a new password
    ended_at: Mapped[datetime | None]


class RecoveryCode(db.Model):
    """A single-use recovery code for two-factor sign-in, stored as a hash."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None]


class SignInCounter(db.Model):
    """Failed attempts per account or address in the current window, counted atomically."""

    __tablename__ = "sign_in_counter"

    #: "account", "address", "reset-account" or "reset-address"
    scope: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime]


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


class SheetScan(db.Model):
    """One page of a returned sheet, read and waiting for a therapist to confirm it.

    Deleted when the therapist confirms or discards it, or after `SCAN_TTL` unconfirmed; kept
    (with `confirmed_at` set) only when the clinic keeps scans on record.
    """

    __tablename__ = "sheet_scan"
    __table_args__ = (sa.Index("ix_sheet_scan_clinic", "clinic_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"))
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id"), index=True)
    week: Mapped[int]
    #: which page of the week's sheet (large print spreads a week over two)
    page: Mapped[int] = mapped_column(default=0)
    #: the pages of one upload share it, so confirming one leads to the next
    batch: Mapped[str] = mapped_column(sa.String(32))
    #: what the reader made of the page: JSON of days, unsure fields and cell images
    reading: Mapped[str] = mapped_column(sa.Text)
    #: the straightened page as PNG, only when the clinic keeps scans on record
    image: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]

    plan: Mapped[Plan] = relationship()


class Programme(db.Model):
    """A course of care: blocks of four weeks in order, each block one plan lineage.

    Reviews are the patient's assessments between blocks; nothing else is stored for them.
    """

    __tablename__ = "programme"
    __table_args__ = (
        sa.Index("ix_programme_patient", "patient_id", "started_on"),
        # the outcomes page: a clinic's programmes started in a period, with every column its
        # reads filter or join on, so they are index-only
        sa.Index(
            "ix_programme_clinic_started",
            "clinic_id",
            "started_on",
            "template_code",
            "status",
            "patient_id",
            "ended_on",
        ),  # fmt: skip
        # one running programme per patient, even for two requests at once
        sa.Index(
            "ux_programme_running_patient",
            "patient_id",
            unique=True,
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"))
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"))
    #: the first block's template code (built-in code or "clinic:<id>")
    template_code: Mapped[str] = mapped_column(sa.String(40))
    goal: Mapped[str] = mapped_column(sa.Text, default="")  #: in the patient's plain words
    block_count: Mapped[int] = mapped_column(default=3)  #: 1 to 6
    status: Mapped[str] = mapped_column(sa.String(10), default="running")
    status_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    started_on: Mapped[date]
    ended_on: Mapped[date | None]  #: when it finished or stopped
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    patient: Mapped[Patient] = relationship()


class PatientLink(db.Model):
    """A patient's companion link: a capability URL and a short code, one live link a patient.

    The token and code are HMACs of `nonce` under a key derived from the secret key, so the
    handout can print them again; the database holds only their hashes and the nonce (useless
    without the key). Reissuing draws a new nonce: the old token and code stop at once.
    """

    __tablename__ = "patient_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"), index=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), unique=True)
    #: secrets.token_urlsafe(16): the link's token and code are HMACs of it (see the class doc)
    nonce: Mapped[str] = mapped_column(sa.String(64))
    #: SHA-256 of the token (192 bits: a fast hash is enough)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: SHA-256 of the short code as typed in capitals without dashes
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issued_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    reissued_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    #: the last day the link opens, kept once known: an ended link stays ended (a reissue
    #: starts it again), whatever plan the patient is given next
    ends_on: Mapped[date | None]

    patient: Mapped[Patient] = relationship()


class PatientTap(db.Model):
    """An idempotency key of a patient's write: the same key twice is one write."""

    __tablename__ = "patient_tap"

    link_id: Mapped[int] = mapped_column(sa.ForeignKey("patient_link.id"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class PatientQuestion(db.Model):
    """A question the patient left on the phone for the next visit."""

    __tablename__ = "patient_question"
    __table_args__ = (sa.Index("ix_patient_question_clinic_asked", "clinic_id", "asked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"))
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id"))
    link_id: Mapped[int] = mapped_column(sa.ForeignKey("patient_link.id"))
    day: Mapped[date]
    text: Mapped[str] = mapped_column(sa.String(500))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
