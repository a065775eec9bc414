"""Reads of plans, their items and clinic templates, always scoped to a clinic."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from ..database import RowPage
from ..domain.progression import DOSE_FIELDS
from ..domain.vocab import PlanStatus
from ..extensions import db
from ..models import ClinicTemplate, Patient, Plan, PlanItem, User, WarningAck
from ..patients.queries import patient_search


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
        joinedload(Plan.programme),
        joinedload(Plan.acknowledgements).joinedload(WarningAck.acknowledged_by),
        selectinload(Plan.items),
    )
    return db.session.execute(stmt).unique().scalar_one_or_none()


def _patient_plans(clinic_id: int, patient_id: int) -> sa.Select[tuple[Plan]]:
    """Every plan and revision of one patient of the clinic; each read loads and orders them."""
    return sa.select(Plan).where(Plan.clinic_id == clinic_id, Plan.patient_id == patient_id)


def fetch_patient_plans(clinic_id: int, patient_id: int) -> list[Plan]:
    """Every plan and revision of a patient, newest first, with their authors."""
    stmt = _patient_plans(clinic_id, patient_id).options(joinedload(Plan.author))
    return list(db.session.scalars(stmt.order_by(Plan.created_at.desc(), Plan.id.desc())))


def fetch_lineage_plans(clinic_id: int, patient_id: int) -> list[Plan]:
    """A patient's plans with items loaded (for revision history)."""
    stmt = _patient_plans(clinic_id, patient_id).options(
        selectinload(Plan.items), joinedload(Plan.author)
    )
    return list(db.session.scalars(stmt.order_by(Plan.id)))


def fetch_current_revision(clinic_id: int, plan: Plan) -> Plan:
    """The newest revision of a plan's lineage that is not a draft (the plan itself if none)."""
    key = plan.lineage_key
    current = db.session.scalar(
        sa.select(Plan)
        .where(
            Plan.clinic_id == clinic_id,
            sa.or_(Plan.id == key, Plan.lineage_id == key),
            Plan.status != PlanStatus.DRAFT.value,
        )
        .order_by(Plan.revision.desc(), Plan.id.desc())
        .limit(1)
    )
    return current or plan


def fetch_draft_revision(clinic_id: int, plan_id: int) -> Plan | None:
    """The open draft revising a plan, if there is one."""
    return db.session.scalar(
        sa.select(Plan).where(
            Plan.clinic_id == clinic_id,
            Plan.revises_id == plan_id,
            Plan.status == PlanStatus.DRAFT.value,
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


def fetch_record_plans(clinic_id: int, patient_id: int) -> list[Plan]:
    """A patient's plans, oldest first, with items, acknowledgements and authors loaded."""
    stmt = _patient_plans(clinic_id, patient_id).options(
        joinedload(Plan.author),
        selectinload(Plan.items),
        selectinload(Plan.acknowledgements).joinedload(WarningAck.acknowledged_by),
    )
    return list(db.session.scalars(stmt.order_by(Plan.id)))


def plan_ids_after(clinic_id: int, after: int, limit: int) -> sa.Subquery:
    return (
        sa.select(Plan.id)
        .where(Plan.clinic_id == clinic_id, Plan.id > after)
        .order_by(Plan.id)
        .limit(limit)
        .subquery()
    )


def fetch_plan_page(clinic_id: int, after: int, limit: int, rows: sa.Select) -> RowPage:
    """Keyset paging by plan: the rows of `rows` (a select joining Plan) that belong to the
    clinic's next `limit` plans after plan id `after`, and the last plan id of that page."""
    ids = plan_ids_after(clinic_id, after, limit)
    next_key = db.session.execute(sa.select(sa.func.max(ids.c.id))).scalar()
    if next_key is None:
        return [], None
    page = rows.where(Plan.clinic_id == clinic_id, Plan.id > after, Plan.id <= next_key)
    return list(db.session.execute(page)), next_key


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
    rows = (
        sa.select(
            PlanItem.plan_id,
            Patient.chart_number,
            Plan.status.label("plan_status"),
            PlanItem.week,
            PlanItem.seq,
            PlanItem.exercise_code,
            *(getattr(PlanItem, name) for name in DOSE_FIELDS),
        )
        .join(Plan, Plan.id == PlanItem.plan_id)
        .join(Patient, Patient.id == Plan.patient_id)
        .order_by(PlanItem.plan_id, PlanItem.week, PlanItem.seq, PlanItem.id)
    )
    return fetch_plan_page(clinic_id, after, limit, rows)


def fetch_plan_labels(clinic_id: int, plan_ids: set[int]) -> dict[int, str]:
    """The clinic's plans with these ids, as "Title, revision n, for Given Family"."""
    if not plan_ids:
        return {}
    rows = db.session.execute(
        sa.select(Plan.id, Plan.title, Plan.revision, Patient.given_name, Patient.family_name)
        .join(Patient, Patient.id == Plan.patient_id)
        .where(Plan.clinic_id == clinic_id, Plan.id.in_(plan_ids))
    )
    return {
        r.id: f"{r.title}, revision {r.revision}, for {r.given_name} {r.family_name}" for r in rows
    }
