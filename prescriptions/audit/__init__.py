"""The HMAC-chained, append-only audit trail (SECURITY.md, Records and durability)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import AuditEvent, User, utcnow

GENESIS = "0" * 64


def _digest(key: bytes, prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(
        [
            prev_hash,
            event.at.isoformat(timespec="microseconds"),
            event.clinic_id,
            event.user_id,
            event.actor,
            event.action,
            event.record_type,
            event.record_id,
            event.ip,
            event.detail,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _lock_chain() -> None:
    """Serialise appends so two writers never chain to the same row."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Transaction-scoped; released at commit or rollback.
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(7734001)"))
    # SQLite: write transactions begin IMMEDIATE (see database.py), so writers are serial already.


def append_event(
    key: bytes,
    *,
    action: str,
    clinic_id: int | None = None,
    user_id: int | None = None,
    actor: str = "",
    record_type: str = "",
    record_id: int | None = None,
    ip: str = "",
    detail: str = "",
    at: datetime | None = None,
) -> AuditEvent:
    """Append one chained row to the session; it commits with the write it records."""
    _lock_chain()
    last = db.session.execute(
        sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar()
    event = AuditEvent(
        at=at or utcnow(),
        clinic_id=clinic_id,
        user_id=user_id,
        actor=actor[:254],
        action=action,
        record_type=record_type,
        record_id=record_id,
        ip=ip[:64],
        detail=detail,
        prev_hash=last or GENESIS,
    )
    event.hash = _digest(key, event.prev_hash, event)
    db.session.add(event)
    db.session.flush()
    return event


@dataclass(frozen=True)
class BrokenLink:
    event_id: int
    reason: str


def _events_in_order(batch: int = 2000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        stmt = sa.select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)
        rows = db.session.scalars(stmt.limit(batch)).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def verify_chain(key: bytes) -> BrokenLink | None:
    """The first row whose link or content does not check out, or None when all is intact."""
    prev = GENESIS
    for event in _events_in_order():
        if event.prev_hash != prev:
            return BrokenLink(event.id, "does not link to the row before it (a row was removed)")
        if not hmac.compare_digest(event.hash, _digest(key, prev, event)):
            return BrokenLink(event.id, "its content does not match its signature (it was edited)")
        prev = event.hash
    return None


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where, for the audit trail."""

    user: User | None
    ip: str = ""

    @property
    def clinic_id(self) -> int | None:
        return self.user.clinic_id if self.user else None

    @property
    def label(self) -> str:
        return self.user.email if self.user else "system"


SYSTEM = Actor(None, "cli")


def acting_user(by: Actor) -> User:
    """The signed-in user behind an action that must be attributed to a person."""
    if by.user is None:
        raise PermissionError("This change must be made by a signed-in user.")
    return by.user


def audit_key() -> bytes:
    """The HMAC key of the audit chain (FLOORPLAN_AUDIT_KEY, else derived from the secret key)."""
    configured = current_app.config.get("AUDIT_KEY")
    if configured:
        return str(configured).encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"floorplan-audit-chain", hashlib.sha256).digest()


def record_event(
    by: Actor,
    action: str,
    record: Any = None,
    detail: str = "",
    *,
    clinic_id: int | None = None,
    actor: str | None = None,
) -> None:
    """Append an audit row for an action on a record (a model instance or None)."""
    append_event(
        audit_key(),
        action=action,
        clinic_id=clinic_id if clinic_id is not None else by.clinic_id,
        user_id=by.user.id if by.user else None,
        actor=actor if actor is not None else by.label,
        record_type=getattr(record, "__tablename__", ""),
        record_id=getattr(record, "id", None),
        ip=by.ip,
        detail=detail,
    )
