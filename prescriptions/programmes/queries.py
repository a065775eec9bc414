"""Reads of programmes and their blocks' logged days, always scoped to a clinic."""

from __future__ import annotations

from collections import Counter
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..domain.outcomes import BlockAdherence, per_week
from ..extensions import db
from ..models import Assessment, LogEntry, Plan, Programme, ProgrammeBlockSums


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


def _cohort_sums(clinic_id: int, first: date, last: date, template: str) -> list[sa.ColumnElement]:
    """The block sums of the cohort's programmes, and of blocks with a day logged."""
    return [
        ProgrammeBlockSums.clinic_id == clinic_id,
        ProgrammeBlockSums.days > 0,
        *_cohort(clinic_id, first, last, template),
    ]


def fetch_block_adherence(
    clinic_id: int, first: date, last: date, template: str
) -> list[BlockAdherence]:
    """Per block number of the period's programmes: how many had sessions prescribed, and
    their sessions done and prescribed (every revision's logged days)."""
    sums = ProgrammeBlockSums
    prescribed = sums.sessions_prescribed != 0
    rows = db.session.execute(
        sa.select(
            sums.block_number,
            sa.func.count(sa.case((prescribed, 1))),
            sa.func.sum(sa.case((prescribed, sums.sessions_done))),
            sa.func.sum(sa.case((prescribed, sums.sessions_prescribed))),
        )
        .join(Programme, Programme.id == sums.programme_id)
        .where(*_cohort_sums(clinic_id, first, last, template))
        .group_by(sums.block_number)
        .order_by(sums.block_number)
    ).all()
    return [BlockAdherence(int(b), int(n), int(d or 0), int(p or 0)) for b, n, d, p in rows]


#: A block's place in its programme with its leak sums in one integer: block * 2**52 + leaks
#: * 2**21 + leak days (a day logs at most 50 leaks, so a block's days under 2**21 keep its
#: leaks under 2**27). The smallest key is the programme's first block with leaks logged.
_LEAKS_SHIFT, _BLOCK_SHIFT = 2**21, 2**52


def fetch_leak_pairs(
    clinic_id: int, first: date, last: date, template: str
) -> Counter[tuple[float, float]]:
    """How many of the period's programmes have each (first, last) leaks a week: their first
    block with leaks logged against their last, when those are two blocks."""
    sums = ProgrammeBlockSums
    key = (
        sa.cast(sums.block_number, sa.BigInteger) * _BLOCK_SHIFT
        + sa.cast(sums.leaks, sa.BigInteger) * _LEAKS_SHIFT
        + sums.leak_days
    )
    ends = (
        sa.select(sa.func.min(key).label("first"), sa.func.max(key).label("last"))
        .join(Programme, Programme.id == sums.programme_id)
        .where(*_cohort_sums(clinic_id, first, last, template), sums.leak_days != 0)
        .group_by(sums.programme_id)
        .having(sa.func.count() > 1)
        .subquery()
    )
    totals = sa.select(
        (ends.c.first % _BLOCK_SHIFT).label("first"), (ends.c.last % _BLOCK_SHIFT).label("last")
    ).subquery()
    rows = db.session.execute(
        sa.select(totals.c.first, totals.c.last, sa.func.count()).group_by(
            totals.c.first, totals.c.last
        )
    ).all()
    pairs: Counter[tuple[float, float]] = Counter()
    for start, end, n in rows:
        start_week = per_week(start // _LEAKS_SHIFT, start % _LEAKS_SHIFT) or 0.0
        pairs[(start_week, per_week(end // _LEAKS_SHIFT, end % _LEAKS_SHIFT) or 0.0)] += n
    return pairs


#: An ICIQ-UI SF score's place in a patient's order (day, then id) with its total in one
#: integer: day * 2**46 + id * 32 + total (a total is 0-21, under 32; ids under 2**41; days
#: since 1970 under 2**17, so the key stays under 2**63). The largest key is the latest score.
_ID_SHIFT, _DAY_SHIFT = 32, 2**46


def _score_key() -> sa.ColumnElement[int]:
    day = sa.cast(sa.extract("epoch", Assessment.assessed_on), sa.BigInteger) // 86400
    return (
        day * _DAY_SHIFT + sa.cast(Assessment.id, sa.BigInteger) * _ID_SHIFT + Assessment.iciq_total
    )


def fetch_iciq_pairs(
    clinic_id: int, first: date, last: date, template: str
) -> Counter[tuple[float, float]]:
    """How many of the period's programmes have each (baseline, latest) ICIQ-UI SF total (see
    domain.outcomes.iciq_pair), counted in the database.

    Per programme, the patient's scores up to its end give three keys (see _score_key): the
    latest on or before its start, the first and the latest after it. The baseline is the
    first of those that exists, the latest the third, when that is another assessment.
    """
    # Reading each programme's scores back to pair them here took 100 ms at 10,000 patients.
    # On SQLite the assessment's clinic is compared as `clinic_id + 0` so that (without
    # statistics) it cannot walk the clinic's assessments by ix_assessment_clinic_id once per
    # programme (54 s at 10,000 patients): it joins through ix_assessment_patient_date, from the
    # index alone. PostgreSQL keeps the plain column: `+ 0` hid its selectivity and turned a
    # hash join into 13,000 index probes (47 ms instead of 20).
    scoped = Assessment.clinic_id
    if db.session.get_bind().dialect.name == "sqlite":
        scoped = scoped + 0
    after = Assessment.assessed_on > Programme.started_on
    key = _score_key()
    per_programme = (
        sa.select(
            sa.func.max(sa.case((~after, key))).label("before"),
            sa.func.min(sa.case((after, key))).label("first"),
            sa.func.max(sa.case((after, key))).label("latest"),
        )
        .select_from(Programme)
        .join(Assessment, Assessment.patient_id == Programme.patient_id)
        .where(
            *_cohort(clinic_id, first, last, template),
            scoped == clinic_id,
            Assessment.iciq_total.is_not(None),
            Assessment.voided_at.is_(None),
            sa.or_(
                ~after, Programme.ended_on.is_(None), Assessment.assessed_on <= Programme.ended_on
            ),
        )
        .group_by(Programme.id)
        .subquery()
    )
    baseline = sa.func.coalesce(per_programme.c.before, per_programme.c.first)
    totals = (
        sa.select(
            (baseline % _ID_SHIFT).label("baseline"),
            (per_programme.c.latest % _ID_SHIFT).label("latest"),
        )
        .where(per_programme.c.latest.is_not(None), baseline != per_programme.c.latest)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(totals.c.baseline, totals.c.latest, sa.func.count()).group_by(
            totals.c.baseline, totals.c.latest
        )
    ).all()
    return Counter({(float(b), float(a)): int(n) for b, a, n in rows})


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
