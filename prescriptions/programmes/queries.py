"""Reads of programmes and their blocks' logged days, always scoped to a clinic."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..domain.outcomes import BlockSums, iciq_pair
from ..extensions import db
from ..models import Assessment, LogEntry, Plan, Programme


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


def _cohort(clinic_id: int, first: date, last: date, template: str) -> list[sa.ColumnElement]:
    """The programmes of the clinic started in [first, last], of one template or any."""
    where = [Programme.clinic_id == clinic_id, Programme.started_on.between(first, last)]
    if template:
        where.append(Programme.template_code == template)
    return where


def fetch_status_counts(clinic_id: int, first: date, last: date, template: str) -> dict[str, int]:
    """How many programmes started in the period are running, finished or stopped."""
    rows = db.session.execute(
        sa.select(Programme.status, sa.func.count())
        .where(*_cohort(clinic_id, first, last, template))
        .group_by(Programme.status)
    ).all()
    return {status: int(n) for status, n in rows}


def fetch_block_sums(clinic_id: int, first: date, last: date, template: str) -> list[BlockSums]:
    """Per programme and block of the period: sessions done and prescribed, leaks and the days
    they were recorded on, summed over the block's logged days (every revision's)."""
    leak_days = sa.func.count(LogEntry.leaks)
    rows = db.session.execute(
        sa.select(
            Plan.programme_id,
            Plan.block_number,
            sa.func.sum(LogEntry.sessions_done),
            sa.func.sum(LogEntry.sessions_prescribed),
            sa.func.coalesce(sa.func.sum(LogEntry.leaks), 0),
            leak_days,
        )
        .select_from(Programme)
        .join(Plan, Plan.programme_id == Programme.id)
        .join(LogEntry, LogEntry.lineage_id == Plan.id)  # a lineage's first plan carries its days
        .where(
            *_cohort(clinic_id, first, last, template),
            Plan.clinic_id == clinic_id,
            LogEntry.clinic_id == clinic_id,
        )
        .group_by(Plan.programme_id, Plan.block_number)
    ).all()
    return [BlockSums(int(p), int(b), int(d or 0), int(s or 0), int(lk), int(n))
            for p, b, d, s, lk, n in rows]  # fmt: skip


def fetch_iciq_pairs(
    clinic_id: int, first: date, last: date, template: str
) -> dict[int, tuple[float, float]]:
    """Programme -> (baseline, latest) ICIQ-UI SF total, from the patient's assessments."""
    rows = db.session.execute(
        sa.select(
            Programme.id,
            Programme.started_on,
            Programme.ended_on,
            Assessment.assessed_on,
            Assessment.iciq_total,
        )
        .join(
            Assessment,
            sa.and_(
                Assessment.patient_id == Programme.patient_id,
                Assessment.clinic_id == clinic_id,
                Assessment.iciq_total.is_not(None),
                Assessment.voided_at.is_(None),
            ),
        )
        .where(*_cohort(clinic_id, first, last, template))
    ).all()
    scores: dict[int, tuple[date, date | None, list[tuple[date, int]]]] = {}
    for programme_id, started, ended, assessed, total in rows:
        scores.setdefault(programme_id, (started, ended, []))[2].append((assessed, total))
    pairs = {}
    for programme_id, (started, ended, found) in scores.items():
        pair = iciq_pair(started, ended, found)
        if pair is not None:
            pairs[programme_id] = pair
    return pairs


def fetch_programme_templates(clinic_id: int) -> list[str]:
    """The template codes the clinic's programmes started from."""
    return list(
        db.session.scalars(
            sa.select(Programme.template_code)
            .where(Programme.clinic_id == clinic_id)
            .distinct()
            .order_by(Programme.template_code)
        )
    )
