"""Reads of programmes and their blocks' logged days, always scoped to a clinic."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import LogEntry, Plan, Programme


def fetch_programme(clinic_id: int, programme_id: int) -> Programme | None:
    """One programme of the clinic, with its patient."""
    return db.session.scalar(
        sa.select(Programme)
        .where(Programme.id == programme_id, Programme.clinic_id == clinic_id)
        .options(joinedload(Programme.patient))
    )


def fetch_patient_programmes(clinic_id: int, patient_id: int) -> list[Programme]:
    """A patient's programmes, newest first."""
    return list(
        db.session.scalars(
            sa.select(Programme)
            .where(Programme.clinic_id == clinic_id, Programme.patient_id == patient_id)
            .order_by(Programme.started_on.desc(), Programme.id.desc())
        )
    )


def fetch_lineage_log_sums(clinic_id: int, patient_id: int) -> dict[int, tuple[int, int, int]]:
    """Lineage key -> (days logged, sessions done, sessions prescribed) of a patient's plans."""
    rows = db.session.execute(
        sa.select(
            LogEntry.lineage_id,
            sa.func.count(),
            sa.func.sum(LogEntry.sessions_done),
            sa.func.sum(LogEntry.sessions_prescribed),
        )
        .join(Plan, Plan.id == LogEntry.lineage_id)
        .where(Plan.clinic_id == clinic_id, Plan.patient_id == patient_id)
        .group_by(LogEntry.lineage_id)
    ).all()
    return {key: (int(n), int(d or 0), int(p or 0)) for key, n, d, p in rows}


def fetch_block_plans(clinic_id: int, programme_id: int) -> list[Plan]:
    """Every plan (all revisions) of a programme, oldest first, with items."""
    return list(
        db.session.scalars(
            sa.select(Plan)
            .where(Plan.clinic_id == clinic_id, Plan.programme_id == programme_id)
            .options(selectinload(Plan.items))
            .order_by(Plan.block_number, Plan.id)
        )
    )
