"""Reads for exports, always scoped to a clinic; the CSV reads come a page at a time.

They sit beside the exports views rather than in queries.py only to keep this feature in one
place; each is a plain `fetch_...` read like those in queries.py.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload, selectinload

from ..extensions import db
from ..models import LogEntry, Patient, Plan, PlanItem, User, WarningAck

#: One page of CSV rows, and the key to ask for the next page with (None: that was the last).
Page = tuple[list[sa.Row[Any]], int | None]


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


def fetch_plan_rows(clinic_id: int, after: int = 0, limit: int = 2000) -> Page:
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


def fetch_item_rows(clinic_id: int, after: int = 0, limit: int = 500) -> Page:
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


def fetch_log_rows(clinic_id: int, after: int = 0, limit: int = 500) -> Page:
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
