"""Writes and reads of a user's second factor: TOTP enrolment, one-use codes, recovery codes."""

from __future__ import annotations

import sqlalchemy as sa

from ..audit import Actor, record_event
from ..auth import totp
from ..extensions import db
from ..models import Clinic, RecoveryCode, User, utcnow


def start_enrolment(user: User) -> str:
    """Give the user a new secret to scan (not in use until confirmed with a code)."""
    user.totp_pending_secret = totp.new_secret()
    db.session.flush()
    return user.totp_pending_secret


def confirm_enrolment(user: User, step: int, by: Actor) -> list[str]:
    """Turn on two-factor sign-in with the pending secret; the new recovery codes, shown once."""
    if user.totp_pending_secret is None:
        raise ValueError("There is no secret waiting to be confirmed.")
    user.totp_secret = user.totp_pending_secret
    user.totp_pending_secret = None
    user.totp_last_step = step  # the confirming code cannot sign anyone in afterwards
    codes = replace_recovery_codes(user)
    record_event(by, "auth.two_factor_on", user, user.email, clinic_id=user.clinic_id)
    return codes


def replace_recovery_codes(user: User) -> list[str]:
    """Ten fresh recovery codes for the user (the old ones stop working); the plain codes."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=totp.hash_recovery_code(code)) for code in codes
    )
    db.session.flush()
    return codes


def claim_totp_step(user: User, step: int) -> bool:
    """Accept a code's time step once: False if it, or a later one, was accepted already."""
    result = db.session.execute(
        sa.update(User)
        .where(
            User.id == user.id,
            sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def use_recovery_code(user: User, code: str) -> bool:
    """Spend a recovery code: True once for each of the user's unused codes, then never again."""
    result = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == totp.hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def count_unused_recovery_codes(user_id: int) -> int:
    """How many of the user's recovery codes are left."""
    return db.session.execute(
        sa.select(sa.func.count()).where(
            RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
        )
    ).scalar_one()


def reset_two_factor(user: User, by: Actor) -> None:
    """Remove the user's second factor and recovery codes; their sessions end (audited)."""
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_last_step = None
    user.session_version += 1
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
    record_event(by, "auth.two_factor_reset", user, user.email, clinic_id=user.clinic_id)


def set_two_factor_required(clinic: Clinic, required: bool, by: Actor) -> None:
    """Require (or stop requiring) a second factor for every account of the clinic."""
    clinic.require_two_factor = required
    db.session.flush()
    record_event(by, "clinic.two_factor", clinic, "required" if required else "optional")
