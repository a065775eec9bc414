"""Reads of the audit trail, scoped to a clinic."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from ..database import paginate
from ..models import AuditEvent
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
