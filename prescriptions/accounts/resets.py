"""Password reset links: made by an administrator, e-mailed, or from the command line.

A link carries 256 random bits; only their SHA-256 is stored, so the table cannot be turned back
into working links. A link works once, for RESET_LINK_LIFETIME, and a newer link (or any new
password) voids the older ones.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from ..audit import Actor, record_event
from ..extensions import db
from ..models import PasswordReset, User, utcnow


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def void_reset_links(user: User) -> None:
    """End every open reset link of the user."""
    db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def make_reset_link(user: User, via: str, by: Actor, lifetime: timedelta) -> str:
    """A new single-use token for the user (older links are void); audited as reset made."""
    void_reset_links(user)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    reset = PasswordReset(
        clinic_id=user.clinic_id,
        user_id=user.id,
        token_hash=_hash(token),
        via=via,
        created_by_id=by.user.id if by.user else None,
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(reset)
    db.session.flush()
    detail = f"for {user.email}, {'handed over by an administrator' if via == 'admin' else via}"
    actor = by.label if by.user or via == "cli" else user.email
    record_event(by, "auth.reset_made", user, detail, clinic_id=user.clinic_id, actor=actor)
    return token


def fetch_live_reset(token: str) -> PasswordReset | None:
    """The open, unexpired reset link with this token, or None (unknown, used, void, expired)."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        sa.select(PasswordReset).where(
            PasswordReset.token_hash == _hash(token),
            PasswordReset.ended_at.is_(None),
            PasswordReset.expires_at > utcnow(),
        )
    )


def claim_reset(reset: PasswordReset) -> bool:
    """Mark the link used; False when a parallel request used it first (it works once)."""
    result = db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
