"""Reads of patients, always scoped to a clinic."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from ..database import paginate
from ..extensions import db
from ..models import Patient, chart_key

#: Sort keys a patient list accepts (allow-list; never a raw column name from the request).
PATIENT_SORTS: dict[str, tuple[Any, ...]] = {
    "name": (Patient.family_name, Patient.given_name, Patient.id),
    "chart": (Patient.chart_number, Patient.id),
    "recent": (Patient.created_at.desc(), Patient.id.desc()),
}


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
) -> Pagination:
    """A page of the clinic's patients, searched by name or chart number."""
    stmt = sa.select(Patient).where(Patient.clinic_id == clinic_id)
    stmt = stmt.where(
        Patient.archived_at.is_not(None) if archived else Patient.archived_at.is_(None)
    )
    stmt = stmt.where(*patient_search(search))
    order = PATIENT_SORTS.get(sort, PATIENT_SORTS["name"])
    return paginate(stmt.order_by(*order), page, per_page)


def fetch_patient(clinic_id: int, patient_id: int) -> Patient | None:
    """One patient of the clinic (archived ones included)."""
    return db.session.scalar(
        sa.select(Patient).where(Patient.clinic_id == clinic_id, Patient.id == patient_id)
    )


def chart_number_taken(clinic_id: int, chart_number: str, *, except_id: int | None = None) -> bool:
    """Whether another patient of the clinic has this chart number (in any case or spacing)."""
    stmt = sa.select(Patient.id).where(
        Patient.clinic_id == clinic_id, Patient.chart_key == chart_key(chart_number)
    )
    if except_id is not None:
        stmt = stmt.where(Patient.id != except_id)
    return db.session.execute(stmt.limit(1)).first() is not None


def fetch_patient_by_chart(clinic_id: int, chart_number: str) -> Patient | None:
    """The clinic's patient with this chart number (in any case or spacing)."""
    return db.session.scalar(
        sa.select(Patient).where(
            Patient.clinic_id == clinic_id, Patient.chart_key == chart_key(chart_number)
        )
    )


def fetch_patient_names(clinic_id: int, patient_ids: set[int]) -> dict[int, str]:
    """The clinic's patients with these ids, as "Given Family (chart)"; others absent."""
    if not patient_ids:
        return {}
    rows = db.session.execute(
        sa.select(Patient.id, Patient.given_name, Patient.family_name, Patient.chart_number).where(
            Patient.clinic_id == clinic_id, Patient.id.in_(patient_ids)
        )
    )
    return {r.id: f"{r.given_name} {r.family_name} ({r.chart_number})" for r in rows}
