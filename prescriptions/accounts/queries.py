"""Reads of clinics and their accounts."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import Clinic, User


def fetch_user_by_email(email: str) -> User | None:
    """The account with this email (any clinic), for signing in."""
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def fetch_clinic_by_name(name: str) -> Clinic | None:
    """The clinic with exactly this name."""
    return db.session.scalar(sa.select(Clinic).where(Clinic.name == name))


def fetch_clinics() -> list[Clinic]:
    """Every clinic, by name."""
    return list(db.session.scalars(sa.select(Clinic).order_by(Clinic.name)))


def fetch_users(clinic_id: int) -> list[User]:
    """The clinic's accounts, active first."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.clinic_id == clinic_id)
            .order_by(User.active.desc(), User.name)
        )
    )


def fetch_user(clinic_id: int, user_id: int) -> User | None:
    """One account of the clinic."""
    return db.session.scalar(sa.select(User).where(User.clinic_id == clinic_id, User.id == user_id))


def fetch_staff_names(clinic_id: int) -> dict[int, str]:
    """The names of the clinic's accounts (active or not), by id."""
    rows = db.session.execute(sa.select(User.id, User.name).where(User.clinic_id == clinic_id))
    return {row.id: row.name for row in rows}
