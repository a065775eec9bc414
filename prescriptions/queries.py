"""Reads, always scoped to a clinic. A record of another clinic is simply not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from .domain.vocab import PlanStatus
from .extensions import db
from .models import (
    Assessment,
    AuditEvent,
    Clinic,
    ClinicExercise,
    ClinicTemplate,
    LogEntry,
    Patient,
    Plan,
    PlanItem,
    Submission,
    User,
    WarningAck,
)

#: Sort keys a patient list accepts (allow-list; never a raw column name from the request).
PATIENT_SORTS: dict[str, tuple[Any, ...]] = {
    "name": (Patient.family_name, Patient.given_name, Patient.id),
    "chart": (Patient.chart_number, Patient.id),
    "recent": (Patient.created_at.desc(), Patient.id.desc()),
}


@dataclass(frozen=True)
class Page:
    """One page of a list."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def fetch_user_by_email(email: str) -> User | None:
    """The account with this email (any clinic), for signing in."""
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def fetch_clinic_by_name(name: str) -> Clinic | None:
    """The clinic with exactly this name."""
    return db.session.scalar(sa.select(Clinic).where(Clinic.name == name))


def fetch_clinics() -> list[Clinic]:
    """Every clinic, by name."""
    return list(db.session.scalars(sa.select(Clinic).order_by(Clinic.name)))


def fetch_users(clinic_id: int) -> list[User]:
    """The clinic's accounts, active first."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.clinic_id == clinic_id)
            .order_by(User.active.desc(), User.name)
        )
    )


def fetch_user(clinic_id: int, user_id: int) -> User | None:
    """One account of the clinic."""
    return db.session.scalar(sa.select(User).where(User.clinic_id == clinic_id, User.id == user_id))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def patient_search(search: str) -> list[sa.ColumnElement[bool]]:
    """Conditions matching every word of a search in a patient's names or chart number."""
    conditions = []
    # Control characters match no name, and PostgreSQL refuses NUL in text outright.
    search = "".join(ch if ch.isprintable() else " " for ch in search)
    for term in search.split()[:4]:
        like = f"%{_escape_like(term)}%"
        conditions.append(
            sa.or_(
                Patient.given_name.ilike(like, escape="\\"),
                Patient.family_name.ilike(like, escape="\\"),
                Patient.preferred_name.ilike(like, escape="\\"),
                Patient.chart_number.ilike(like, escape="\\"),
            )
        )
    return conditions


