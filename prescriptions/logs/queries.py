"""Reads of returned logs and adherence, always scoped to a clinic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..database import RowPage
from ..domain.adherence import LOG_FIELDS
from ..domain.vocab import PlanStatus
from ..extensions import db
from ..models import LogEntry, Patient, Plan, User
from ..plans.queries import fetch_plan_page


def fetch_logs(
    clinic_id: int, plan_id: int, first: date | None = None, last: date | None = None
) -> list[LogEntry]:
    """The logged days of a plan's lineage (every revision's), by date."""
    # Scoped through the plan, not log_entry.clinic_id: given that column, SQLite (which keeps
    # no statistics unless ANALYZE runs) walks every log of the clinic by ix_log_clinic_day
    # instead of this lineage's few by uq_log_lineage_day: 150 ms instead of 0.1 ms at
    # 10,000 patients.
    stmt = (
        sa.select(LogEntry)
        .join(Plan, LogEntry.lineage_id == sa.func.coalesce(Plan.lineage_id, Plan.id))
        .where(Plan.id == plan_id, Plan.clinic_id == clinic_id)
    )
    if first is not None:
        stmt = stmt.where(LogEntry.day >= first)
    if last is not None:
        stmt = stmt.where(LogEntry.day <= last)
    return list(db.session.scalars(stmt.order_by(LogEntry.day)))


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
    """Issued plans whose lineage's logged days in a date range reached under `below`."""
    done = sa.func.sum(LogEntry.sessions_done)
    prescribed = sa.func.sum(LogEntry.sessions_prescribed)
    totals = (
        sa.select(LogEntry.lineage_id, done.label("done"), prescribed.label("prescribed"))
        .where(LogEntry.clinic_id == clinic_id, LogEntry.day.between(first, last))
        .group_by(LogEntry.lineage_id)
        .having(done < prescribed * below)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Plan, totals.c.done, totals.c.prescribed)
        .join(totals, totals.c.lineage_id == sa.func.coalesce(Plan.lineage_id, Plan.id))
        .where(Plan.clinic_id == clinic_id, Plan.status == PlanStatus.ISSUED.value)
        .options(joinedload(Plan.patient))
        .order_by((totals.c.done * 1.0 / totals.c.prescribed), Plan.id)
        .limit(limit)
    ).all()
    return [LowAdherence(plan, int(d), int(p)) for plan, d, p in rows]


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


def fetch_patient_logs(clinic_id: int, patient_id: int) -> list[LogEntry]:
    """Every logged day of a patient's lineages (each day once), by lineage and day."""
    # Through the lineage's first plan (ix_plan_patient, then uq_log_lineage_day), never by
    # log_entry.clinic_id: SQLite would walk every log of the clinic (2 s at 10,000 patients).
    return list(
        db.session.scalars(
            sa.select(LogEntry)
            .join(Plan, LogEntry.lineage_id == Plan.id)
            .where(Plan.clinic_id == clinic_id, Plan.patient_id == patient_id)
            .order_by(LogEntry.lineage_id, LogEntry.day)
        )
    )


def fetch_log_rows(clinic_id: int, after: int = 0, limit: int = 500) -> RowPage:
    """The logged days of the next `limit` plans (by plan id), by day."""
    rows = (
        sa.select(
            LogEntry.plan_id,
            Patient.chart_number,
            LogEntry.day,
            LogEntry.sessions_prescribed,
            *(getattr(LogEntry, name) for name in LOG_FIELDS),
            # a day logged only from the patient's phone has no staff author yet
            sa.func.coalesce(User.name, "patient (phone)").label("entered_by"),
            LogEntry.created_at,
            LogEntry.updated_at,
        )
        .join(Plan, Plan.id == LogEntry.plan_id)
        .join(Patient, Patient.id == Plan.patient_id)
        .outerjoin(User, User.id == LogEntry.entered_by_id)
        .where(LogEntry.clinic_id == clinic_id)
        .order_by(LogEntry.plan_id, LogEntry.day)
    )
    return fetch_plan_page(clinic_id, after, limit, rows)
