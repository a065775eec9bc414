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
    # Summed per lineage first, from ix_log_clinic_lineage_sums alone (an index-only pass over
    # the clinic's days), then joined to the few thousand lineages: 60 ms at 10,000 patients
    # on SQLite, where joining first walked every day through the table.
    lineages = (
        sa.select(
            LogEntry.lineage_id.label("lineage_id"),
            sa.func.sum(LogEntry.sessions_done).label("done"),
            sa.func.sum(LogEntry.sessions_prescribed).label("prescribed"),
            sa.func.coalesce(sa.func.sum(LogEntry.leaks), 0).label("leaks"),
            sa.func.count(LogEntry.leaks).label("leak_days"),
        )
        .where(LogEntry.clinic_id == clinic_id)
        .group_by(LogEntry.lineage_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            Plan.programme_id,
            Plan.block_number,
            sa.func.sum(lineages.c.done),
            sa.func.sum(lineages.c.prescribed),
            sa.func.sum(lineages.c.leaks),
            sa.func.sum(lineages.c.leak_days),
        )
        .select_from(lineages)
        .join(Plan, Plan.id == lineages.c.lineage_id)  # a lineage's first plan carries its days
        .join(Programme, Programme.id == Plan.programme_id)
        .where(*_cohort(clinic_id, first, last, template), Plan.clinic_id == clinic_id)
        .group_by(Plan.programme_id, Plan.block_number)
    ).all()
    return [BlockSums(int(p), int(b), int(d or 0), int(s or 0), int(lk or 0), int(n or 0))
            for p, b, d, s, lk, n in rows]  # fmt: skip


def fetch_iciq_pairs(
    clinic_id: int, first: date, last: date, template: str
) -> dict[int, tuple[float, float]]:
    """Programme -> (baseline, latest) ICIQ-UI SF total (see domain.outcomes.iciq_pair)."""
    # Two plain reads merged here: joining assessments to programmes made SQLite walk the
    # clinic's assessments once per programme (30 s at 10,000 patients), and one probe per
    # programme still cost 200 ms.
    programmes = db.session.execute(
        sa.select(
            Programme.id, Programme.patient_id, Programme.started_on, Programme.ended_on
        ).where(*_cohort(clinic_id, first, last, template))
    ).all()
    scores: dict[int, list[tuple[date, int, int]]] = {}
    for patient_id, day, assessment_id, total in db.session.execute(
        sa.select(
            Assessment.patient_id, Assessment.assessed_on, Assessment.id, Assessment.iciq_total
        )
        .where(
            Assessment.clinic_id == clinic_id,
            Assessment.iciq_total.is_not(None),
            Assessment.voided_at.is_(None),
        )
        .order_by(Assessment.patient_id, Assessment.assessed_on, Assessment.id)
    ):
        scores.setdefault(patient_id, []).append((day, assessment_id, total))
    pairs = {}
    for programme_id, patient_id, started, ended in programmes:
        pair = iciq_pair(started, ended, scores.get(patient_id, ()))
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
