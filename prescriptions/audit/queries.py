"""Reads of the audit trail, scoped to a clinic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from ..database import paginate
from ..extensions import db
from ..models import AuditEvent, User
from ..patients.queries import _escape_like


def fetch_audit_events(
    clinic_id: int,
    *,
    action: str = "",
    actor: str = "",
    first: date | None = None,
    last: date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Pagination:
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
    return paginate(stmt.order_by(AuditEvent.id.desc()), page, per_page)


@dataclass(frozen=True)
class LastWrite:
    """Who last wrote a record, and when (from the audit trail)."""

    user_id: int | None
    name: str
    at: datetime


def fetch_last_write(
    clinic_id: int, record_type: str, record_id: int, actions: tuple[str, ...]
) -> LastWrite | None:
    """The newest of these audited writes to one record of the clinic."""
    row = db.session.execute(
        sa.select(AuditEvent.user_id, AuditEvent.actor, AuditEvent.at, User.name)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(
            AuditEvent.clinic_id == clinic_id,
            AuditEvent.record_type == record_type,
            AuditEvent.record_id == record_id,
            AuditEvent.action.in_(actions),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return LastWrite(row.user_id, row.name or row.actor, row.at)


def fetch_write_details(
    clinic_id: int, record_type: str, record_id: int, action: str, limit: int
) -> list[str]:
    """The details of the newest `limit` audited writes of one kind to one record."""
    if limit <= 0:
        return []
    return list(
        db.session.scalars(
            sa.select(AuditEvent.detail)
            .where(
                AuditEvent.clinic_id == clinic_id,
                AuditEvent.record_type == record_type,
                AuditEvent.record_id == record_id,
                AuditEvent.action == action,
            )
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