def fetch_patients(
    clinic_id: int,
    *,
    search: str = "",
    archived: bool = False,
    sort: str = "name",
    page: int = 1,
    per_page: int = 25,
) -> Page:
    """A page of the clinic's patients, searched by name or chart number."""
    stmt = sa.select(Patient).where(Patient.clinic_id == clinic_id)
    stmt = stmt.where(
        Patient.archived_at.is_not(None) if archived else Patient.archived_at.is_(None)
    )
    stmt = stmt.where(*patient_search(search))
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()
    page = max(1, min(page, max(1, -(-total // per_page))))
    order = PATIENT_SORTS.get(sort, PATIENT_SORTS["name"])
    items = list(
        db.session.scalars(stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page))
    )
    return Page(items=items, page=page, per_page=per_page, total=total)


def fetch_patient(clinic_id: int, patient_id: int) -> Patient | None:
    """One patient of the clinic (archived ones included)."""
    return db.session.scalar(
        sa.select(Patient).where(Patient.clinic_id == clinic_id, Patient.id == patient_id)
    )


def chart_number_taken(clinic_id: int, chart_number: str, *, except_id: int | None = None) -> bool:
    """Whether another patient of the clinic already has this chart number."""
    stmt = sa.select(Patient.id).where(
        Patient.clinic_id == clinic_id, Patient.chart_number == chart_number
    )
    if except_id is not None:
        stmt = stmt.where(Patient.id != except_id)
    return db.session.execute(stmt.limit(1)).first() is not None


def fetch_assessments(clinic_id: int, patient_id: int) -> list[Assessment]:
    """A patient's assessments, newest first."""
    return list(
        db.session.scalars(
            sa.select(Assessment)
            .where(Assessment.clinic_id == clinic_id, Assessment.patient_id == patient_id)
            .order_by(Assessment.assessed_on.desc(), Assessment.id.desc())
        )
    )


def fetch_latest_assessment(clinic_id: int, patient_id: int) -> Assessment | None:
    """A patient's most recent assessment."""
    return db.session.scalar(
        sa.select(Assessment)
        .where(Assessment.clinic_id == clinic_id, Assessment.patient_id == patient_id)
        .order_by(Assessment.assessed_on.desc(), Assessment.id.desc())
        .limit(1)
    )


def fetch_submission_target(clinic_id: int, token: str) -> str | None:
    """Where an already-used one-time form token led, or None when it is unused."""
    return db.session.scalar(
        sa.select(Submission.target).where(
            Submission.token == token, Submission.clinic_id == clinic_id
        )
    )


def count_failed_logins(*, email: str = "", ip: str = "", since: datetime) -> int:
    """Failed sign-ins for an account or from an address since a moment (for rate limiting)."""
    stmt = sa.select(sa.func.count()).where(
        AuditEvent.action == "auth.login_failed", AuditEvent.at >= since
    )
    stmt = stmt.where(AuditEvent.actor == email) if email else stmt.where(AuditEvent.ip == ip)
    return db.session.execute(stmt).scalar_one()


def count_rows(model: type, **filters: Any) -> int:
    """How many rows of a model match (used by commands and tests)."""
    stmt = sa.select(sa.func.count()).select_from(model)
    for key, value in filters.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.execute(stmt).scalar_one()


def fetch_plan(clinic_id: int | None, plan_id: int) -> Plan | None:
    """One plan of the clinic, with its patient, author, items and acknowledgements.

    Only the server's own command line passes clinic_id=None (it acts for every clinic).
    """
    stmt = sa.select(Plan).where(Plan.id == plan_id)
    if clinic_id is not None:
        stmt = stmt.where(Plan.clinic_id == clinic_id)
    # Acknowledgements ride on the plan's own row (few, often none); items come in one more
    # statement. A refresh after the handout's commit then costs two statements, not three.
    stmt = stmt.options(
        joinedload(Plan.patient),
        joinedload(Plan.author),
        joinedload(Plan.acknowledgements).joinedload(WarningAck.acknowledged_by),
        selectinload(Plan.items),
    )
    return db.session.execute(stmt).unique().scalar_one_or_none()


def fetch_patient_plans(clinic_id: int, patient_id: int) -> list[Plan]:
    """Every plan and revision of a patient, newest first, with their authors."""
    return list(
        db.session.scalars(
            sa.select(Plan)
            .where(Plan.clinic_id == clinic_id, Plan.patient_id == patient_id)
            .options(joinedload(Plan.author))
            .order_by(Plan.created_at.desc(), Plan.id.desc())
        )
    )


def fetch_lineage_plans(clinic_id: int, patient_id: int) -> list[Plan]:
    """A patient's plans with items loaded (for revision history)."""
    return list(
        db.session.scalars(
            sa.select(Plan)
            .where(Plan.clinic_id == clinic_id, Plan.patient_id == patient_id)
            .options(selectinload(Plan.items), joinedload(Plan.author))
            .order_by(Plan.id)
        )
    )


def fetch_draft_revision(clinic_id: int, plan_id: int) -> Plan | None:
    """The open draft revising a plan, if there is one."""
    return db.session.scalar(
        sa.select(Plan).where(
            Plan.clinic_id == clinic_id,
            Plan.revises_id == plan_id,
            Plan.status == PlanStatus.DRAFT.value,
        )
    )


def fetch_clinic_exercises(clinic_id: int) -> list[ClinicExercise]:
    """A clinic's own exercises, by name."""
    return list(
        db.session.scalars(
            sa.select(ClinicExercise)
            .where(ClinicExercise.clinic_id == clinic_id)
            .order_by(ClinicExercise.name)
        )
    )


def fetch_clinic_templates(clinic_id: int) -> list[ClinicTemplate]:
    """A clinic's saved templates, by name."""
    return list(
        db.session.scalars(
            sa.select(ClinicTemplate)
            .where(ClinicTemplate.clinic_id == clinic_id)
            .order_by(ClinicTemplate.name)
        )
    )


def fetch_clinic_template(clinic_id: int, template_id: int) -> ClinicTemplate | None:
    """One of a clinic's templates."""
    return db.session.scalar(
        sa.select(ClinicTemplate).where(
            ClinicTemplate.clinic_id == clinic_id, ClinicTemplate.id == template_id
        )
    )


def fetch_patient_by_chart(clinic_id: int, chart_number: str) -> Patient | None:
    """The clinic's patient with this chart number."""
    return db.session.scalar(
        sa.select(Patient).where(
            Patient.clinic_id == clinic_id, Patient.chart_number == chart_number
        )
    )


def fetch_plans_by_ids(clinic_id: int, plan_ids: list[int]) -> list[Plan]:
    """The clinic's plans with these ids (others silently absent), ready to print."""
    if not plan_ids:
        return []
    plans = db.session.scalars(
        sa.select(Plan)
        .where(Plan.clinic_id == clinic_id, Plan.id.in_(plan_ids))
        .options(joinedload(Plan.patient), joinedload(Plan.author), selectinload(Plan.items))
    ).all()
    order = {plan_id: n for n, plan_id in enumerate(plan_ids)}
    return sorted(plans, key=lambda p: order[p.id])


def fetch_current_plans(clinic_id: int, *, search: str = "", limit: int = 100) -> list[Plan]:
    """Issued plans of active patients, by patient name, for batch printing."""
    stmt = (
        sa.select(Plan)
        .join(Plan.patient)
        .where(
            Plan.clinic_id == clinic_id,
            Plan.status == PlanStatus.ISSUED.value,
            Patient.archived_at.is_(None),
        )
        # the patient is already joined for the filter and sort; a joinedload would join it twice
        .options(contains_eager(Plan.patient))
        .order_by(Patient.family_name, Patient.given_name, Plan.id)
        .limit(limit)
    )
    stmt = stmt.where(*patient_search(search))
    return list(db.session.scalars(stmt))


def fetch_logs(
    clinic_id: int, plan_id: int, first: date | None = None, last: date | None = None
) -> list[LogEntry]:
    """A plan's logged days, by date (optionally within a date range)."""
    # Scoped through the plan, not log_entry.clinic_id: given that column, SQLite (which keeps
    # no statistics unless ANALYZE runs) walks every log of the clinic by ix_log_clinic_day
    # instead of this plan's few by uq_log_plan_day: 150 ms instead of 0.1 ms at 10,000 patients.
    stmt = (
        sa.select(LogEntry)
        .join(Plan, Plan.id == LogEntry.plan_id)
        .where(LogEntry.plan_id == plan_id, Plan.clinic_id == clinic_id)
    )
    if first is not None:
        stmt = stmt.where(LogEntry.day >= first)
    if last is not None:
        stmt = stmt.where(LogEntry.day <= last)
    return list(db.session.scalars(stmt.order_by(LogEntry.day)))


def fetch_plans_ending(clinic_id: int, first: date, last: date, limit: int = 20) -> list[Plan]:
    """Issued plans whose last day falls between two dates, soonest first."""
    return list(
        db.session.scalars(
            sa.select(Plan)
            .where(
                Plan.clinic_id == clinic_id,
                Plan.status == PlanStatus.ISSUED.value,
                Plan.end_date.between(first, last),
            )
            .options(joinedload(Plan.patient))
            .order_by(Plan.end_date, Plan.id)
            .limit(limit)
        )
    )


def fetch_drafts(clinic_id: int, author_id: int, limit: int = 20) -> list[Plan]:
    """Drafts this clinician started and has not issued, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Plan)
            .where(
                Plan.clinic_id == clinic_id,
                Plan.author_id == author_id,
                Plan.status == PlanStatus.DRAFT.value,
            )
            .options(joinedload(Plan.patient))
            .order_by(Plan.created_at, Plan.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class LowAdherence:
    plan: Plan
    done: int
    prescribed: int

    @property
    def adherence(self) -> float:
        return self.done / self.prescribed if self.prescribed else 0.0


def fetch_low_adherence(
    clinic_id: int, first: date, last: date, below: float = 0.5, limit: int = 20
) -> list[LowAdherence]:
    """Issued plans whose logged days in a date range reached under `below` of the sessions."""
    done = sa.func.sum(LogEntry.sessions_done)
    prescribed = sa.func.sum(LogEntry.sessions_prescribed)
    totals = (
        sa.select(LogEntry.plan_id, done.label("done"), prescribed.label("prescribed"))
        .where(LogEntry.clinic_id == clinic_id, LogEntry.day.between(first, last))
        .group_by(LogEntry.plan_id)
        .having(done < prescribed * below)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Plan, totals.c.done, totals.c.prescribed)
        .join(totals, totals.c.plan_id == Plan.id)
        .where(Plan.clinic_id == clinic_id, Plan.status == PlanStatus.ISSUED.value)
        .options(joinedload(Plan.patient))
        .order_by((totals.c.done * 1.0 / totals.c.prescribed), Plan.id)
        .limit(limit)
    ).all()
    return [LowAdherence(plan, int(d), int(p)) for plan, d, p in rows]


def fetch_audit_events(
    clinic_id: int,
    *,
    action: str = "",
    actor: str = "",
    first: date | None = None,
    last: date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """The clinic's audit trail, newest first, filtered."""
    stmt = sa.select(AuditEvent).where(AuditEvent.clinic_id == clinic_id)
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
    if actor:
        stmt = stmt.where(AuditEvent.actor.ilike(f"%{_escape_like(actor)}%", escape="\\"))
    if first is not None:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(first, datetime.min.time()))
    if last is not None:
        stmt = stmt.where(
            AuditEvent.at < datetime.combine(last, datetime.min.time()) + timedelta(days=1)
        )
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()
    page = max(1, min(page, max(1, -(-total // per_page))))
    items = list(
        db.session.scalars(
            stmt.order_by(AuditEvent.id.desc()).limit(per_page).offset((page - 1) * per_page)
        )
    )
    return Page(items=items, page=page, per_page=per_page, total=total)


# --- exports: whole records, and CSV rows a page at a time --------------------------------

#: One page of CSV rows, and the key to ask for the next page with (None: that was the last).
RowPage = tuple[list[sa.Row[Any]], int | None]


def fetch_record_plans(clinic_id: int, patient_id: int) -> list[Plan]:
    """A patient's plans, oldest first, with items, acknowledgements and authors loaded."""
    return list(
        db.session.scalars(
            sa.select(Plan)
            .where(Plan.clinic_id == clinic_id, Plan.patient_id == patient_id)
            .options(
                joinedload(Plan.author),
                selectinload(Plan.items),
                selectinload(Plan.acknowledgements).joinedload(WarningAck.acknowledged_by),
            )
            .order_by(Plan.id)
        )
    )


def fetch_record_logs(clinic_id: int, patient_id: int) -> list[LogEntry]:
    """Every logged day of a patient's plans, by plan and day."""
    return list(
        db.session.scalars(
            sa.select(LogEntry)
            .join(Plan, Plan.id == LogEntry.plan_id)
            .where(
                LogEntry.clinic_id == clinic_id,
                Plan.clinic_id == clinic_id,
                Plan.patient_id == patient_id,
            )
            .order_by(LogEntry.plan_id, LogEntry.day)
        )
    )


def fetch_staff_names(clinic_id: int) -> dict[int, str]:
    """The names of the clinic's accounts (active or not), by id."""
    rows = db.session.execute(sa.select(User.id, User.name).where(User.clinic_id == clinic_id))
    return {row.id: row.name for row in rows}


def _plan_ids_after(clinic_id: int, after: int, limit: int) -> sa.Subquery:
    return (
        sa.select(Plan.id)
        .where(Plan.clinic_id == clinic_id, Plan.id > after)
        .order_by(Plan.id)
        .limit(limit)
        .subquery()
    )


def _next_key(clinic_id: int, after: int, limit: int) -> int | None:
    """The last plan id of this page of plans, or None when there are no plans after `after`."""
    ids = _plan_ids_after(clinic_id, after, limit)
    return db.session.execute(sa.select(sa.func.max(ids.c.id))).scalar()


def fetch_plan_rows(clinic_id: int, after: int = 0, limit: int = 2000) -> RowPage:
    """A page of the clinic's plans for the CSV, with patient and author, by plan id."""
    issuer = aliased(User)
    rows = list(
        db.session.execute(
            sa.select(
                Plan.id.label("plan_id"),
                Patient.id.label("patient_id"),
                Patient.chart_number,
                Patient.given_name,
                Patient.family_name,
                Plan.title,
                Plan.template_code,
                Plan.approach,
                Plan.status,
                Plan.status_reason,
                Plan.revision,
                Plan.revises_id,
                Plan.start_date,
                Plan.end_date,
                User.name.label("author"),
                Plan.issued_at,
                issuer.name.label("issued_by"),
                Plan.closed_at,
                Plan.created_at,
                Plan.updated_at,
            )
            .join(Patient, Patient.id == Plan.patient_id)
            .join(User, User.id == Plan.author_id)
            .outerjoin(issuer, issuer.id == Plan.issued_by_id)
            .where(Plan.clinic_id == clinic_id, Plan.id > after)
            .order_by(Plan.id)
            .limit(limit)
        )
    )
    return rows, (rows[-1].plan_id if len(rows) == limit else None)


def fetch_item_rows(clinic_id: int, after: int = 0, limit: int = 500) -> RowPage:
    """The items of the next `limit` plans (by plan id), in week and order."""
    next_key = _next_key(clinic_id, after, limit)
    if next_key is None:
        return [], None
    rows = list(
        db.session.execute(
            sa.select(
                PlanItem.plan_id,
                Patient.chart_number,
                Plan.status.label("plan_status"),
                PlanItem.week,
                PlanItem.seq,
                PlanItem.exercise_code,
                PlanItem.position,
                PlanItem.hold_s,
                PlanItem.rest_s,
                PlanItem.reps,
                PlanItem.sets,
                PlanItem.sessions_per_day,
                PlanItem.effort_pct,
                PlanItem.note,
            )
            .join(Plan, Plan.id == PlanItem.plan_id)
            .join(Patient, Patient.id == Plan.patient_id)
            .where(Plan.clinic_id == clinic_id, Plan.id > after, Plan.id <= next_key)
            .order_by(PlanItem.plan_id, PlanItem.week, PlanItem.seq, PlanItem.id)
        )
    )
    return rows, next_key


def fetch_log_rows(clinic_id: int, after: int = 0, limit: int = 500) -> RowPage:
    """The logged days of the next `limit` plans (by plan id), by day."""
    next_key = _next_key(clinic_id, after, limit)
    if next_key is None:
        return [], None
    rows = list(
        db.session.execute(
            sa.select(
                LogEntry.plan_id,
                Patient.chart_number,
                LogEntry.day,
                LogEntry.sessions_done,
                LogEntry.sessions_prescribed,
                LogEntry.longest_hold_s,
                LogEntry.leaks,
                LogEntry.leak_trigger,
                LogEntry.urgency,
                LogEntry.pain,
                LogEntry.note,
                User.name.label("entered_by"),
                LogEntry.created_at,
                LogEntry.updated_at,
            )
            .join(Plan, Plan.id == LogEntry.plan_id)
            .join(Patient, Patient.id == Plan.patient_id)
            .join(User, User.id == LogEntry.entered_by_id)
            .where(
                LogEntry.clinic_id == clinic_id,
                Plan.clinic_id == clinic_id,
                Plan.id > after,
                Plan.id <= next_key,
            )
            .order_by(LogEntry.plan_id, LogEntry.day)
        )
    )
    return rows, next_key
