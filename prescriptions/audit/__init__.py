"""The HMAC-chained, append-only audit trail (SECURITY.md, Records and durability)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..database import begin_write
from ..extensions import db
from ..models import AuditEvent, User, utcnow

GENESIS = "0" * 64


def _digest(key: bytes, prev_hash: str, event: Any) -> str:
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


def _in_chain(clinic_id: int | None) -> sa.ColumnElement[bool]:
    """The rows of one chain: a clinic's, or the system's (clinic_id NULL)."""
    if clinic_id is None:
        return AuditEvent.clinic_id.is_(None)
    return AuditEvent.clinic_id == clinic_id


def _lock_chain(clinic_id: int | None) -> None:
    """Serialise appends to one clinic's chain so two writers never chain to the same row."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # Transaction-scoped, one lock per chain: clinics never wait for each other. A wait
        # longer than the lock_timeout (database.py) fails the request instead of hanging.
        db.session.execute(
            sa.text("SELECT pg_advisory_xact_lock(7734001, :chain)"), {"chain": clinic_id or 0}
        )
    else:
        # SQLite has one writer at a time: take the write lock before reading the chain's end.
        begin_write(connection)


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
    """Append one row to its clinic's chain in the session; it commits with what it records."""
    _lock_chain(clinic_id)
    last = db.session.execute(
        sa.select(AuditEvent.hash)
        .where(_in_chain(clinic_id))
        .order_by(AuditEvent.id.desc())
        .limit(1)
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
    """Where a chain stops checking out, and why."""

    event_id: int | None
    reason: str
    clinic_id: int | None = None

    def describe(self) -> str:
        """One line naming the chain and the row."""
        where = f"event {self.event_id}" if self.event_id is not None else "its end"
        return f"{chain_name(self.clinic_id)} is broken at {where}: {self.reason}"


@dataclass(frozen=True)
class ChainHead:
    """A chain's newest row when a checkpoint was taken: how many rows, and the last hash."""

    clinic_id: int | None
    seq: int  #: rows in the chain up to and including this one
    event_id: int
    hash: str


def chain_name(clinic_id: int | None) -> str:
    """How a chain is named in messages."""
    return "the system audit chain" if clinic_id is None else f"clinic {clinic_id}'s audit chain"


_COLUMNS = [c for c in AuditEvent.__table__.columns]


def _chain_rows(clinic_id: int | None, batch: int) -> Iterator[sa.Row[Any]]:
    """A chain's rows in order, fetched in chunks of plain rows (nothing kept in the session)."""
    last_id = 0
    while True:
        stmt = (
            sa.select(*_COLUMNS)
            .where(_in_chain(clinic_id), AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(batch)
        )
        rows = db.session.execute(stmt).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def walk_chain(
    key: bytes,
    clinic_id: int | None,
    checkpoint: ChainHead | None = None,
    *,
    batch: int = 2000,
) -> tuple[BrokenLink | None, ChainHead | None]:
    """Check one chain row by row (and against a checkpoint); the first break and its head."""
    prev, seq, head = GENESIS, 0, None
    for event in _chain_rows(clinic_id, batch):
        if event.prev_hash != prev:
            reason = "does not link to the row before it (a row was removed)"
            return BrokenLink(event.id, reason, clinic_id), head
        if not hmac.compare_digest(event.hash, _digest(key, prev, event)):
            reason = "its content does not match its signature (it was edited, or the key differs)"
            return BrokenLink(event.id, reason, clinic_id), head
        prev, seq = event.hash, seq + 1
        head = ChainHead(clinic_id, seq, event.id, event.hash)
        if checkpoint is not None and seq == checkpoint.seq and event.hash != checkpoint.hash:
            reason = (
                f"row {seq} of the chain is not the one the checkpoint recorded "
                f"(event {checkpoint.event_id}): rows were replaced since"
            )
            return BrokenLink(event.id, reason, clinic_id), head
    if checkpoint is not None and seq < checkpoint.seq:
        reason = (
            f"the chain has {seq} rows but its checkpoint recorded {checkpoint.seq} "
            f"(up to event {checkpoint.event_id}): the newest rows were deleted"
        )
        return BrokenLink(None, reason, clinic_id), head
    return None, head


def _chain_order(clinic_id: int | None) -> tuple[bool, int]:
    return (clinic_id is not None, clinic_id or 0)


def chains() -> list[int | None]:
    """Every chain with rows: None (the system's) first, then clinics by id."""
    found = db.session.scalars(sa.select(AuditEvent.clinic_id).distinct()).all()
    return sorted(found, key=_chain_order)


def verify_chain(key: bytes, clinic_id: int | None) -> BrokenLink | None:
    """The first break in one clinic's chain (None: the system's), or None when intact."""
    return walk_chain(key, clinic_id)[0]


def verify_all(
    key: bytes, checkpoint: dict[int | None, ChainHead] | None = None
) -> tuple[BrokenLink | None, dict[int | None, ChainHead]]:
    """The first break in any chain (checked against a checkpoint if given), and the heads."""
    names = set(chains()) | set(checkpoint or {})
    heads: dict[int | None, ChainHead] = {}
    for name in sorted(names, key=_chain_order):
        broken, head = walk_chain(key, name, (checkpoint or {}).get(name))
        if broken is not None:
            return broken, heads
        if head is not None:
            heads[name] = head
    return None, heads


def take_checkpoint(connection: Any = None) -> dict[int | None, ChainHead]:
    """The head of every chain as a connection sees it (unverified: verify before trusting)."""
    run = (connection or db.session).execute
    counts = run(
        sa.select(AuditEvent.clinic_id, sa.func.count(), sa.func.max(AuditEvent.id)).group_by(
            AuditEvent.clinic_id
        )
    ).all()
    heads: dict[int | None, ChainHead] = {}
    for clinic, count, last_id in counts:
        last_hash = run(sa.select(AuditEvent.hash).where(AuditEvent.id == last_id)).scalar()
        heads[clinic] = ChainHead(clinic, count, last_id, last_hash or "")
    return heads


CHECKPOINT_FORMAT = "floorplan-audit-checkpoint"


def checkpoint_to_json(heads: dict[int | None, ChainHead], taken_at: str) -> dict[str, Any]:
    """A checkpoint as a JSON object (for a file, a backup header or the terminal)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "taken_at": taken_at,
        "chains": [
            {"clinic_id": h.clinic_id, "seq": h.seq, "event_id": h.event_id, "hash": h.hash}
            for h in sorted(
                heads.values(), key=lambda h: (h.clinic_id is not None, h.clinic_id or 0)
            )
        ],
    }


def checkpoint_from_json(value: Any) -> dict[int | None, ChainHead]:
    """Read a checkpoint back; ValueError when it is not one."""
    if not isinstance(value, dict) or value.get("format") != CHECKPOINT_FORMAT:
        raise ValueError("this is not a FloorPlan audit checkpoint")
    heads: dict[int | None, ChainHead] = {}
    for entry in value.get("chains", []):
        try:
            clinic = entry["clinic_id"]
            head = ChainHead(clinic, int(entry["seq"]), int(entry["event_id"]), str(entry["hash"]))
        except (KeyError, TypeError, ValueError):
            raise ValueError("the checkpoint is damaged") from None
        if clinic is not None and (isinstance(clinic, bool) or not isinstance(clinic, int)):
            raise ValueError("the checkpoint is damaged")
        heads[clinic] = head
    return heads


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


def record_update(by: Actor, action: str, record: Any, values: Mapping[str, Any]) -> None:
    """Set these fields on a record, flush, and audit the names of those whose value changed."""
    changed = sorted(k for k, v in values.items() if getattr(record, k) != v)
    for key, value in values.items():
        setattr(record, key, value)
    db.session.flush()
    record_event(by, action, record, ", ".join(changed))
